package websocket_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rfc6455/websocket/internal/testutil"

	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/netpoll"
	"github.com/rfc6455/websocket/pool"
)

// The Server's push style (no Handler, Options.OnMessage) in both I/O
// modes. Every test here runs once per mode with the same assertions:
// what a peer sees on the wire, and what the application sees, must not
// depend on whether goroutines or event loops serve the connections. Tests
// of what only the event loops promise (no goroutine per waiting
// connection) assert it for IOEventLoop and log the goroutine mode's
// figure for contrast.

// ioModes are the modes every test here runs in.
var ioModes = []websocket.IOMode{websocket.IOGoroutine, websocket.IOEventLoop}

var loopsProbe = sync.OnceValue(func() error {
	ls := &netpoll.Loops{N: 1}
	if err := ls.Start(); err != nil {
		return err
	}
	return ls.Close()
})

// forEachMode runs f as a subtest per I/O mode. Where event loops do not
// exist (not Linux), the IOEventLoop subtest is skipped: the Server would
// fall back to goroutines, and the test would run the goroutine mode twice.
func forEachMode(t *testing.T, f func(t *testing.T, mode websocket.IOMode)) {
	t.Helper()
	for _, mode := range ioModes {
		t.Run(mode.String(), func(t *testing.T) {
			if mode == websocket.IOEventLoop {
				if err := loopsProbe(); err != nil {
					t.Skipf("no event loops here (%v): the server would use goroutines", err)
				}
			}
			f(t, mode)
		})
	}
}

// echoPush is the push-style echo.
func echoPush(c *websocket.Conn, typ websocket.MessageType, data []byte) {
	c.WriteMessage(context.Background(), typ, data)
}

// startPush starts a push-style Server in mode on a fresh loopback
// listener; setup may change it before it serves (OnMessage defaults to
// echoPush). See startPushOn.
func startPush(t *testing.T, mode websocket.IOMode, setup func(*websocket.Server)) (*websocket.Server, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return startPushOn(t, mode, l, setup)
}

// startPushOn starts the push-style Server on l and shuts it down at the
// end of the test. Every message is checked to be served the way mode
// says (websocket.Evented), so that a silent fallback to goroutines cannot
// pass for the event loops.
func startPushOn(t *testing.T, mode websocket.IOMode, l net.Listener, setup func(*websocket.Server)) (*websocket.Server, string) {
	t.Helper()
	srv := &websocket.Server{IO: mode}
	srv.Options.OnMessage = echoPush
	if setup != nil {
		setup(srv)
	}
	want := mode == websocket.IOEventLoop
	var wrong atomic.Int32
	if f := srv.Options.OnMessage; f != nil {
		srv.Options.OnMessage = func(c *websocket.Conn, typ websocket.MessageType, data []byte) {
			if websocket.Evented(c) != want {
				wrong.Add(1)
			}
			f(c, typ, data)
		}
	}
	t.Cleanup(func() { // runs after the Shutdown below
		if n := wrong.Load(); n > 0 {
			t.Errorf("%d messages served with Evented() != %v in mode %v", n, want, mode)
		}
	})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		// Serve's return is not waited for here: in the event-loop mode
		// it takes up to half a second (see TestLoopServerServeReturns),
		// which every test would pay. TestMain's leak check fails the
		// run if it never returns.
		select {
		case err := <-served:
			if !errors.Is(err, websocket.ErrServerClosed) {
				t.Errorf("Serve returned %v, want ErrServerClosed", err)
			}
		default:
		}
	})
	return srv, l.Addr().String()
}

// The kernel buffers' size in the tests of peers that do not read, so that
// what piles up does so in the library, not in the kernel: SO_SNDBUF on
// the listener (accepted sockets inherit it) and SO_RCVBUF on the client
// before it connects (which also stops autotuning).
const smallSockBuf = 8 << 10

// listenSmall listens on loopback; accepted sockets get a small send buffer.
func listenSmall(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := l.(*net.TCPListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	rc.Control(func(fd uintptr) {
		err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, smallSockBuf)
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// dialRawSmall is dialRaw with a small receive buffer: a peer that does not
// read stops the server's bytes early.
func dialRawSmall(t *testing.T, addr string) *rawPeer {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var err error
		rc.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, smallSockBuf)
		})
		return err
	}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(60 * time.Second)) // generous: a loaded machine may starve the server for seconds
	p := &rawPeer{t: t, nc: nc, br: bufio.NewReader(nc), masked: true}
	if resp := p.request(upgradeRequest(addr)); resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: status %d", resp.StatusCode)
	}
	return p
}

// maskedFrame encodes one client frame (mask 37 fa 21 3d).
func maskedFrame(fin bool, rsv uint8, op frame.Opcode, payload []byte) []byte {
	h := frame.Header{Fin: fin, Rsv: rsv, Opcode: op, Length: int64(len(payload)), Masked: true, Mask: [4]byte{0x37, 0xfa, 0x21, 0x3d}}
	b := frame.AppendHeader(nil, h)
	start := len(b)
	b = append(b, payload...)
	frame.Mask(h.Mask, 0, b[start:])
	return b
}

// seqPayload returns n bytes that tell message seq apart from others.
func seqPayload(n, seq int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + seq*13 + i>>8)
	}
	return b
}

// serverConn returns the only connection the server has open.
func serverConn(t *testing.T, srv *websocket.Server) *websocket.Conn {
	t.Helper()
	waitFor(t, func() bool { return srv.Len() == 1 })
	var c *websocket.Conn
	srv.Range(func(s *websocket.Conn) bool { c = s; return false })
	if c == nil {
		t.Fatal("no server connection")
	}
	return c
}

// openFDs counts the process's open descriptors (0 where /proc is missing).
func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(ents)
}

// closeCh delivers OnClose errors without blocking the session.
func closeCh() (chan error, func(*websocket.Conn, error)) {
	ch := make(chan error, 16)
	return ch, func(_ *websocket.Conn, err error) {
		select {
		case ch <- err:
		default:
		}
	}
}

func recvErr(t *testing.T, ch <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: nothing within 5s", what)
		return nil
	}
}

// ---------------------------------------------------------------------------
// Echo, framing and the opening handshake

// TestLoopServerEchoSizes: messages across the length encodings (7-bit,
// 16-bit, 64-bit), up to 16 MiB (in the event-loop mode only: once is
// enough), come back byte for byte.
func TestLoopServerEchoSizes(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		// Past the default limit (1 MiB) both ways.
		limit := websocket.Options{MaxMessageSize: 16 << 20}
		_, addr := startPush(t, mode, func(s *websocket.Server) { s.Options.Options.MaxMessageSize = limit.MaxMessageSize })
		ctx := testTimeout(t)
		c, err := websocket.Dial(ctx, "ws://"+addr, &websocket.DialOptions{Options: limit})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		sizes := []int{0, 125, 126, 65535, 65536, 64 << 10, 1 << 20}
		if mode == websocket.IOEventLoop {
			sizes = append(sizes, 16<<20)
		}
		for i, n := range sizes {
			typ, msg := websocket.BinaryMessage, seqPayload(n, i)
			if i%2 == 0 {
				typ, msg = websocket.TextMessage, bytes.Repeat([]byte("é✓a"), n/6+1)[:n/6*6]
			}
			if err := c.WriteMessage(ctx, typ, msg); err != nil {
				t.Fatalf("%d bytes: %v", len(msg), err)
			}
			gt, got, err := c.ReadMessage(ctx)
			if err != nil {
				t.Fatalf("%d bytes: %v", len(msg), err)
			}
			if gt != typ || !bytes.Equal(got, msg) {
				t.Fatalf("%d-byte %v message came back as %d-byte %v (equal: %v)", len(msg), typ, len(got), gt, bytes.Equal(got, msg))
			}
		}
		if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
			t.Fatal(err)
		}
	})
}

