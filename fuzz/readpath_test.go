package fuzz

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/session"
)

// masked encodes one client frame for the seed corpus.
func masked(fin bool, rsv uint8, op frame.Opcode, payload string) []byte {
	h := frame.Header{Fin: fin, Rsv: rsv, Opcode: op, Masked: true, Mask: [4]byte{9, 8, 7, 6}, Length: int64(len(payload))}
	b := frame.AppendHeader(nil, h)
	start := len(b)
	b = append(b, payload...)
	frame.Mask(h.Mask, 0, b[start:])
	return b
}

func cat(frames ...[]byte) []byte {
	var b []byte
	for _, f := range frames {
		b = append(b, f...)
	}
	return b
}

// FuzzServerReadPath feeds arbitrary bytes to a server session over a real
// socket. Whatever the input, the session must not panic or hang, must end
// once the input ends, and everything it writes back must be well-formed
// unmasked frames whose close code, if any, is one a server may send: a
// failure code (1002, 1007, 1009) or an echo of a valid code.
func FuzzServerReadPath(f *testing.F) {
	f.Add(masked(true, 0, frame.OpText, "Hello"))
	f.Add(cat(masked(false, 0, frame.OpText, "Hel"), masked(true, 0, frame.OpPing, "p"), masked(true, 0, frame.OpContinuation, "lo")))
	f.Add(cat(masked(true, 0, frame.OpBinary, "\x00\x01"), masked(true, 0, frame.OpClose, "\x03\xe8bye")))
	f.Add(masked(true, 0, frame.OpText, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"))
	f.Add(masked(true, frame.Rsv1, frame.OpText, "x"))
	f.Add(masked(true, 0, frame.OpClose, "\x03"))
	f.Add(masked(true, 0, frame.OpClose, "\x03\xe8\xff"))
	f.Add([]byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4})
	f.Add([]byte{0x81, 0x05, 'H', 'e', 'l', 'l', 'o'})

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	defer l.Close()

	f.Fuzz(func(t *testing.T, input []byte) {
		client, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		nc, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		c := conn.New(nc, conn.Server, &conn.Config{MaxMessageSize: 64 << 10})
		c.Open(nil)
		s := session.New(c, &session.Options{CloseTimeout: time.Second, FragmentSize: 1000,
			OnMessage: func(s *session.Session, typ frame.Opcode, data []byte) {
				s.WriteMessage(context.Background(), typ, data)
			}})
		served := make(chan error, 1)
		go func() { served <- s.Serve(context.Background()) }()

		client.SetDeadline(time.Now().Add(10 * time.Second))
		go func() {
			client.Write(input)
			client.(*net.TCPConn).CloseWrite()
		}()
		out, err := io.ReadAll(client)
		if err != nil && !errors.Is(err, net.ErrClosed) && !isReset(err) {
			t.Fatalf("reading what the server wrote: %v", err)
		}
		select {
		case <-served:
		case <-time.After(10 * time.Second):
			t.Fatal("the session did not end after its input did")
		}
		checkServerOutput(t, out)
	})
}

func isReset(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && !oe.Timeout()
}

// checkServerOutput parses what a server wrote: unmasked, well-formed
// frames, nothing after a close frame, and an acceptable close code.
func checkServerOutput(t *testing.T, out []byte) {
	t.Helper()
	for len(out) > 0 {
		h, n, err := frame.ParseHeader(out)
		if err != nil || n == 0 {
			t.Fatalf("server wrote a malformed header %x: %v", out[:min(len(out), 14)], err)
		}
		if err := frame.CheckHeader(h, false, 0); err != nil {
			t.Fatalf("server wrote a frame that breaks the rules: %+v: %v", h, err)
		}
		if int64(len(out)-n) < h.Length {
			t.Fatalf("server wrote a truncated frame: %+v with %d bytes left", h, len(out)-n)
		}
		payload := out[n : n+int(h.Length)]
		out = out[n+int(h.Length):]
		if h.Opcode != frame.OpClose {
			continue
		}
		if len(payload) >= 2 {
			code := frame.StatusCode(binary.BigEndian.Uint16(payload))
			if !code.ValidOnWire() {
				t.Fatalf("server sent close code %d", code)
			}
		} else if len(payload) == 1 {
			t.Fatalf("server sent a one-byte close payload")
		}
		if len(out) > 0 {
			t.Fatalf("server wrote %d bytes after its close frame", len(out))
		}
	}
}
