package websocket_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/frame"
)

// TestServerFailsBadFrames sends each protocol violation of RFC 6455 to an
// echo server and checks the close code that comes back, and that the
// server then closes the TCP connection.
func TestServerFailsBadFrames(t *testing.T) {
	srv := &websocket.Server{Handler: echoHandler}
	srv.Options.MaxMessageSize = 1 << 20
	addr := startServer(t, srv)

	longLen := func(n uint64) []byte { // a header declaring n bytes, masked, no payload
		b := []byte{0x82, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}
		binary.BigEndian.PutUint64(b[2:10], n)
		return b
	}
	tests := []struct {
		name string
		run  func(p *rawPeer)
		want frame.StatusCode
	}{
		{"unmasked frame", func(p *rawPeer) {
			p.masked = false
			p.send(true, 0, frame.OpText, []byte("hi"))
		}, frame.StatusProtocolError},
		{"RSV1 without extension", func(p *rawPeer) { p.send(true, frame.Rsv1, frame.OpText, []byte("hi")) }, frame.StatusProtocolError},
		{"RSV2", func(p *rawPeer) { p.send(true, rsv2, frame.OpBinary, nil) }, frame.StatusProtocolError},
		{"RSV3 on ping", func(p *rawPeer) { p.send(true, rsv3, frame.OpPing, nil) }, frame.StatusProtocolError},
		{"opcode 3", func(p *rawPeer) { p.send(true, 0, 3, nil) }, frame.StatusProtocolError},
		{"opcode 7", func(p *rawPeer) { p.send(true, 0, 7, []byte("x")) }, frame.StatusProtocolError},
		{"opcode 11", func(p *rawPeer) { p.send(true, 0, 11, nil) }, frame.StatusProtocolError},
		{"opcode 15", func(p *rawPeer) { p.send(true, 0, 15, []byte("x")) }, frame.StatusProtocolError},
		{"ping over 125 bytes", func(p *rawPeer) { p.send(true, 0, frame.OpPing, make([]byte, 126)) }, frame.StatusProtocolError},
		{"fragmented ping", func(p *rawPeer) { p.send(false, 0, frame.OpPing, []byte("x")) }, frame.StatusProtocolError},
		{"continuation with nothing to continue", func(p *rawPeer) {
			p.send(true, 0, frame.OpContinuation, []byte("x"))
		}, frame.StatusProtocolError},
		{"new message inside a fragmented one", func(p *rawPeer) {
			p.send(false, 0, frame.OpText, []byte("a"))
			p.send(true, 0, frame.OpText, []byte("b"))
		}, frame.StatusProtocolError},
		{"64-bit length with the top bit set", func(p *rawPeer) { p.write(longLen(1 << 63)) }, frame.StatusProtocolError},
		{"invalid UTF-8", func(p *rawPeer) { p.send(true, 0, frame.OpText, []byte{'a', 0xff, 'b'}) }, frame.StatusInvalidFramePayloadData},
		{"invalid UTF-8 across fragments", func(p *rawPeer) {
			p.send(false, 0, frame.OpText, []byte{'a', 0xed})
			p.send(true, 0, frame.OpContinuation, []byte{0xa0, 0x80}) // a surrogate
		}, frame.StatusInvalidFramePayloadData},
		{"text ends inside a code point", func(p *rawPeer) { p.send(true, 0, frame.OpText, []byte{'a', 0xe2, 0x82}) }, frame.StatusInvalidFramePayloadData},
		{"close payload of one byte", func(p *rawPeer) { p.send(true, 0, frame.OpClose, []byte{3}) }, frame.StatusProtocolError},
		{"close code 1005", func(p *rawPeer) { p.send(true, 0, frame.OpClose, []byte{0x03, 0xed}) }, frame.StatusProtocolError},
		{"close code 999", func(p *rawPeer) { p.send(true, 0, frame.OpClose, []byte{0x03, 0xe7}) }, frame.StatusProtocolError},
		{"close code 5000", func(p *rawPeer) { p.send(true, 0, frame.OpClose, []byte{0x13, 0x88}) }, frame.StatusProtocolError},
		{"close reason not UTF-8", func(p *rawPeer) { p.send(true, 0, frame.OpClose, []byte{0x03, 0xe8, 0xff}) }, frame.StatusInvalidFramePayloadData},
		{"frame over the limit", func(p *rawPeer) { p.write(longLen(1 << 30)) }, frame.StatusMessageTooBig},
		{"message over the limit", func(p *rawPeer) {
			p.send(false, 0, frame.OpBinary, make([]byte, 600<<10))
			p.send(true, 0, frame.OpContinuation, make([]byte, 600<<10))
		}, frame.StatusMessageTooBig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := dialRaw(t, addr)
			tt.run(p)
			p.expectClose(tt.want)
		})
	}
}

