package websocket_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/handshake"
)

// acceptServer runs a net/http test server whose handler upgrades with
// Accept(opts) and then runs serve (echo when nil). Accept's error for each
// refused request goes to the returned channel. Handlers are waited for at
// cleanup, so no test leaves one running.
func acceptServer(t *testing.T, opts *websocket.AcceptOptions, serve func(c *websocket.Conn, r *http.Request)) (*httptest.Server, <-chan error) {
	t.Helper()
	if serve == nil {
		serve = func(c *websocket.Conn, _ *http.Request) { echoHandler(c, nil) }
	}
	refused := make(chan error, 16)
	var handlers sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Done()
		c, err := websocket.Accept(w, r, opts)
		if err != nil {
			refused <- err
			return
		}
		defer c.CloseNow()
		serve(c, r)
		c.Close(websocket.StatusNormalClosure, "")
	}))
	t.Cleanup(func() {
		srv.Close()
		waitGroupTimeout(t, &handlers, 5*time.Second)
	})
	return srv, refused
}

func waitGroupTimeout(t *testing.T, wg *sync.WaitGroup, d time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Errorf("handlers still running after %v", d)
	}
}

// wsURL turns an httptest server's http(s):// URL into ws(s)://.
func wsURL(srv *httptest.Server, path string) string {
	return "ws" + strings.TrimPrefix(srv.URL, "http") + path
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestAcceptEcho: a Dial client and an Accept server exchange messages of
// both types, sizes around the fragment size, and the close handshake.
func TestAcceptEcho(t *testing.T) {
	srvErr := make(chan error, 1)
	srv, _ := acceptServer(t, nil, func(c *websocket.Conn, _ *http.Request) {
		ctx := context.Background()
		for {
			typ, data, err := c.ReadMessage(ctx)
			if err != nil {
				srvErr <- err
				return
			}
			if err := c.WriteMessage(ctx, typ, data); err != nil {
				srvErr <- err
				return
			}
		}
	})
	ctx := testCtx(t)
	opts := &websocket.DialOptions{}
	opts.FragmentSize = 100 // so that some messages go out in several frames
	c, err := websocket.Dial(ctx, wsURL(srv, "/echo"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()

	msgs := []struct {
		typ  websocket.MessageType
		data string
	}{
		{websocket.TextMessage, "hello"},
		{websocket.TextMessage, ""},
		{websocket.BinaryMessage, "\x00\x01\x02\xff"},
		{websocket.BinaryMessage, ""},
		{websocket.TextMessage, strings.Repeat("κόσμε", 40)}, // 400 bytes: 4 frames
		{websocket.BinaryMessage, strings.Repeat("x", 100)},  // exactly one fragment
		{websocket.BinaryMessage, strings.Repeat("y", 101)},  // one byte over
	}
	for _, m := range msgs {
		if err := c.WriteMessage(ctx, m.typ, []byte(m.data)); err != nil {
			t.Fatalf("WriteMessage: %v", err)
		}
		typ, got, err := c.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("ReadMessage: %v", err)
		}
		if typ != m.typ || string(got) != m.data {
			t.Fatalf("echo: got %v %q, want %v %q", typ, got, m.typ, m.data)
		}
	}
	if err := c.Close(websocket.StatusNormalClosure, "done"); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// The server's reader sees our close frame, code and reason intact.
	var ce *websocket.CloseError
	if err := <-srvErr; !errors.As(err, &ce) || ce.Code != websocket.StatusNormalClosure || ce.Reason != "done" {
		t.Fatalf("server read: %v, want CloseError 1000 \"done\"", err)
	}
}

// TestAcceptSubprotocol: the server picks the first of its own subprotocols
// that the client offered, and both ends report the same choice.
func TestAcceptSubprotocol(t *testing.T) {
	tests := []struct {
		name           string
		server, client []string
		want           string
	}{
		{"server order wins", []string{"chat.v2", "chat.v1"}, []string{"chat.v1", "chat.v2"}, "chat.v2"},
		{"single match", []string{"mqtt"}, []string{"soap", "mqtt"}, "mqtt"},
		{"no overlap", []string{"chat.v1"}, []string{"chat.v3"}, ""},
		{"client offers none", []string{"chat.v1"}, nil, ""},
		{"server speaks none", nil, []string{"chat.v1"}, ""},
		{"case matters", []string{"Chat"}, []string{"chat"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serverSaw := make(chan string, 1)
			srv, _ := acceptServer(t, &websocket.AcceptOptions{Subprotocols: tt.server}, func(c *websocket.Conn, _ *http.Request) {
				serverSaw <- c.Subprotocol()
				echoHandler(c, nil)
			})
			c, err := websocket.Dial(testCtx(t), wsURL(srv, "/"), &websocket.DialOptions{Subprotocols: tt.client})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			if got := c.Subprotocol(); got != tt.want {
				t.Errorf("client Subprotocol() = %q, want %q", got, tt.want)
			}
			if got := <-serverSaw; got != tt.want {
				t.Errorf("server Subprotocol() = %q, want %q", got, tt.want)
			}
			c.Close(websocket.StatusNormalClosure, "")
		})
	}
}

// TestAcceptResponseHeader: AcceptOptions.Header reaches the 101 response,
// but cannot replace the fields the handshake itself sets.
func TestAcceptResponseHeader(t *testing.T) {
	opts := &websocket.AcceptOptions{
		Subprotocols: []string{"chat"},
		Header: http.Header{
			"Set-Cookie":             {"session=abc"},
			"X-Served-By":            {"node-7"},
			"Sec-Websocket-Accept":   {"forged"},
			"Sec-Websocket-Protocol": {"forged"},
		},
	}
	srv, _ := acceptServer(t, opts, nil)
	addr := srv.Listener.Addr().String()
	p := connectRaw(t, addr)
	resp := p.request(upgradeRequest(addr, "Sec-WebSocket-Protocol: chat"))
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	want := map[string][]string{
		"Set-Cookie":             {"session=abc"},
		"X-Served-By":            {"node-7"},
		"Sec-Websocket-Accept":   {acceptKey(testKey)},
		"Sec-Websocket-Protocol": {"chat"},
		"Upgrade":                {"websocket"},
		"Connection":             {"Upgrade"},
	}
	for k, v := range want {
		if got := resp.Header.Values(k); strings.Join(got, "|") != strings.Join(v, "|") {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	// The connection works after that.
	p.send(true, 0, frame.OpText, []byte("after headers"))
	p.expectFrame(frame.OpText, []byte("after headers"))
}

// TestAcceptRefusals sends plain HTTP requests (net/http's client) that are
// not valid opening handshakes: each gets its status and headers, and
// Accept returns the matching *handshake.Error.
func TestAcceptRefusals(t *testing.T) {
	srv, refused := acceptServer(t, nil, nil)
	upgrade := http.Header{
		"Upgrade":               {"websocket"},
		"Connection":            {"Upgrade"},
		"Sec-Websocket-Key":     {testKey},
		"Sec-Websocket-Version": {"13"},
	}
	with := func(mod func(h http.Header)) http.Header {
		h := upgrade.Clone()
		mod(h)
		return h
	}
	tests := []struct {
		name       string
		method     string
		header     http.Header
		status     int
		wantHeader [2]string // a response field and its value
	}{
		{"plain GET", "GET", http.Header{}, 400, [2]string{}},
		{"POST", "POST", upgrade, 400, [2]string{"Allow", "GET"}},
		{"no Upgrade", "GET", with(func(h http.Header) { h.Del("Upgrade") }), 400, [2]string{}},
		{"no Connection upgrade", "GET", with(func(h http.Header) { h.Set("Connection", "keep-alive") }), 400, [2]string{}},
		{"no key", "GET", with(func(h http.Header) { h.Del("Sec-Websocket-Key") }), 400, [2]string{}},
		{"short key", "GET", with(func(h http.Header) { h.Set("Sec-Websocket-Key", "c2hvcnQ=") }), 400, [2]string{}},
		{"no version", "GET", with(func(h http.Header) { h.Del("Sec-Websocket-Version") }), 400, [2]string{"Sec-Websocket-Version", "13"}},
		{"version 8", "GET", with(func(h http.Header) { h.Set("Sec-Websocket-Version", "8") }), 426, [2]string{"Sec-Websocket-Version", "13"}},
		{"cross origin", "GET", with(func(h http.Header) { h.Set("Origin", "https://evil.example") }), 403, [2]string{}},
		{"opaque origin", "GET", with(func(h http.Header) { h.Set("Origin", "null") }), 403, [2]string{}},
	}
	client := srv.Client()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(testCtx(t), tt.method, srv.URL+"/ws", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header = tt.header
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if k := tt.wantHeader[0]; k != "" && resp.Header.Get(k) != tt.wantHeader[1] {
				t.Errorf("%s: %q, want %q", k, resp.Header.Get(k), tt.wantHeader[1])
			}
			if resp.Header.Get("Sec-Websocket-Accept") != "" {
				t.Errorf("refusal carries Sec-WebSocket-Accept")
			}
			select {
			case err := <-refused:
				var he *handshake.Error
				if !errors.As(err, &he) || he.StatusCode != tt.status {
					t.Errorf("Accept returned %v, want a *handshake.Error with %d", err, tt.status)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Accept did not return an error")
			}
		})
	}
}

// TestAcceptOrigin checks OriginPatterns and InsecureSkipOriginCheck with
// Dial clients that send an Origin, as a browser would.
func TestAcceptOrigin(t *testing.T) {
	tests := []struct {
		name     string
		opts     websocket.AcceptOptions
		origin   string
		accepted bool
	}{
		{"no origin", websocket.AcceptOptions{}, "", true},
		{"foreign origin", websocket.AcceptOptions{}, "https://app.example.com", false},
		{"pattern subdomain", websocket.AcceptOptions{OriginPatterns: []string{"*.example.com"}}, "https://app.example.com", true},
		{"pattern is not the apex", websocket.AcceptOptions{OriginPatterns: []string{"*.example.com"}}, "https://example.com", false},
		{"pattern other site", websocket.AcceptOptions{OriginPatterns: []string{"*.example.com"}}, "https://example.com.evil.net", false},
		{"pattern any port", websocket.AcceptOptions{OriginPatterns: []string{"localhost:*"}}, "http://localhost:3000", true},
		{"pattern exact host", websocket.AcceptOptions{OriginPatterns: []string{"trusted.test"}}, "https://TRUSTED.test", true},
		{"skip check", websocket.AcceptOptions{InsecureSkipOriginCheck: true}, "https://evil.example", true},
		{"skip check, opaque", websocket.AcceptOptions{InsecureSkipOriginCheck: true}, "null", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, refused := acceptServer(t, &tt.opts, nil)
			opts := &websocket.DialOptions{}
			if tt.origin != "" {
				opts.Header = http.Header{"Origin": {tt.origin}}
			}
			c, err := websocket.Dial(testCtx(t), wsURL(srv, "/"), opts)
			if tt.accepted {
				if err != nil {
					t.Fatalf("Dial: %v, want accepted", err)
				}
				c.Close(websocket.StatusNormalClosure, "")
				return
			}
			if err == nil {
				c.CloseNow()
				t.Fatal("Dial succeeded, want 403")
			}
			var re *handshake.ResponseError
			if !errors.As(err, &re) || re.StatusCode != http.StatusForbidden {
				t.Fatalf("Dial: %v, want a ResponseError with 403", err)
			}
			var he *handshake.Error
			if err := <-refused; !errors.As(err, &he) || he.StatusCode != http.StatusForbidden {
				t.Fatalf("Accept: %v, want a *handshake.Error with 403", err)
			}
		})
	}
}

// helloFrame is the masked text frame of RFC 6455 §5.7:
//
//	0x81        FIN, opcode 1 (text)
//	0x85        MASK, payload length 5
//	37 fa 21 3d masking key
//	7f 9f 4d 51 58  "Hello" xor the key
var helloFrame = []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}

// TestAcceptKeepsEarlyFrames: a frame sent in the same TCP write as the
// opening request is read by net/http along with the request; Accept must
// hand it to the connection, not drop it.
func TestAcceptKeepsEarlyFrames(t *testing.T) {
	srv, _ := acceptServer(t, nil, nil)
	addr := srv.Listener.Addr().String()
	testEarlyFrames(t, addr)
}

// TestUpgradeKeepsEarlyFrames is the same over Server (Upgrade, no net/http).
func TestUpgradeKeepsEarlyFrames(t *testing.T) {
	addr := startServer(t, &websocket.Server{Handler: echoHandler})
	testEarlyFrames(t, addr)
}

func testEarlyFrames(t *testing.T, addr string) {
	p := connectRaw(t, addr)
	// Two frames behind the request, all in one Write: hello, then a
	// masked empty binary frame (0x82 0x80 + key).
	b := []byte(upgradeRequest(addr))
	b = append(b, helloFrame...)
	b = append(b, 0x82, 0x80, 1, 2, 3, 4)
	resp := p.request(string(b))
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	// The echo, unmasked from the server: 0x81 0x05 "Hello", 0x82 0x00.
	p.expectFrame(frame.OpText, []byte("Hello"))
	p.expectFrame(frame.OpBinary, []byte{})
	p.send(true, 0, frame.OpClose, []byte{0x03, 0xe8}) // 1000
	p.expectFrame(frame.OpClose, []byte{0x03, 0xe8})
	p.expectEOF()
}
