package interop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rfc6455/websocket"
)

// The scenario; peers/scenario.mjs and peers/scenario.py must agree.
const (
	closeCode     = websocket.StatusCode(4000)
	closeReason   = "bye"
	fragmentUnit  = "fragmented ✓ é 🚀 " // 1-, 2-, 3- and 4-byte UTF-8
	fragmentCount = 10000
	// fragmentSize is our frame size (Options.FragmentSize) and the peers'
	// where their API cuts bytes. 100,000 = 23·4347 + 19 puts the first edge
	// inside the 4-byte 🚀, and it is above 65,535, so frames carry 64-bit
	// lengths.
	fragmentSize = 100000
	bigSize      = 1 << 20
)

type message struct {
	name string
	typ  websocket.MessageType
	data []byte
}

// scenario returns the five messages each side sends, in order.
func scenario() []message {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	big := make([]byte, bigSize)
	for i := range big {
		big[i] = byte(i % 251) // a prime period, so no 256-byte pattern hides a shift
	}
	return []message{
		{"text", websocket.TextMessage, []byte("hello, interop ✓ é 🚀")},
		{"binary", websocket.BinaryMessage, all},
		{"empty", websocket.TextMessage, []byte{}},
		{"1MiB", websocket.BinaryMessage, big},
		{"fragmented", websocket.TextMessage, []byte(strings.Repeat(fragmentUnit, fragmentCount))},
	}
}

func TestScenarioShape(t *testing.T) {
	// The constants' comments make claims; hold them to it.
	frag := scenario()[4].data
	if len(frag) != 230000 {
		t.Errorf("fragmented message is %d bytes, want 230000", len(frag))
	}
	if utf8.RuneStart(frag[fragmentSize]) {
		t.Errorf("byte %d starts a code point; the first frame edge should cut one", fragmentSize)
	}
	if fragmentSize <= 65535 {
		t.Errorf("fragmentSize %d does not need a 64-bit length", fragmentSize)
	}
}

// options are our side's settings in every pair: frames of fragmentSize, so
// the 1 MiB message goes in 11 frames and the fragmented one in 3.
func options() websocket.Options {
	// The scenarios' largest messages are about 1 MiB, some a little
	// past the default limit.
	return websocket.Options{FragmentSize: fragmentSize, MaxMessageSize: 2 << 20}
}

