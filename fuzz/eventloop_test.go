package fuzz

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/netpoll"
)

// FuzzEventLoopReadPath is a differential target: each input (the bytes a
// client sends after a valid opening handshake) goes to an echo Server in
// the goroutine mode and to one in the event-loop mode, and both must
// answer alike: the same bytes back (echoes, pongs, the close frame), so
// the same close code or none, and both end the connection. The servers
// are started once per process; every connection is bounded by deadlines
// and runs on loopback.
//
//	go test -run '^$' -fuzz FuzzEventLoopReadPath -fuzztime 1m ./fuzz
func FuzzEventLoopReadPath(f *testing.F) {
	longHeader := func(n uint64) []byte { // masked binary, 64-bit length n, no payload
		b := []byte{0x82, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}
		binary.BigEndian.PutUint64(b[2:10], n)
		return b
	}
	// Valid traffic.
	f.Add(masked(true, 0, frame.OpText, "Hello"))
	f.Add(cat(masked(true, 0, frame.OpText, ""), masked(true, 0, frame.OpBinary, "")))
	f.Add(cat(masked(false, 0, frame.OpText, "Hel"), masked(true, 0, frame.OpPing, "p"), masked(true, 0, frame.OpContinuation, "lo")))
	f.Add(cat(masked(false, 0, frame.OpBinary, "\x00\x01"), masked(false, 0, frame.OpContinuation, ""), masked(true, 0, frame.OpContinuation, "\x02")))
	f.Add(cat(masked(true, 0, frame.OpBinary, strings.Repeat("b", 3000)), masked(true, 0, frame.OpClose, "\x03\xe8bye")))
	f.Add(cat(masked(true, 0, frame.OpPing, strings.Repeat("p", 125)), masked(true, 0, frame.OpPong, "unsolicited")))
	f.Add(masked(true, 0, frame.OpText, "κόσμε"+strings.Repeat("✓", 40)))
	f.Add(cat(masked(true, 0, frame.OpClose, ""), masked(true, 0, frame.OpText, "after close")))
	// Invalid: UTF-8, opcodes, control frames, lengths, masking, RSV.
	f.Add(masked(true, 0, frame.OpText, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"))
	f.Add(cat(masked(false, 0, frame.OpText, "a\xed"), masked(true, 0, frame.OpContinuation, "\xa0\x80")))
	f.Add(masked(true, 0, 3, "x"))
	f.Add(masked(true, 0, 11, ""))
	f.Add(masked(true, 0, frame.OpPing, strings.Repeat("x", 126)))
	f.Add(masked(false, 0, frame.OpPing, "x"))
	f.Add(masked(true, 0, frame.OpContinuation, "x"))
	f.Add(masked(true, 0, frame.OpClose, "\x03"))
	f.Add(masked(true, 0, frame.OpClose, "\x03\xed"))
	f.Add(masked(true, 0, frame.OpClose, "\x03\xe8\xff"))
	f.Add(masked(true, frame.Rsv1, frame.OpText, "x"))
	f.Add(longHeader(1 << 63))
	f.Add(longHeader(1 << 20)) // over the 64 KiB limit
	f.Add(append(longHeader(100), "short"...))
	f.Add([]byte{0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}) // unmasked
	f.Add(cat(masked(true, 0, frame.OpText, "ok"), masked(true, 0, frame.OpText, "ok")[:4]))

	if err := loopsAvailable(); err != nil {
		f.Skipf("no event loops here: %v", err)
	}
	servers := map[websocket.IOMode]string{}
	for _, mode := range []websocket.IOMode{websocket.IOGoroutine, websocket.IOEventLoop} {
		servers[mode] = startEchoServer(f, mode)
	}

	f.Fuzz(func(t *testing.T, input []byte) {
		g, gerr := exchange(servers[websocket.IOGoroutine], input)
		if gerr != nil {
			t.Fatalf("goroutine mode: %v", gerr)
		}
		e, eerr := exchange(servers[websocket.IOEventLoop], input)
		if eerr != nil {
			t.Fatalf("event-loop mode: %v", eerr)
		}
		checkServerOutput(t, g)
		if !bytes.Equal(g, e) {
			t.Fatalf("the modes answer differently to %x:\ngoroutine: %s\neventloop: %s", input, describe(g), describe(e))
		}
	})
}

func loopsAvailable() error {
	ls := &netpoll.Loops{N: 1}
	if err := ls.Start(); err != nil {
		return err
	}
	return ls.Close()
}

// startEchoServer starts a push-style echo Server in mode on loopback, shut
// down when f ends. Both modes get the same options.
func startEchoServer(f *testing.F, mode websocket.IOMode) string {
	f.Helper()
	srv := &websocket.Server{IO: mode, Loops: 1}
	srv.Options.MaxMessageSize = 64 << 10
	srv.Options.FragmentSize = 1000
	srv.Options.CloseTimeout = time.Second
	srv.Options.HandshakeTimeout = 5 * time.Second
	srv.Options.OnMessage = func(c *websocket.Conn, typ websocket.MessageType, data []byte) {
		c.WriteMessage(context.Background(), typ, data)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-served
	})
	return l.Addr().String()
}

// exchange opens a WebSocket connection to addr, sends input and the end
// of its stream, and returns everything the server sent after its 101,
// until it closed the connection.
func exchange(addr string, input []byte) ([]byte, error) {
	// The server closes first, so each exchange leaves a TIME-WAIT entry
	// for its address pair; at thousands of exchanges a second the ports
	// of one source address run out (and a SYN that meets such an entry
	// waits for a retransmission). Source addresses across 127.1.0.0/16,
	// all loopback, keep the pairs fresh.
	n := srcSeq.Add(1)
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 1, byte(n>>8), byte(n))}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	const req = "GET / HTTP/1.1\r\nHost: fuzz\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		return nil, err
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, fmt.Errorf("reading the 101: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return nil, fmt.Errorf("handshake: status %d", resp.StatusCode)
	}
	wrote := make(chan error, 1)
	go func() {
		_, err := nc.Write(input)
		nc.(*net.TCPConn).CloseWrite()
		wrote <- err
	}()
	out, err := io.ReadAll(br)
	<-wrote // a write cut short by the server's close is fine
	if err != nil && !isReset(err) {
		return out, fmt.Errorf("reading what the server wrote: %w", err)
	}
	return out, nil
}

var srcSeq atomic.Uint32

// describe lists the frames in out, for a failure message.
func describe(out []byte) string {
	var b strings.Builder
	for len(out) > 0 {
		h, n, err := frame.ParseHeader(out)
		if err != nil || n == 0 || int64(len(out)-n) < h.Length {
			fmt.Fprintf(&b, "[%d bytes left: %x]", len(out), out[:min(len(out), 16)])
			break
		}
		p := out[n : n+int(h.Length)]
		out = out[n+int(h.Length):]
		fmt.Fprintf(&b, "[%v fin=%v %d bytes", h.Opcode, h.Fin, len(p))
		if h.Opcode == frame.OpClose && len(p) >= 2 {
			fmt.Fprintf(&b, " code %d", binary.BigEndian.Uint16(p))
		} else if len(p) <= 16 {
			fmt.Fprintf(&b, " %q", p)
		}
		b.WriteString("] ")
	}
	if b.Len() == 0 {
		return "nothing"
	}
	return b.String()
}