// TestLoopServerSlowBytes: frames that arrive one byte at a time, so that
// every read ends inside a header, an extended length, a mask key, a data
// payload or a control payload (a 125-byte ping in the middle of a
// fragmented message), are served as if they came whole.
func TestLoopServerSlowBytes(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		_, addr := startPush(t, mode, nil)
		p := dialRaw(t, addr)
		trickle := func(b []byte) {
			for i := range b {
				p.write(b[i : i+1])
				time.Sleep(100 * time.Microsecond)
			}
		}
		trickle(maskedFrame(true, 0, frame.OpText, []byte("Hello")))
		p.expectFrame(frame.OpText, []byte("Hello"))

		ping := seqPayload(125, 1)
		trickle(maskedFrame(false, 0, frame.OpBinary, []byte{1, 2}))
		trickle(maskedFrame(true, 0, frame.OpPing, ping))
		trickle(maskedFrame(true, 0, frame.OpContinuation, []byte{3}))
		p.expectFrame(frame.OpPong, ping)
		p.expectFrame(frame.OpBinary, []byte{1, 2, 3})

		long := seqPayload(300, 2) // 0x82 0xfe 0x01 0x2c: a 16-bit length
		trickle(maskedFrame(true, 0, frame.OpBinary, long))
		p.expectFrame(frame.OpBinary, long)

		trickle(maskedFrame(true, 0, frame.OpClose, []byte{0x03, 0xe8}))
		p.expectFrame(frame.OpClose, []byte{0x03, 0xe8})
		p.expectEOF()
	})
}

// TestLoopServerPipelined: a thousand messages in one write, some of them
// fragmented, come back complete and in order.
func TestLoopServerPipelined(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		_, addr := startPush(t, mode, nil)
		p := dialRaw(t, addr)
		const n = 1000
		var all []byte
		for i := range n {
			msg := fmt.Appendf(nil, "message %d %s", i, strings.Repeat("x", i%50))
			if i%10 == 9 { // in three frames
				a, b := len(msg)/3, 2*len(msg)/3
				all = append(all, maskedFrame(false, 0, frame.OpText, msg[:a])...)
				all = append(all, maskedFrame(false, 0, frame.OpContinuation, msg[a:b])...)
				all = append(all, maskedFrame(true, 0, frame.OpContinuation, msg[b:])...)
			} else {
				all = append(all, maskedFrame(true, 0, frame.OpText, msg)...)
			}
		}
		p.write(all)
		for i := range n {
			want := fmt.Appendf(nil, "message %d %s", i, strings.Repeat("x", i%50))
			p.expectFrame(frame.OpText, want)
		}
	})
}

// TestLoopServerHandshakeByteByByte: an opening handshake that arrives one
// byte at a time is answered once whole, and the connection then works.
func TestLoopServerHandshakeByteByByte(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		srv, addr := startPush(t, mode, nil)
		p := connectRaw(t, addr)
		req := []byte(upgradeRequest(addr, "Origin: http://"+addr, "Sec-WebSocket-Protocol: chat"))
		for i := range req {
			p.write(req[i : i+1])
			time.Sleep(100 * time.Microsecond)
		}
		resp, err := http.ReadResponse(p.br, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("status %d, want 101", resp.StatusCode)
		}
		if got, want := resp.Header.Get("Sec-WebSocket-Accept"), acceptKey(testKey); got != want {
			t.Fatalf("Sec-WebSocket-Accept = %q, want %q", got, want)
		}
		if srv.Len() != 1 {
			waitFor(t, func() bool { return srv.Len() == 1 })
		}
		p.send(true, 0, frame.OpText, []byte("after a slow handshake"))
		p.expectFrame(frame.OpText, []byte("after a slow handshake"))
	})
}

// TestLoopServerEarlyFrames: frames sent in the same write as the request
// (before the 101) are served, and so is a frame cut by the end of that
// write.
func TestLoopServerEarlyFrames(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		_, addr := startPush(t, mode, nil)
		t.Run("whole frames", func(t *testing.T) { testEarlyFrames(t, addr) })
		t.Run("cut frame", func(t *testing.T) {
			p := connectRaw(t, addr)
			// The request, a ping (7-byte control frame: 0x89 0x81 key 'p'),
			// and the first 3 bytes of the RFC's masked "Hello".
			b := []byte(upgradeRequest(addr))
			b = append(b, maskedFrame(true, 0, frame.OpPing, []byte("p"))...)
			b = append(b, helloFrame[:3]...)
			if resp := p.request(string(b)); resp.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("status %d, want 101", resp.StatusCode)
			}
			p.expectFrame(frame.OpPong, []byte("p"))
			time.Sleep(20 * time.Millisecond)
			p.write(helloFrame[3:])
			p.expectFrame(frame.OpText, []byte("Hello"))
		})
	})
}

// TestLoopServerRefusals: bad opening requests get the same HTTP status in
// both modes (400, 403, 426, 431), then the end of the connection; none of
// them counts as a connection.
func TestLoopServerRefusals(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		srv, addr := startPush(t, mode, func(s *websocket.Server) { s.Options.MaxHeaderBytes = 1024 })
		good := upgradeRequest(addr)
		tests := []struct {
			name   string
			req    string
			status int
			header [2]string // a header the response must carry
		}{
			{"garbage", "hello\r\n\r\n", 400, [2]string{}},
			{"POST", strings.Replace(good, "GET", "POST", 1), 400, [2]string{}},
			{"HTTP/1.0", strings.Replace(good, "HTTP/1.1", "HTTP/1.0", 1), 400, [2]string{}},
			{"no Upgrade", strings.Replace(good, "Upgrade: websocket\r\n", "", 1), 400, [2]string{}},
			{"no Connection token", strings.Replace(good, "Connection: Upgrade", "Connection: keep-alive", 1), 400, [2]string{}},
			{"key not 16 bytes", strings.Replace(good, testKey, "c2hvcnQ=", 1), 400, [2]string{}},
			{"version 8", strings.Replace(good, "Version: 13", "Version: 8", 1), 426, [2]string{"Sec-WebSocket-Version", "13"}},
			{"cross origin", upgradeRequest(addr, "Origin: https://evil.example"), 403, [2]string{}},
			{"headers too large", upgradeRequest(addr, "X-Big: "+strings.Repeat("a", 2000)), 431, [2]string{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p := connectRaw(t, addr)
				resp := p.request(tt.req)
				if resp.StatusCode != tt.status {
					t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
				}
				if k := tt.header[0]; k != "" && resp.Header.Get(k) != tt.header[1] {
					t.Errorf("%s: %q, want %q", k, resp.Header.Get(k), tt.header[1])
				}
				p.expectEOF()
			})
		}
		if n := srv.Len(); n != 0 {
			t.Errorf("Len() = %d after refused requests only", n)
		}
	})
}