// TestServerFailsUTF8Early checks that invalid UTF-8 fails the connection at
// the bad byte, before the rest of the message has even been sent.
func TestServerFailsUTF8Early(t *testing.T) {
	addr := startServer(t, &websocket.Server{Handler: echoHandler})
	p := dialRaw(t, addr)
	// First fragment: valid text, then a byte that can never be UTF-8.
	p.send(false, 0, frame.OpText, []byte("κόσμε\xf8"))
	p.expectClose(frame.StatusInvalidFramePayloadData)
}

// TestServerEchoAndCloseHandshake covers the happy path at the wire level.
func TestServerEchoAndCloseHandshake(t *testing.T) {
	addr := startServer(t, &websocket.Server{Handler: echoHandler})
	p := dialRaw(t, addr)
	p.send(true, 0, frame.OpText, []byte("Hello"))
	p.expectFrame(frame.OpText, []byte("Hello"))
	// Fragmented, with a ping in the middle: the pong comes first.
	p.send(false, 0, frame.OpBinary, []byte{1, 2})
	p.send(true, 0, frame.OpPing, []byte("ping!"))
	p.send(true, 0, frame.OpContinuation, []byte{3})
	p.expectFrame(frame.OpPong, []byte("ping!"))
	p.expectFrame(frame.OpBinary, []byte{1, 2, 3})
	// Empty messages.
	p.send(true, 0, frame.OpText, nil)
	p.expectFrame(frame.OpText, []byte{})
	// Close: the server echoes the code, then closes TCP first.
	p.send(true, 0, frame.OpClose, []byte{0x0f, 0xa0, 'b', 'y', 'e'}) // 4000 "bye"
	p.expectFrame(frame.OpClose, []byte{0x0f, 0xa0})
	p.expectEOF()
}

// TestHandshakeRefusals checks the HTTP status for each bad opening request.
func TestHandshakeRefusals(t *testing.T) {
	srv := &websocket.Server{Handler: echoHandler}
	srv.Options.MaxHeaderBytes = 1024
	addr := startServer(t, srv)
	good := upgradeRequest(addr)
	tests := []struct {
		name   string
		req    string
		status int
		header [2]string // a header the response must carry
	}{
		{"POST", strings.Replace(good, "GET", "POST", 1), 400, [2]string{}},
		{"HTTP/1.0", strings.Replace(good, "HTTP/1.1", "HTTP/1.0", 1), 400, [2]string{}},
		{"no Upgrade", strings.Replace(good, "Upgrade: websocket\r\n", "", 1), 400, [2]string{}},
		{"Upgrade not websocket", strings.Replace(good, "Upgrade: websocket", "Upgrade: h2c", 1), 400, [2]string{}},
		{"no Connection token", strings.Replace(good, "Connection: Upgrade", "Connection: keep-alive", 1), 400, [2]string{}},
		{"key not 16 bytes", strings.Replace(good, testKey, "c2hvcnQ=", 1), 400, [2]string{}},
		{"key not base64", strings.Replace(good, testKey, "!!!!notbase64!!!!!!!!!!=", 1), 400, [2]string{}},
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
	t.Run("same origin", func(t *testing.T) {
		p := connectRaw(t, addr)
		if resp := p.request(upgradeRequest(addr, "Origin: http://"+addr)); resp.StatusCode != 101 {
			t.Fatalf("status %d, want 101", resp.StatusCode)
		}
	})
}

// TestHandshakeTimeout checks that a client that never finishes its request
// is dropped after the handshake timeout.
func TestHandshakeTimeout(t *testing.T) {
	srv := &websocket.Server{Handler: echoHandler}
	srv.Options.HandshakeTimeout = 200 * time.Millisecond
	addr := startServer(t, srv)
	p := connectRaw(t, addr)
	p.write([]byte("GET / HTTP/1.1\r\nHost: x\r\n")) // and then nothing
	start := time.Now()
	p.expectEOF()
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("dropped after %v", d)
	}
}

