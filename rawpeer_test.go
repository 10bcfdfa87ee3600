package websocket_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/frame"
)

// A raw peer speaks bytes to the code under test, so that tests can send
// what no well-behaved library would.

const testKey = "dGhlIHNhbXBsZSBub25jZQ=="

// acceptKey is the Sec-WebSocket-Accept value a server owes a client that
// sent key (RFC 6455 §4.2.2), computed here from its definition.
func acceptKey(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// RSV2 and RSV3 as they appear in frame.Header.Rsv; no extension uses them,
// so frame names only RSV1.
const (
	rsv2 uint8 = 0x2
	rsv3 uint8 = 0x1
)

// startServer runs a Server with handler on a loopback port and returns its
// address; the server is shut down at the end of the test.
func startServer(t *testing.T, srv *websocket.Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, websocket.ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return l.Addr().String()
}

// echoHandler echoes every message.
func echoHandler(c *websocket.Conn, _ *websocket.Request) {
	ctx := context.Background()
	for {
		typ, data, err := c.ReadMessage(ctx)
		if err != nil {
			return
		}
		if err := c.WriteMessage(ctx, typ, data); err != nil {
			return
		}
	}
}

func upgradeRequest(addr string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "GET /chat HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", addr)
	fmt.Fprintf(&b, "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", testKey)
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

type rawPeer struct {
	t      *testing.T
	nc     net.Conn
	br     *bufio.Reader
	masked bool // a client-side raw peer masks its frames
}

// dialRaw connects to addr and completes the opening handshake.
func dialRaw(t *testing.T, addr string) *rawPeer {
	t.Helper()
	p := connectRaw(t, addr)
	resp := p.request(upgradeRequest(addr))
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: status %d", resp.StatusCode)
	}
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), acceptKey(testKey); got != want {
		t.Fatalf("Sec-WebSocket-Accept = %q, want %q", got, want)
	}
	return p
}

func connectRaw(t *testing.T, addr string) *rawPeer {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawPeer{t: t, nc: nc, br: bufio.NewReader(nc), masked: true}
}

// request sends a raw request and reads the response head.
func (p *rawPeer) request(req string) *http.Response {
	p.t.Helper()
	if _, err := io.WriteString(p.nc, req); err != nil {
		p.t.Fatal(err)
	}
	resp, err := http.ReadResponse(p.br, nil)
	if err != nil {
		p.t.Fatalf("reading the response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		io.Copy(io.Discard, resp.Body)
	}
	return resp
}

// send writes one frame; the mask is applied when the peer masks.
func (p *rawPeer) send(fin bool, rsv uint8, op frame.Opcode, payload []byte) {
	p.t.Helper()
	h := frame.Header{Fin: fin, Rsv: rsv, Opcode: op, Length: int64(len(payload)), Masked: p.masked}
	if p.masked {
		h.Mask = [4]byte{0x37, 0xfa, 0x21, 0x3d}
	}
	b := frame.AppendHeader(nil, h)
	start := len(b)
	b = append(b, payload...)
	if p.masked {
		frame.Mask(h.Mask, 0, b[start:])
	}
	p.write(b)
}

func (p *rawPeer) write(b []byte) {
	p.t.Helper()
	if _, err := p.nc.Write(b); err != nil {
		p.t.Fatalf("write: %v", err)
	}
}

// next reads one frame.
func (p *rawPeer) next() (frame.Header, []byte, error) {
	h, err := readHeader(p.br)
	if err != nil {
		return h, nil, err
	}
	payload := make([]byte, h.Length)
	if _, err := io.ReadFull(p.br, payload); err != nil {
		return h, nil, err
	}
	if h.Masked {
		frame.Mask(h.Mask, 0, payload)
	}
	return h, payload, nil
}

// readHeader reads one frame header from r a byte at a time, so that it
// reads nothing past the header.
func readHeader(r io.Reader) (frame.Header, error) {
	var b [frame.MaxHeaderSize]byte
	for n := 0; ; {
		if _, err := io.ReadFull(r, b[n:n+1]); err != nil {
			if n > 0 && err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return frame.Header{}, err
		}
		n++
		if h, m, err := frame.ParseHeader(b[:n]); err != nil || m > 0 {
			return h, err
		}
	}
}

// expectClose reads frames until a close frame, checks its code, and then
// checks that the other end closes the TCP connection.
func (p *rawPeer) expectClose(want frame.StatusCode) {
	p.t.Helper()
	p.expectFrameClose(want)
	p.expectEOF()
}

// expectFrameClose reads frames until a close frame and checks its code,
// without waiting for the end of the connection.
func (p *rawPeer) expectFrameClose(want frame.StatusCode) {
	p.t.Helper()
	for {
		h, payload, err := p.next()
		if err != nil {
			p.t.Fatalf("waiting for close %d: %v", want, err)
		}
		if h.Opcode != frame.OpClose {
			continue
		}
		if len(payload) < 2 {
			p.t.Fatalf("close frame without a code (payload %x), want %d", payload, want)
		}
		if got := frame.StatusCode(binary.BigEndian.Uint16(payload)); got != want {
			p.t.Fatalf("close code %d (%q), want %d", got, payload[2:], want)
		}
		return
	}
}

// expectEOF checks that the other end closes the TCP connection.
func (p *rawPeer) expectEOF() {
	p.t.Helper()
	for {
		_, _, err := p.next()
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || isReset(err) {
			return
		}
		p.t.Fatalf("want the connection closed, got %v", err)
	}
}

func isReset(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && !oe.Timeout()
}

// expectMessage reads one data message of one frame.
func (p *rawPeer) expectFrame(op frame.Opcode, payload []byte) {
	p.t.Helper()
	h, got, err := p.next()
	if err != nil {
		p.t.Fatalf("want a %v frame: %v", op, err)
	}
	if h.Opcode != op || !bytes.Equal(got, payload) {
		p.t.Fatalf("got %v frame %q, want %v frame %q", h.Opcode, got, op, payload)
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// rawServer accepts one WebSocket client and runs a script against it.
type rawServer struct {
	addr string
	done chan struct{}
}

func newRawServer(t *testing.T, script func(p *rawPeer)) *rawServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{addr: l.Addr().String(), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer l.Close()
		nc, err := l.Accept()
		if err != nil {
			t.Error(err)
			return
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		p := &rawPeer{t: t, nc: nc, br: bufio.NewReader(nc)}
		req, err := http.ReadRequest(p.br)
		if err != nil {
			t.Error(err)
			return
		}
		fmt.Fprintf(nc, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			acceptKey(req.Header.Get("Sec-WebSocket-Key")))
		script(p)
	}()
	t.Cleanup(func() { l.Close(); <-s.done })
	return s
}

func (s *rawServer) wait() { <-s.done }