// TestServerEndlessHeadPastMaxHeaderBytes: a request head that passes
// MaxHeaderBytes is refused with 431 as soon as it does, even if its line
// has not ended (here: 2000 bytes of one header line, limit 1024). (It
// caught the goroutine mode, handshake.readHead, checking the limit only
// at the end of a line or of its 4 KiB buffer: a client that stopped inside
// a long line got no 431, only the end of the connection at
// HandshakeTimeout.)
func TestServerEndlessHeadPastMaxHeaderBytes(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		_, addr := startPush(t, mode, func(s *websocket.Server) { s.Options.MaxHeaderBytes = 1024 })
		p := connectRaw(t, addr)
		p.write([]byte("GET / HTTP/1.1\r\nX-Long: " + strings.Repeat("a", 2000)))
		p.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
		resp, err := http.ReadResponse(p.br, nil)
		if err != nil {
			t.Fatalf("no response within 2s to a head past the limit: %v", err)
		}
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("status %d, want 431", resp.StatusCode)
		}
		io.Copy(io.Discard, resp.Body)
		p.expectEOF()
	})
}

// TestLoopServerConnectionLimit: past MaxConnections a client gets 503 with
// Retry-After; once a connection ends, a new one is let in.
func TestLoopServerConnectionLimit(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		_, addr := startPush(t, mode, func(s *websocket.Server) { s.MaxConnections = 2 })
		first := dialRaw(t, addr)
		dialRaw(t, addr)
		p := connectRaw(t, addr)
		resp := p.request(upgradeRequest(addr))
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
			t.Fatalf("third connection: status %d, Retry-After %q; want 503, 1", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		p.expectEOF()
		first.send(true, 0, frame.OpClose, []byte{0x03, 0xe8})
		first.expectClose(frame.StatusNormalClosure)
		waitFor(t, func() bool {
			p := connectRaw(t, addr)
			ok := p.request(upgradeRequest(addr)).StatusCode == http.StatusSwitchingProtocols
			p.nc.Close()
			return ok
		})
	})
}

// TestLoopServerLen: Len counts upgraded connections, not refused ones,
// and forgets closed ones.
func TestLoopServerLen(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		srv, addr := startPush(t, mode, nil)
		ctx := testCtx(t)
		var clients []*websocket.Conn
		for i := 1; i <= 3; i++ {
			c, err := websocket.Dial(ctx, "ws://"+addr, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			clients = append(clients, c)
			waitFor(t, func() bool { return srv.Len() == i })
		}
		p := connectRaw(t, addr)
		if resp := p.request("GET / HTTP/1.1\r\nHost: x\r\n\r\n"); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("a plain GET: status %d, want 400", resp.StatusCode)
		}
		if n := srv.Len(); n != 3 {
			t.Errorf("Len() = %d after a refused request, want 3", n)
		}
		for i, c := range clients {
			if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
				t.Fatal(err)
			}
			waitFor(t, func() bool { return srv.Len() == 2-i })
		}
	})
}

// TestLoopServerSlowloris: clients that send half a request and stop are
// dropped at HandshakeTimeout, not before; while 200 of them wait, the
// event loops hold no goroutine for them.
func TestLoopServerSlowloris(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		const timeout = 400 * time.Millisecond
		_, addr := startPush(t, mode, func(s *websocket.Server) { s.Options.HandshakeTimeout = timeout })
		const n = 200
		before := runtime.NumGoroutine()
		clients := make([]net.Conn, n)
		dialed := make([]time.Time, n)
		for i := range clients {
			dialed[i] = time.Now()
			nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			clients[i] = nc
			if _, err := io.WriteString(nc, "GET / HTTP/1.1\r\nHost: x\r\n"); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(50 * time.Millisecond) // the server takes them all
		during := runtime.NumGoroutine()
		t.Logf("%v: %d goroutines before, %d with %d half-open handshakes", mode, before, during, n)
		if mode == websocket.IOEventLoop && during-before >= n/4 {
			t.Errorf("%d goroutines more with %d clients in the handshake, want far fewer than one each", during-before, n)
		}
		// Not dropped early: the first client is still open well before the
		// timeout (the server read nothing it could answer).
		if d := time.Since(dialed[0]); d < timeout/2 {
			clients[0].SetReadDeadline(time.Now().Add(timeout/2 - d))
			if _, err := clients[0].Read(make([]byte, 1)); !os.IsTimeout(err) {
				t.Errorf("client 0 dropped before half the handshake timeout: %v", err)
			}
		}
		for i, nc := range clients {
			nc.SetReadDeadline(dialed[i].Add(timeout + 3*time.Second))
			b, err := io.ReadAll(nc)
			if err != nil && !isReset(err) {
				t.Fatalf("client %d: %v, want the connection closed within 3s after the handshake timeout", i, err)
			}
			if len(b) > 0 && !bytes.HasPrefix(b, []byte("HTTP/1.1 4")) {
				t.Errorf("client %d got %q", i, b)
			}
		}
	})
}

// ---------------------------------------------------------------------------
// Protocol violations, the close handshake and timeouts

// TestLoopServerBadFrames: each protocol violation fails the connection with
// the close code RFC 6455 gives it, then the server closes TCP.
func TestLoopServerBadFrames(t *testing.T) {
	longLen := func(n uint64) []byte { // a masked binary header declaring n bytes
		b := []byte{0x82, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}
		binary.BigEndian.PutUint64(b[2:10], n)
		return b
	}
	unmasked := func(op frame.Opcode, payload []byte) []byte {
		return append(frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: op, Length: int64(len(payload))}), payload...)
	}
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	tests := []struct {
		name string
		wire []byte
		want frame.StatusCode
	}{
		{"unmasked frame", unmasked(frame.OpText, []byte("hi")), frame.StatusProtocolError},
		{"RSV1 without extension", maskedFrame(true, frame.Rsv1, frame.OpText, []byte("hi")), frame.StatusProtocolError},
		{"RSV2", maskedFrame(true, rsv2, frame.OpBinary, nil), frame.StatusProtocolError},
		{"opcode 3", maskedFrame(true, 0, 3, nil), frame.StatusProtocolError},
		{"opcode 11", maskedFrame(true, 0, 11, nil), frame.StatusProtocolError},
		{"ping over 125 bytes", maskedFrame(true, 0, frame.OpPing, make([]byte, 126)), frame.StatusProtocolError},
		{"fragmented ping", maskedFrame(false, 0, frame.OpPing, []byte("x")), frame.StatusProtocolError},
		{"continuation with nothing to continue", maskedFrame(true, 0, frame.OpContinuation, []byte("x")), frame.StatusProtocolError},
		{"new message inside a fragmented one", cat(
			maskedFrame(false, 0, frame.OpText, []byte("a")),
			maskedFrame(true, 0, frame.OpText, []byte("b"))), frame.StatusProtocolError},
		{"64-bit length with the top bit set", longLen(1 << 63), frame.StatusProtocolError},
		{"invalid UTF-8", maskedFrame(true, 0, frame.OpText, []byte{'a', 0xff, 'b'}), frame.StatusInvalidFramePayloadData},
		{"invalid UTF-8 across fragments", cat(
			maskedFrame(false, 0, frame.OpText, []byte{'a', 0xed}),
			maskedFrame(true, 0, frame.OpContinuation, []byte{0xa0, 0x80})), frame.StatusInvalidFramePayloadData},
		{"invalid UTF-8 before the message ends", maskedFrame(false, 0, frame.OpText, []byte("κόσμε\xf8")), frame.StatusInvalidFramePayloadData},
		{"text ends inside a code point", maskedFrame(true, 0, frame.OpText, []byte{'a', 0xe2, 0x82}), frame.StatusInvalidFramePayloadData},
		{"close payload of one byte", maskedFrame(true, 0, frame.OpClose, []byte{3}), frame.StatusProtocolError},
		{"close code 1005", maskedFrame(true, 0, frame.OpClose, []byte{0x03, 0xed}), frame.StatusProtocolError},
		{"close code 5000", maskedFrame(true, 0, frame.OpClose, []byte{0x13, 0x88}), frame.StatusProtocolError},
		{"close reason not UTF-8", maskedFrame(true, 0, frame.OpClose, []byte{0x03, 0xe8, 0xff}), frame.StatusInvalidFramePayloadData},
		{"frame over the limit", longLen(1 << 30), frame.StatusMessageTooBig},
		{"message over the limit", cat(
			maskedFrame(false, 0, frame.OpBinary, make([]byte, 600<<10)),
			maskedFrame(true, 0, frame.OpContinuation, make([]byte, 600<<10))), frame.StatusMessageTooBig},
	}
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		_, addr := startPush(t, mode, func(s *websocket.Server) { s.Options.MaxMessageSize = 1 << 20 })
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p := dialRaw(t, addr)
				p.write(tt.wire)
				p.expectClose(tt.want)
			})
		}
	})
}