// TestConnectionLimit checks the 503 past MaxConnections.
func TestConnectionLimit(t *testing.T) {
	release := make(chan struct{})
	srv := &websocket.Server{MaxConnections: 2, Handler: func(c *websocket.Conn, _ *websocket.Request) {
		<-release
	}}
	addr := startServer(t, srv)
	defer close(release)
	dialRaw(t, addr)
	dialRaw(t, addr)
	p := connectRaw(t, addr)
	if resp := p.request(upgradeRequest(addr)); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", resp.StatusCode)
	}
}

// TestClientFailsMaskedFrame checks that a client refuses a masked frame
// from the server with 1002.
func TestClientFailsMaskedFrame(t *testing.T) {
	peer := newRawServer(t, func(p *rawPeer) {
		p.masked = true
		p.send(true, 0, frame.OpText, []byte("masked"))
		p.expectClose(frame.StatusProtocolError)
	})
	c, err := websocket.Dial(context.Background(), "ws://"+peer.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	_, _, err = c.ReadMessage(context.Background())
	var ce *websocket.CloseError
	if !errorsAs(err, &ce) || ce.Code != frame.StatusProtocolError {
		t.Fatalf("ReadMessage: %v, want a CloseError with 1002", err)
	}
	peer.wait()
}

// TestPongTimeout: a peer that stops answering pings is dropped.
func TestPongTimeout(t *testing.T) {
	var closed atomic.Value
	srv := &websocket.Server{Handler: func(c *websocket.Conn, _ *websocket.Request) {
		err := c.Serve(context.Background())
		closed.Store(err)
	}}
	srv.Options.PingInterval = 50 * time.Millisecond
	srv.Options.PongTimeout = 100 * time.Millisecond
	addr := startServer(t, srv)
	p := dialRaw(t, addr)
	start := time.Now()
	h, payload, err := p.next()
	if err != nil || h.Opcode != frame.OpPing || len(payload) == 0 {
		t.Fatalf("want a ping, got %v %q %v", h.Opcode, payload, err)
	}
	p.expectEOF() // never answered
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("dropped after %v", d)
	}
	waitFor(t, func() bool { return closed.Load() != nil })
	if err := closed.Load().(error); !strings.Contains(err.Error(), "pong timeout") {
		t.Fatalf("Serve returned %v, want the pong timeout", err)
	}
}

// TestPingAnswered: a peer that answers keeps the session and gives an RTT.
func TestPingAnswered(t *testing.T) {
	rtt := make(chan time.Duration, 1)
	answered := make(chan struct{})
	srv := &websocket.Server{Handler: func(c *websocket.Conn, _ *websocket.Request) {
		// Serve reads the pongs until the peer has answered three pings.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			<-answered
			cancel()
		}()
		c.Serve(ctx)
		rtt <- c.RTT()
	}}
	srv.Options.PingInterval = 50 * time.Millisecond
	srv.Options.PongTimeout = 2 * time.Second
	addr := startServer(t, srv)
	p := dialRaw(t, addr)
	for i := 0; i < 3; i++ {
		h, payload, err := p.next()
		if err != nil || h.Opcode != frame.OpPing {
			t.Fatalf("want ping %d: %v %v", i, h.Opcode, err)
		}
		p.send(true, 0, frame.OpPong, payload)
	}
	close(answered)
	if d := <-rtt; d <= 0 {
		t.Fatalf("RTT = %v, want > 0", d)
	}
}

// TestCloseTimeout: a peer that never answers our close frame is dropped
// after the close timeout.
func TestCloseTimeout(t *testing.T) {
	result := make(chan time.Duration, 1)
	srv := &websocket.Server{Handler: func(c *websocket.Conn, _ *websocket.Request) {
		start := time.Now()
		c.Close(websocket.StatusNormalClosure, "bye")
		result <- time.Since(start)
	}}
	srv.Options.CloseTimeout = 200 * time.Millisecond
	addr := startServer(t, srv)
	p := dialRaw(t, addr)
	h, payload, err := p.next()
	if err != nil || h.Opcode != frame.OpClose || !bytes.Equal(payload, []byte{0x03, 0xe8, 'b', 'y', 'e'}) {
		t.Fatalf("want close 1000 bye: %v %q %v", h.Opcode, payload, err)
	}
	// Never answer.
	p.expectEOF()
	if d := <-result; d < 150*time.Millisecond || d > 3*time.Second {
		t.Fatalf("Close took %v, want about the 200ms close timeout", d)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met in 5s")
}