// sendAll sends msgs (a scenario's messages); the last goes through
// NextWriter in small writes, which the writer gathers into fragmentSize
// frames.
func sendAll(ctx context.Context, c *websocket.Conn, msgs []message) error {
	for _, m := range msgs[:len(msgs)-1] {
		if err := c.WriteMessage(ctx, m.typ, m.data); err != nil {
			return fmt.Errorf("send %s: %w", m.name, err)
		}
	}
	last := msgs[len(msgs)-1]
	w, err := c.NextWriter(ctx, last.typ)
	if err != nil {
		return fmt.Errorf("send %s: %w", last.name, err)
	}
	for p := last.data; len(p) > 0; {
		n := min(len(p), 4093) // an odd size: writes and frames do not line up
		if _, err := w.Write(p[:n]); err != nil {
			return fmt.Errorf("send %s: %w", last.name, err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("send %s: %w", last.name, err)
	}
	return nil
}

// readAll reads msgs (a scenario's messages) and returns what was wrong.
func readAll(ctx context.Context, c *websocket.Conn, msgs []message) []string {
	var failures []string
	for _, want := range msgs {
		typ, data, err := c.ReadMessage(ctx)
		if err != nil {
			return append(failures, fmt.Sprintf("read %s: %v", want.name, err))
		}
		if f := compare(want, typ, data); f != "" {
			failures = append(failures, f)
		}
	}
	return failures
}

func compare(want message, typ websocket.MessageType, data []byte) string {
	if typ != want.typ {
		return fmt.Sprintf("%s: got a %v message, want %v", want.name, typ, want.typ)
	}
	if !bytes.Equal(data, want.data) {
		i := 0
		for i < min(len(data), len(want.data)) && data[i] == want.data[i] {
			i++
		}
		return fmt.Sprintf("%s: %d bytes, want %d; first difference at byte %d", want.name, len(data), len(want.data), i)
	}
	return ""
}

// checkClose checks that err reports the scenario's close, 4000 "bye", as
// the side that did not start the close handshake sees it.
func checkClose(err error) string {
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		return fmt.Sprintf("close: got %v, want a CloseError %d %q", err, closeCode, closeReason)
	}
	if ce.Code != closeCode || ce.Reason != closeReason {
		return fmt.Sprintf("close: got %d %q, want %d %q", ce.Code, ce.Reason, closeCode, closeReason)
	}
	return ""
}

// serveScenario is our server's side: send msgs while reading the client's,
// then expect the client's close (which the library answers with the same
// code).
func serveScenario(ctx context.Context, c *websocket.Conn, msgs []message) []string {
	sent := make(chan error, 1)
	go func() { sent <- sendAll(ctx, c, msgs) }()
	failures := readAll(ctx, c, msgs)
	if len(failures) > 0 {
		c.CloseNow() // unblock the sender
	} else {
		_, _, err := c.ReadMessage(ctx)
		if f := checkClose(err); f != "" {
			failures = append(failures, f)
		}
	}
	if err := <-sent; err != nil {
		failures = append(failures, err.Error())
	}
	return failures
}

// clientScenario is our client's side: send and read msgs, then close with
// 4000 "bye" and expect the server to echo it.
func clientScenario(ctx context.Context, c *websocket.Conn, msgs []message) []string {
	sent := make(chan error, 1)
	go func() { sent <- sendAll(ctx, c, msgs) }()
	failures := readAll(ctx, c, msgs)
	if err := <-sent; err != nil {
		failures = append(failures, err.Error())
	}
	if len(failures) > 0 {
		c.CloseNow()
		return failures
	}
	if err := c.Close(closeCode, closeReason); err != nil {
		failures = append(failures, fmt.Sprintf("close: %v", err))
	}
	// RFC 6455 §5.5.1: the answer typically echoes the code; its reason is
	// the server's own, so only the code is checked.
	var ce *websocket.CloseError
	if err := c.Err(); !errors.As(err, &ce) || ce.Code != closeCode {
		failures = append(failures, fmt.Sprintf("close: server answered %v, want code %d", err, closeCode))
	}
	return failures
}

// checkFrames checks, from our side's counters, that the peer's fragmented
// message really came in several frames: 5 messages + 2 continuation frames
// + 1 close frame at least.
func checkFrames(t *testing.T, c *websocket.Conn, peerFragments bool) {
	t.Helper()
	st := c.Stats()
	t.Logf("our side: frames in %d, out %d; messages in %d, out %d; bytes in %d, out %d",
		st.FramesIn, st.FramesOut, st.MessagesIn, st.MessagesOut, st.BytesIn, st.BytesOut)
	if peerFragments && st.FramesIn < 8 {
		t.Errorf("peer sent %d frames; a fragmented message needs at least 8 in all", st.FramesIn)
	}
	// 1+1+1+11+3 data frames and a close frame.
	if st.FramesOut < 18 {
		t.Errorf("we sent %d frames, want at least 18 with FragmentSize %d", st.FramesOut, fragmentSize)
	}
}

// TestScenariosAgree holds peers/scenario.mjs and peers/scenario.py to the
// messages the Go side builds: name, type and SHA-256 of every message of
// both scenarios, so that a change made in one place only fails here, not
// as a puzzling mismatch in some pair.
func TestScenariosAgree(t *testing.T) {
	var want strings.Builder
	for _, s := range []struct {
		name string
		msgs []message
	}{{"plain", scenario()}, {"deflate", deflateScenario()}} {
		for _, m := range s.msgs {
			kind := "text"
			if m.typ == websocket.BinaryMessage {
				kind = "binary"
			}
			fmt.Fprintf(&want, "%s %s %s %x\n", s.name, m.name, kind, sha256.Sum256(m.data))
		}
	}
	const js = `import { messages } from "./scenario.mjs";
import { createHash } from "node:crypto";
for (const s of ["plain", "deflate"])
	for (const m of messages(s))
		console.log(s, m.name, m.binary ? "binary" : "text", createHash("sha256").update(m.data).digest("hex"));`
	const py = `import hashlib, scenario
for s in ("plain", "deflate"):
    for n, p in scenario.messages(s):
        b = p if isinstance(p, bytes) else p.encode()
        print(s, n, "binary" if isinstance(p, bytes) else "text", hashlib.sha256(b).hexdigest())`
	for _, lang := range []struct {
		name string
		argv func() []string
	}{
		{"scenario.mjs", func() []string { return []string{needNode(t, "node"), "--input-type=module", "-e", js} }},
		{"scenario.py", func() []string { return []string{needPython(t, "python", "hashlib"), "-c", py} }},
	} {
		t.Run(lang.name, func(t *testing.T) {
			argv := lang.argv()
			ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
			cmd.Dir = peersDir(t)
			cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%v: %v", argv[:1], err)
			}
			if string(out) != want.String() {
				t.Errorf("%s builds other messages than the Go side.\ngot:\n%s\nwant:\n%s", lang.name, out, want.String())
			}
		})
	}
}