// TestLoopServerEchoAndCloseHandshake: the wire-level happy path, and the
// close handshake a peer starts: the server echoes the code and closes TCP
// first.
func TestLoopServerEchoAndCloseHandshake(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		closed, onClose := closeCh()
		_, addr := startPush(t, mode, func(s *websocket.Server) { s.Options.OnClose = onClose })
		p := dialRaw(t, addr)
		p.send(true, 0, frame.OpText, []byte("Hello"))
		p.expectFrame(frame.OpText, []byte("Hello"))
		p.send(true, 0, frame.OpText, nil)
		p.expectFrame(frame.OpText, []byte{})
		p.send(true, 0, frame.OpPing, []byte("are you there"))
		p.expectFrame(frame.OpPong, []byte("are you there"))
		p.send(true, 0, frame.OpClose, []byte{0x0f, 0xa0, 'b', 'y', 'e'}) // 4000 "bye"
		p.expectFrame(frame.OpClose, []byte{0x0f, 0xa0})
		start := time.Now()
		p.expectEOF()
		if d := time.Since(start); d > time.Second {
			t.Errorf("server closed TCP %v after the close handshake", d)
		}
		var ce *websocket.CloseError
		if err := recvErr(t, closed, "OnClose"); !errors.As(err, &ce) || ce.Code != 4000 || ce.Reason != "bye" {
			t.Errorf("OnClose: %v, want CloseError 4000 \"bye\"", err)
		}
	})
}

// TestLoopServerCloseFromOnMessage: Conn.Close called from OnMessage sends
// the close frame; the session ends as soon as the peer answers, or after
// CloseTimeout when it does not. In the event-loop mode Close returns at
// once (the loop finishes the handshake); Close from another goroutine
// works the same way.
func TestLoopServerCloseFromOnMessage(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		const closeTimeout = 300 * time.Millisecond
		took := make(chan time.Duration, 4)
		closed, onClose := closeCh()
		_, addr := startPush(t, mode, func(s *websocket.Server) {
			s.Options.CloseTimeout = closeTimeout
			s.Options.OnClose = onClose
			s.Options.OnMessage = func(c *websocket.Conn, typ websocket.MessageType, data []byte) {
				switch string(data) {
				case "close":
					start := time.Now()
					c.Close(websocket.StatusNormalClosure, "bye")
					took <- time.Since(start)
				case "close elsewhere":
					go func() {
						c.Close(4001, "elsewhere")
						took <- 0
					}()
				default:
					echoPush(c, typ, data)
				}
			}
		})
		bye := []byte{0x03, 0xe8, 'b', 'y', 'e'}

		t.Run("peer answers", func(t *testing.T) {
			p := dialRaw(t, addr)
			p.send(true, 0, frame.OpText, []byte("close"))
			p.expectFrame(frame.OpClose, bye)
			p.send(true, 0, frame.OpClose, []byte{0x03, 0xe8})
			start := time.Now()
			p.expectEOF()
			if d := time.Since(start); d > closeTimeout/2 {
				t.Errorf("TCP closed %v after the peer answered, want at once", d)
			}
			d := <-took
			if mode == websocket.IOEventLoop && d > closeTimeout/2 {
				t.Errorf("Close on the loop took %v: it waited for the peer", d)
			}
			var ce *websocket.CloseError
			if err := recvErr(t, closed, "OnClose"); !errors.As(err, &ce) || ce.Code != websocket.StatusNormalClosure {
				t.Errorf("OnClose: %v, want CloseError 1000", err)
			}
		})
		t.Run("peer silent", func(t *testing.T) {
			p := dialRaw(t, addr)
			p.send(true, 0, frame.OpText, []byte("close"))
			p.expectFrame(frame.OpClose, bye)
			start := time.Now()
			p.expectEOF() // never answered
			if d := time.Since(start); d < closeTimeout*2/3 || d > closeTimeout+3*time.Second {
				t.Errorf("TCP closed %v after the close frame, want about the %v close timeout", d, closeTimeout)
			}
			if d := <-took; mode == websocket.IOEventLoop && d > closeTimeout/2 {
				t.Errorf("Close on the loop took %v: it waited for the peer", d)
			}
			if err := recvErr(t, closed, "OnClose"); err == nil {
				t.Error("OnClose got nil")
			}
		})
		t.Run("from another goroutine", func(t *testing.T) {
			p := dialRaw(t, addr)
			p.send(true, 0, frame.OpText, []byte("close elsewhere"))
			p.expectFrame(frame.OpClose, []byte{0x0f, 0xa1, 'e', 'l', 's', 'e', 'w', 'h', 'e', 'r', 'e'})
			p.send(true, 0, frame.OpClose, []byte{0x0f, 0xa1})
			p.expectEOF()
			<-took
			var ce *websocket.CloseError
			if err := recvErr(t, closed, "OnClose"); !errors.As(err, &ce) || ce.Code != 4001 {
				t.Errorf("OnClose: %v, want CloseError 4001", err)
			}
		})
	})
}

// TestLoopServerHeartbeat: with PingInterval and PongTimeout, a peer that
// never answers pings is dropped with ErrPongTimeout, and one that answers
// stays and gets an RTT.
func TestLoopServerHeartbeat(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		closed, onClose := closeCh()
		srv, addr := startPush(t, mode, func(s *websocket.Server) {
			s.Options.PingInterval = 50 * time.Millisecond
			// Long enough that "answering" never misses it on a slow
			// machine, short enough that "silent" ends quickly.
			s.Options.PongTimeout = 500 * time.Millisecond
			s.Options.OnClose = onClose
		})
		t.Run("silent", func(t *testing.T) {
			p := dialRaw(t, addr)
			start := time.Now()
			h, payload, err := p.next()
			if err != nil || h.Opcode != frame.OpPing || len(payload) != 8 {
				t.Fatalf("want an 8-byte ping, got %v %q %v", h.Opcode, payload, err)
			}
			p.expectEOF()
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("dropped after %v", d)
			}
			if err := recvErr(t, closed, "OnClose"); !errors.Is(err, websocket.ErrPongTimeout) {
				t.Fatalf("OnClose: %v, want ErrPongTimeout", err)
			}
		})
		t.Run("answering", func(t *testing.T) {
			p := dialRaw(t, addr)
			c := serverConn(t, srv)
			for i := range 6 {
				h, payload, err := p.next()
				if err != nil || h.Opcode != frame.OpPing {
					t.Fatalf("ping %d: %v %v", i, h.Opcode, err)
				}
				p.send(true, 0, frame.OpPong, payload)
			}
			if err := c.Err(); err != nil {
				t.Fatalf("session ended while the peer answered every ping: %v", err)
			}
			if c.RTT() <= 0 {
				t.Errorf("RTT = %v after 6 answered pings", c.RTT())
			}
			p.send(true, 0, frame.OpClose, []byte{0x03, 0xe8})
			p.expectClose(frame.StatusNormalClosure)
			recvErr(t, closed, "OnClose")
		})
	})
}

// TestLoopServerIdleTimeout: a connection with no traffic either way for
// IdleTimeout gets a close frame (1000 "idle timeout") and is closed; one
// with traffic stays.
func TestLoopServerIdleTimeout(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		const idle = 150 * time.Millisecond
		closed, onClose := closeCh()
		_, addr := startPush(t, mode, func(s *websocket.Server) {
			s.Options.IdleTimeout = idle
			s.Options.OnClose = onClose
		})
		t.Run("busy", func(t *testing.T) {
			p := dialRaw(t, addr)
			for i := range 10 {
				msg := fmt.Appendf(nil, "tick %d", i)
				p.send(true, 0, frame.OpText, msg)
				p.expectFrame(frame.OpText, msg)
				time.Sleep(idle / 4)
			}
			p.send(true, 0, frame.OpClose, []byte{0x03, 0xe8})
			p.expectClose(frame.StatusNormalClosure)
			if err := recvErr(t, closed, "OnClose"); errors.Is(err, websocket.ErrIdleTimeout) {
				t.Fatalf("a busy connection ended with %v", err)
			}
		})
		t.Run("idle", func(t *testing.T) {
			p := dialRaw(t, addr)
			start := time.Now()
			h, payload, err := p.next()
			if err != nil || h.Opcode != frame.OpClose || !bytes.Equal(payload, append([]byte{0x03, 0xe8}, "idle timeout"...)) {
				t.Fatalf("want close 1000 \"idle timeout\", got %v %q %v", h.Opcode, payload, err)
			}
			if d := time.Since(start); d < idle*2/3 {
				t.Errorf("idle close after %v, want at least about %v", d, idle)
			}
			p.send(true, 0, frame.OpClose, []byte{0x03, 0xe8})
			p.expectEOF()
			if err := recvErr(t, closed, "OnClose"); !errors.Is(err, websocket.ErrIdleTimeout) {
				t.Errorf("OnClose: %v, want ErrIdleTimeout", err)
			}
		})
	})
}

// TestLoopServerClientHeartbeat: a client's pings are answered by the
// server, which reads them between messages.
func TestLoopServerClientHeartbeat(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		_, addr := startPush(t, mode, nil)
		opts := &websocket.DialOptions{}
		opts.PingInterval = 20 * time.Millisecond
		opts.PongTimeout = 2 * time.Second
		ctx := testCtx(t)
		c, err := websocket.Dial(ctx, "ws://"+addr, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		serveCtx, stop := context.WithCancel(ctx)
		served := make(chan error, 1)
		go func() { served <- c.Serve(serveCtx) }()
		waitFor(t, func() bool { return c.RTT() > 0 })
		time.Sleep(100 * time.Millisecond)
		if err := c.Err(); err != nil {
			t.Fatalf("session ended: %v", err)
		}
		stop()
		<-served
		echoOnce(t, c, "after the heartbeat")
		if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
			t.Fatal(err)
		}
	})
}

// ---------------------------------------------------------------------------
// Shutdown and workers

// TestLoopServerShutdown: Shutdown sends 1001 to every open connection,
// ends handshakes in progress, waits for the close handshakes and returns;
// then Serve returns ErrServerClosed, nothing listens, and no goroutine or
// descriptor is left.
func TestLoopServerShutdown(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		fdsBefore, gBefore := openFDs(), runtime.NumGoroutine()
		srv := &websocket.Server{IO: mode}
		srv.Options.OnMessage = echoPush
		srv.Options.PingInterval = 20 * time.Millisecond // heartbeat timers too
		// The raw peer p never answers a ping: a pong timeout as short as
		// the interval would reset it before Shutdown on a slow machine.
		srv.Options.PongTimeout = time.Minute
		srv.Options.HandshakeTimeout = time.Minute
		addr, served := serveOn(t, srv)

		ctx := testCtx(t)
		const n = 5
		clientErr := make(chan error, n)
		var clients []*websocket.Conn
		for range n {
			c, err := websocket.Dial(ctx, "ws://"+addr, nil)
			if err != nil {
				t.Fatal(err)
			}
			clients = append(clients, c)
			echoOnce(t, c, "before shutdown")
			go func() {
				_, _, err := c.ReadMessage(ctx)
				clientErr <- err
			}()
		}
		p := dialRaw(t, addr)
		half := connectRaw(t, addr)
		half.write([]byte("GET / HTTP/1.1\r\n")) // and nothing more
		waitFor(t, func() bool { return srv.Len() == n+1 })
		time.Sleep(20 * time.Millisecond) // the server is reading half's request

		shutdownErr := make(chan error, 1)
		start := time.Now()
		go func() { shutdownErr <- srv.Shutdown(ctx) }()
		p.expectFrameClose(frame.StatusGoingAway)
		p.send(true, 0, frame.OpClose, []byte{0x03, 0xe9})
		p.expectEOF()
		half.expectEOF()
		if err := <-shutdownErr; err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Shutdown took %v", d)
		}
		for i := range n {
			var ce *websocket.CloseError
			if err := <-clientErr; !errors.As(err, &ce) || ce.Code != websocket.StatusGoingAway {
				t.Errorf("client %d: %v, want CloseError 1001", i, err)
			}
		}
		if l := srv.Len(); l != 0 {
			t.Errorf("Len() = %d after Shutdown", l)
		}
		if err := <-served; !errors.Is(err, websocket.ErrServerClosed) {
			t.Errorf("Serve: %v, want ErrServerClosed", err)
		}
		if nc, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			nc.Close()
			t.Error("listener still accepts after Shutdown")
		}
		for _, c := range clients {
			c.CloseNow()
		}
		p.nc.Close()
		half.nc.Close()
		var fds, gs int
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			fds, gs = openFDs(), runtime.NumGoroutine()
			if fds <= fdsBefore && gs <= gBefore {
				return
			}
		}
		buf := make([]byte, 1<<20)
		t.Fatalf("before: %d descriptors, %d goroutines; after Shutdown: %d, %d\n%s",
			fdsBefore, gBefore, fds, gs, buf[:runtime.Stack(buf, true)])
	})
}

// TestLoopServerShutdownExpiredContext: peers that never answer the close
// frame; Shutdown's context ends first: the connections are dropped and
// Shutdown returns the context's error.
func TestLoopServerShutdownExpiredContext(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		srv := &websocket.Server{IO: mode}
		srv.Options.OnMessage = echoPush
		srv.Options.CloseTimeout = time.Minute
		addr, served := serveOn(t, srv)
		var peers []*rawPeer
		for range 3 {
			peers = append(peers, dialRaw(t, addr))
		}
		waitFor(t, func() bool { return srv.Len() == 3 })
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Shutdown: %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("Shutdown took %v with a 200ms context", d)
		}
		for _, p := range peers {
			p.expectFrameClose(frame.StatusGoingAway)
			p.expectEOF()
		}
		if err := <-served; !errors.Is(err, websocket.ErrServerClosed) {
			t.Errorf("Serve: %v, want ErrServerClosed", err)
		}
		waitFor(t, func() bool { return srv.Len() == 0 })
	})
}

// TestLoopServerServeReturns: after Shutdown, Serve returns
// ErrServerClosed, within a second. In the event-loop mode it notices the
// closed listener only when its accept poll times out (500 ms: closing a
// descriptor does not wake a poll(2) on it); the test logs how long it
// took.
func TestLoopServerServeReturns(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		srv := &websocket.Server{IO: mode}
		srv.Options.OnMessage = echoPush
		addr, served := serveOn(t, srv)
		p := dialRaw(t, addr)
		p.send(true, 0, frame.OpText, []byte("x"))
		p.expectFrame(frame.OpText, []byte("x"))
		time.Sleep(10 * time.Millisecond) // Serve waits in accept now
		go func() {
			p.expectFrameClose(frame.StatusGoingAway)
			p.send(true, 0, frame.OpClose, []byte{0x03, 0xe9})
		}()
		if err := srv.Shutdown(testCtx(t)); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		select {
		case err := <-served:
			if !errors.Is(err, websocket.ErrServerClosed) {
				t.Errorf("Serve: %v, want ErrServerClosed", err)
			}
			t.Logf("%v: Serve returned %v after Shutdown", mode, time.Since(start))
		case <-time.After(time.Second):
			t.Fatal("Serve still running 1s after Shutdown returned")
		}
	})
}

// TestLoopServerShutdownWhileAccepting: Shutdown while clients keep
// connecting and sending half a request returns promptly, again and again.
// It runs in a child process, since what it caught was a panic on an
// event loop: serveLoops closes a socket accepted after Shutdown began, or
// Shutdown closes one it tracks before Start, and the loop then removed a
// socket it never registered (conn's TestSocketCloseBeforeStart is the
// deterministic form). It caught it in about one run in five.
func TestLoopServerShutdownWhileAccepting(t *testing.T) {
	if runInChild(t) {
		return
	}
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		held := 0
		var serves []chan error
		const rounds = 15
		for round := range rounds {
			srv := &websocket.Server{IO: mode}
			srv.Options.OnMessage = echoPush
			srv.Options.HandshakeTimeout = 10 * time.Second
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			served := make(chan error, 1)
			go func() { served <- srv.Serve(l) }()
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					var conns []net.Conn
					defer func() {
						for _, nc := range conns {
							nc.Close()
						}
					}()
					for {
						select {
						case <-stop:
							return
						default:
						}
						nc, err := net.DialTimeout("tcp", l.Addr().String(), time.Second)
						if err != nil {
							return
						}
						conns = append(conns, nc)
						io.WriteString(nc, "GET / HTTP/1.1\r\n")
					}
				})
			}
			time.Sleep(time.Duration(round%5) * time.Millisecond)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			start := time.Now()
			err = srv.Shutdown(ctx)
			d := time.Since(start)
			cancel()
			close(stop)
			wg.Wait()
			if err != nil || d > time.Second {
				held++
				t.Logf("round %d: Shutdown returned %v after %v", round, err, d)
			}
			serves = append(serves, served)
		}
		for _, served := range serves { // together: each takes up to 500 ms
			<-served
		}
		if held > 0 {
			t.Errorf("%d of %d Shutdowns held by clients in the opening handshake", held, rounds)
		}
	})
}

// runInChild runs the calling test in a child process: see
// testutil.RunInChild.
func runInChild(t *testing.T) bool {
	t.Helper()
	return testutil.RunInChild(t, 2*time.Minute)
}

// TestLoopServerServeAfterShutdown: a server shut down stays shut in both
// modes.
func TestLoopServerServeAfterShutdown(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		srv := &websocket.Server{IO: mode}
		srv.Options.OnMessage = echoPush
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Serve(l); !errors.Is(err, websocket.ErrServerClosed) {
			t.Fatalf("Serve: %v, want ErrServerClosed", err)
		}
		if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("listener after Serve: %v, want net.ErrClosed", err)
		}
	})
}

// TestLoopServerWorkers: with Workers, OnMessage runs on the pool, one
// message of a connection at a time and in order, connections in parallel.
func TestLoopServerWorkers(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		w := pool.NewWorkers(pool.WorkersConfig{Workers: 4, QueueSize: 16})
		w.Start()
		defer w.Shutdown(context.Background())
		var inFlight sync.Map // session ID -> *atomic.Int32
		var overlap, offPool atomic.Bool
		_, addr := startPush(t, mode, func(s *websocket.Server) {
			s.Workers = w
			s.Options.OnMessage = func(c *websocket.Conn, typ websocket.MessageType, data []byte) {
				if mode == websocket.IOEventLoop && onEventLoop() {
					offPool.Store(true)
				}
				n, _ := inFlight.LoadOrStore(c.ID(), new(atomic.Int32))
				if n.(*atomic.Int32).Add(1) > 1 {
					overlap.Store(true)
				}
				time.Sleep(time.Duration(len(data)%3) * time.Millisecond)
				c.WriteMessage(context.Background(), typ, data)
				n.(*atomic.Int32).Add(-1)
			}
		})
		ctx := testTimeout(t)
		const clients, each = 5, 40
		var wg sync.WaitGroup
		for i := range clients {
			wg.Go(func() {
				c, err := websocket.Dial(ctx, "ws://"+addr, nil)
				if err != nil {
					t.Error(err)
					return
				}
				defer c.Close(websocket.StatusNormalClosure, "")
				for seq := range each {
					if err := c.SendText(ctx, fmt.Sprintf("%d-%d", i, seq)); err != nil {
						t.Error(err)
						return
					}
				}
				for seq := range each {
					_, data, err := c.ReadMessage(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					if want := fmt.Sprintf("%d-%d", i, seq); string(data) != want {
						t.Errorf("client %d: got %q, want %q", i, data, want)
						return
					}
				}
			})
		}
		wg.Wait()
		if overlap.Load() {
			t.Error("two messages of one connection were handled at once")
		}
		if offPool.Load() {
			t.Error("OnMessage ran on an event loop, not on the worker pool")
		}
		waitFor(t, func() bool { return w.Stats().Completed >= clients*each })
	})
}

// onEventLoop reports whether the caller runs on one of conn's event loops.
// A loop is the only goroutine whose stack has netpoll.(*loop).run at its
// bottom.
func onEventLoop() bool {
	buf := make([]byte, 8<<10)
	return bytes.Contains(buf[:runtime.Stack(buf, false)], []byte("netpoll.(*loop).run"))
}

// ---------------------------------------------------------------------------
// Peers that do not read

// TestLoopServerPeerDoesNotRead: a peer that sends a lot and reads none of
// the echoes: the server stops reading it (what it holds stays bounded),
// other connections on the same loop are served meanwhile, and once the
// peer reads, every echo arrives in order.
func TestLoopServerPeerDoesNotRead(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		srv, addr := startPushOn(t, mode, listenSmall(t), func(s *websocket.Server) { s.Loops = 1 })
		p := dialRawSmall(t, addr)
		c := serverConn(t, srv)
		const msgs, size = 48, 64 << 10 // 3 MiB
		var all []byte
		for i := range msgs {
			all = append(all, maskedFrame(true, 0, frame.OpBinary, seqPayload(size, i))...)
		}
		wrote := make(chan error, 1)
		go func() {
			_, err := p.nc.Write(all)
			wrote <- err
		}()
		// 64 KiB of replies kept at most before reading pauses, plus a
		// message in progress, a read buffer and the small kernel buffers.
		const bound = 1 << 20
		// Wait until the server has stopped reading: a count that has
		// grown and then not changed for 200ms. A loaded machine may not
		// run the server for a while, so no fixed sleep says it is done;
		// the bound holds at every sample.
		var in int64
		deadline := time.Now().Add(10 * time.Second)
		for prev := int64(-1); ; prev = in {
			time.Sleep(200 * time.Millisecond)
			in = int64(c.Stats().BytesIn)
			if in > bound {
				t.Fatalf("the server read %d bytes from a peer that reads none of its replies, want at most %d", in, bound)
			}
			if in > 0 && in == prev {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the server kept reading (%d bytes, then %d) after 10s", prev, in)
			}
		}
		t.Logf("%v: the server read %d bytes of %d from a peer that reads nothing", mode, in, len(all))

		// Another connection on the same loop is served meanwhile.
		ctx := testCtx(t)
		other, err := websocket.Dial(ctx, "ws://"+addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer other.CloseNow()
		echoOnce(t, other, "not held up")

		for i := range msgs {
			h, got, err := p.next()
			if err != nil {
				t.Fatalf("echo %d: %v", i, err)
			}
			if h.Opcode != frame.OpBinary || !bytes.Equal(got, seqPayload(size, i)) {
				t.Fatalf("echo %d: %v frame of %d bytes, not the message sent", i, h.Opcode, len(got))
			}
		}
		if err := <-wrote; err != nil {
			t.Fatalf("peer's write: %v", err)
		}
	})
}

// TestLoopServerCloseKeepsPendingReplies: a peer sends a 200 KiB message
// and a close frame in one write, and reads only later: it must get the
// whole echo, then the close frame, then the end of the connection, as the
// close handshake promises (RFC 6455 §7.1.2: the server closes TCP after
// the close frames, and everything sent before them is delivered). (It
// caught Socket.Close dropping the bytes still kept: the loop read the
// close frame while the echo waited for the peer's window, answered it and
// closed, and the peer got part of the echo and no close frame.)
func TestLoopServerCloseKeepsPendingReplies(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		_, addr := startPushOn(t, mode, listenSmall(t), nil)
		p := dialRawSmall(t, addr)
		msg := seqPayload(200<<10, 1)
		p.write(append(maskedFrame(true, 0, frame.OpBinary, msg), maskedFrame(true, 0, frame.OpClose, []byte{0x03, 0xe8})...))
		time.Sleep(200 * time.Millisecond) // the server reads both meanwhile
		h, got, err := p.next()
		if err != nil || h.Opcode != frame.OpBinary || !bytes.Equal(got, msg) {
			t.Fatalf("want the %d-byte echo, got a %v frame of %d bytes, %v", len(msg), h.Opcode, len(got), err)
		}
		p.expectFrame(frame.OpClose, []byte{0x03, 0xe8})
		p.expectEOF()
	})
}

// TestLoopServerWriteTimeout: a writer that is not on a loop, writing to a
// peer that reads nothing, gets an error within Options.WriteTimeout once
// the connection holds all it may; what was accepted stays bounded; other
// connections on the loop are served meanwhile.
func TestLoopServerWriteTimeout(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		const wt = 200 * time.Millisecond
		srv, addr := startPushOn(t, mode, listenSmall(t), func(s *websocket.Server) {
			s.Loops = 1
			s.Options.WriteTimeout = wt
		})
		dialRawSmall(t, addr) // never reads
		c := serverConn(t, srv)
		type result struct {
			total   int
			err     error
			elapsed time.Duration
		}
		res := make(chan result, 1)
		go func() {
			start := time.Now()
			total := 0
			msg := make([]byte, 64<<10)
			for total < 64<<20 {
				if err := c.WriteMessage(context.Background(), websocket.BinaryMessage, msg); err != nil {
					res <- result{total, err, time.Since(start)}
					return
				}
				total += len(msg)
			}
			res <- result{total, nil, time.Since(start)}
		}()

		ctx := testCtx(t)
		other, err := websocket.Dial(ctx, "ws://"+addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer other.CloseNow()
		echoOnce(t, other, "not held up")

		select {
		case r := <-res:
			t.Logf("%v: %d bytes accepted, then %v after %v", mode, r.total, r.err, r.elapsed)
			if r.err == nil {
				t.Fatalf("64 MiB written to a peer that reads nothing without an error")
			}
			if r.total > 2<<20 {
				t.Errorf("%d bytes accepted for a peer that reads nothing, want at most 2 MiB", r.total)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a writer to a peer that reads nothing still blocked 5s on, with a 200ms WriteTimeout")
		}
	})
}

// TestLoopServerBroadcastSlowPeer: Broadcast to two readers and a peer that
// reads nothing, with send queues and PolicyClose: the readers get every
// message intact and in order, and the slow peer is closed.
func TestLoopServerBroadcastSlowPeer(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		srv, addr := startPushOn(t, mode, listenSmall(t), func(s *websocket.Server) {
			s.Loops = 1
			s.Options.SendQueueSize = 4
			s.Options.SlowPolicy = websocket.PolicyClose
			s.Options.SlowTimeout = 300 * time.Millisecond
		})
		ctx := testTimeout(t)
		const msgs, size = 40, 64 << 10
		var readers []*websocket.Conn
		for range 2 {
			c, err := websocket.Dial(ctx, "ws://"+addr, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			readers = append(readers, c)
		}
		dialRawSmall(t, addr) // reads nothing
		waitFor(t, func() bool { return srv.Len() == 3 })
		// In lockstep with the readers, so that only the slow peer's queue
		// fills up.
		got := make(chan error, len(readers))
		for seq := range msgs {
			srv.Broadcast(websocket.BinaryMessage, seqPayload(size, seq))
			for i, c := range readers {
				go func() {
					_, data, err := c.ReadMessage(ctx)
					if err == nil && !bytes.Equal(data, seqPayload(size, seq)) {
						err = fmt.Errorf("%d bytes, not the message broadcast", len(data))
					}
					if err != nil {
						err = fmt.Errorf("reader %d message %d: %w", i, seq, err)
					}
					got <- err
				}()
			}
			for range readers {
				if err := <-got; err != nil {
					t.Fatal(err)
				}
			}
		}
		waitFor(t, func() bool { return srv.Len() == 2 })
	})
}

// ---------------------------------------------------------------------------
// Everything else push style promises

// TestLoopServerCompression: permessage-deflate in every parameter shape
// carries messages both ways, compressed on the wire; a message that
// inflates past MaxMessageSize fails the connection with 1009.
func TestLoopServerCompression(t *testing.T) {
	type cfg = websocket.CompressionOptions
	cases := []struct {
		name           string
		client, server cfg
	}{
		{"defaults", cfg{}, cfg{}},
		{"small windows asked by client", cfg{ServerMaxWindowBits: 9, ClientMaxWindowBits: 8}, cfg{}},
		{"window 8 without takeover", cfg{ServerMaxWindowBits: 8, ServerNoContextTakeover: true}, cfg{ClientMaxWindowBits: 8, ClientNoContextTakeover: true}},
	}
	random := make([]byte, 50_000)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	msgs := [][]byte{[]byte("small"), {}, jsonish(200, 1), jsonish(70_000, 2), bytes.Repeat([]byte("abc"), 50_000), random}
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				server, client := tc.server, tc.client
				_, addr := startPush(t, mode, func(s *websocket.Server) { s.Options.Compression = &server })
				ctx := testCtx(t)
				c, err := websocket.Dial(ctx, "ws://"+addr, &websocket.DialOptions{Options: websocket.Options{Compression: &client}})
				if err != nil {
					t.Fatal(err)
				}
				defer c.CloseNow()
				if !c.Compressed() {
					t.Fatal("compression not negotiated")
				}
				allow := 0
				for round := range 2 {
					for i, m := range msgs {
						typ := websocket.TextMessage
						if i == len(msgs)-1 {
							typ = websocket.BinaryMessage
						}
						if err := c.WriteMessage(ctx, typ, m); err != nil {
							t.Fatal(err)
						}
						gt, got, err := c.ReadMessage(ctx)
						if err != nil || gt != typ || !bytes.Equal(got, m) {
							t.Fatalf("round %d message %d: %v %d bytes %v, want %v %d bytes", round, i, gt, len(got), err, typ, len(m))
						}
						if typ == websocket.BinaryMessage {
							allow += len(m) + len(m)/100 + 64
						} else {
							allow += len(m)/3 + 64
						}
					}
				}
				if st := c.Stats(); st.BytesOut > uint64(allow) || st.BytesIn > uint64(allow) {
					t.Errorf("messages took %d bytes out and %d in, over the %d they compress to", st.BytesOut, st.BytesIn, allow)
				}
				c.Close(websocket.StatusNormalClosure, "")
			})
		}
		t.Run("bomb", func(t *testing.T) {
			closed, onClose := closeCh()
			_, addr := startPush(t, mode, func(s *websocket.Server) {
				s.Options.Compression = &cfg{}
				s.Options.MaxMessageSize = 1 << 20
				s.Options.OnClose = onClose
			})
			ctx := testCtx(t)
			c, err := websocket.Dial(ctx, "ws://"+addr, &websocket.DialOptions{Options: websocket.Options{Compression: &cfg{}}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			if err := c.WriteMessage(ctx, websocket.BinaryMessage, make([]byte, 1<<20)); err != nil {
				t.Fatal(err)
			}
			if _, got, err := c.ReadMessage(ctx); err != nil || len(got) != 1<<20 {
				t.Fatalf("a message of exactly the limit: %d bytes, %v", len(got), err)
			}
			// 16 MiB of zeros compress to about 16 KiB.
			if err := c.WriteMessage(ctx, websocket.BinaryMessage, make([]byte, 16<<20)); err != nil {
				t.Fatal(err)
			}
			var ce *websocket.CloseError
			if _, _, err := c.ReadMessage(ctx); !errors.As(err, &ce) || ce.Code != websocket.StatusMessageTooBig {
				t.Fatalf("client read: %v, want a close with 1009", err)
			}
			if err := recvErr(t, closed, "OnClose"); !errors.As(err, &ce) || ce.Code != websocket.StatusMessageTooBig {
				t.Errorf("server OnClose: %v, want 1009", err)
			}
		})
	})
}

// TestLoopServerConcurrentSenders: many goroutines send on one client
// while another reads the echoes: every message arrives whole, each
// sender's in order.
func TestLoopServerConcurrentSenders(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		_, addr := startPush(t, mode, nil)
		opts := &websocket.DialOptions{}
		opts.FragmentSize = 16
		ctx := testCtx(t)
		c, err := websocket.Dial(ctx, "ws://"+addr, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		const senders, perSender = 6, 100
		var wg sync.WaitGroup
		for g := range senders {
			wg.Go(func() {
				for seq := range perSender {
					if err := c.SendText(ctx, fmt.Sprintf("sender %d message %d %s", g, seq, padding(g, seq))); err != nil {
						t.Errorf("sender %d: %v", g, err)
						return
					}
				}
			})
		}
		next := make([]int, senders)
		for i := range senders * perSender {
			_, data, err := c.ReadMessage(ctx)
			if err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			var g, seq int
			var pad string
			if _, err := fmt.Sscanf(string(data), "sender %d message %d %s", &g, &seq, &pad); err != nil || g < 0 || g >= senders {
				t.Fatalf("message %d mangled: %q", i, data)
			}
			if seq != next[g] || pad != padding(g, seq) {
				t.Fatalf("sender %d: message %d (%q) arrived when %d was due", g, seq, pad, next[g])
			}
			next[g]++
		}
		wg.Wait()
		c.Close(websocket.StatusNormalClosure, "")
	})
}

// TestLoopServerMode: in the event-loop mode the loop does the reading
// (ReadMessage and NextReader return ErrEventLoop); a Server with a
// Handler falls back to goroutines, where the Handler reads.
func TestLoopServerMode(t *testing.T) {
	if err := loopsProbe(); err != nil {
		t.Skipf("no event loops here: %v", err)
	}
	t.Run("push", func(t *testing.T) {
		errs := make(chan [2]error, 1)
		_, addr := startPush(t, websocket.IOEventLoop, func(s *websocket.Server) {
			s.Options.OnMessage = func(c *websocket.Conn, typ websocket.MessageType, data []byte) {
				_, _, err1 := c.ReadMessage(context.Background())
				_, _, err2 := c.NextReader(context.Background())
				select {
				case errs <- [2]error{err1, err2}:
				default:
				}
				echoPush(c, typ, data)
			}
		})
		p := dialRaw(t, addr)
		p.send(true, 0, frame.OpText, []byte("x"))
		p.expectFrame(frame.OpText, []byte("x"))
		e := <-errs
		if !errors.Is(e[0], websocket.ErrEventLoop) || !errors.Is(e[1], websocket.ErrEventLoop) {
			t.Errorf("ReadMessage: %v; NextReader: %v; want ErrEventLoop", e[0], e[1])
		}
	})
	t.Run("handler", func(t *testing.T) {
		evented := make(chan bool, 1)
		srv := &websocket.Server{IO: websocket.IOEventLoop, Handler: func(c *websocket.Conn, r *websocket.Request) {
			evented <- websocket.Evented(c)
			echoHandler(c, r)
		}}
		addr := startServer(t, srv)
		p := dialRaw(t, addr)
		p.send(true, 0, frame.OpText, []byte("pulled"))
		p.expectFrame(frame.OpText, []byte("pulled"))
		if <-evented {
			t.Error("a Handler's connection is served by an event loop")
		}
	})
}
