package websocket_test

import (
	"context"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
)

// The hooks' tests: AcceptOptions.OnRequest (refusing before the upgrade,
// attaching a value) and Server.OnConnect, on every server path.

// errDatabase is an OnRequest error that is no HandshakeError: its text
// must not reach the client.
var errDatabase = errors.New("user database unreachable at 10.0.0.7")

// authorize is the OnRequest of these tests. /chat needs "Authorization:
// Bearer <name>", whose name becomes the connection's value; /broken
// fails with errDatabase; any other path is unknown.
func authorize(r *websocket.Request) (any, error) {
	path, _, _ := strings.Cut(r.RequestURI, "?")
	switch path {
	case "/chat":
		name, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || name == "" {
			return nil, &websocket.HandshakeError{StatusCode: http.StatusUnauthorized, Reason: "sign in first",
				Header: http.Header{"Www-Authenticate": {`Bearer realm="chat"`}}}
		}
		return name, nil
	case "/broken":
		return nil, errDatabase
	}
	return nil, &websocket.HandshakeError{StatusCode: http.StatusNotFound, Reason: "no such room"}
}

// hookRequest is an opening request for path with extra header lines.
func hookRequest(addr, path string, extra ...string) string {
	return strings.Replace(upgradeRequest(addr, extra...), "GET /chat ", "GET "+path+" ", 1)
}

// refusedBy sends req on a fresh raw connection and checks the refusal:
// the status, the header (if any) and that the body says nothing of
// errDatabase; the server then closes the connection.
func refusedBy(t *testing.T, addr, req string, status int, header, value string) {
	t.Helper()
	p := connectRaw(t, addr)
	if _, err := io.WriteString(p.nc, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(p.br, nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("status %d (%q), want %d", resp.StatusCode, body, status)
	}
	if header != "" && resp.Header.Get(header) != value {
		t.Errorf("%s: %q, want %q", header, resp.Header.Get(header), value)
	}
	if strings.Contains(string(body), "10.0.0.7") {
		t.Errorf("the body tells the client the hook's error: %q", body)
	}
	p.expectEOF()
}

// checkRefusals runs authorize's refusals against addr.
func checkRefusals(t *testing.T, addr string) {
	t.Helper()
	refusedBy(t, addr, hookRequest(addr, "/chat"), 401, "WWW-Authenticate", `Bearer realm="chat"`)
	refusedBy(t, addr, hookRequest(addr, "/elsewhere?x=1", "Authorization: Bearer ann"), 404, "", "")
	refusedBy(t, addr, hookRequest(addr, "/broken"), 403, "", "")
	// The checks before the hook still come first: a cross-origin page
	// gets 403 for its Origin, whatever its path.
	refusedBy(t, addr, hookRequest(addr, "/elsewhere", "Origin: https://evil.example"), 403, "", "")
}

// dialAs connects to addr's /chat as name.
func dialAs(t *testing.T, ctx context.Context, addr, name string) *websocket.Conn {
	t.Helper()
	c, err := websocket.Dial(ctx, "ws://"+addr+"/chat", &websocket.DialOptions{
		Header: http.Header{"Authorization": {"Bearer " + name}}})
	if err != nil {
		t.Fatalf("Dial as %s: %v", name, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// expectText reads one message from c and checks it.
func expectText(t *testing.T, ctx context.Context, c *websocket.Conn, want string) {
	t.Helper()
	_, data, err := c.ReadMessage(ctx)
	if err != nil || string(data) != want {
		t.Fatalf("read %q, %v; want %q", data, err, want)
	}
}

// TestServerOnRequest: in both I/O modes a push-style Server refuses with
// OnRequest's status and headers (401 with WWW-Authenticate, 404), with a
// bare 403 for an error of another type, counts each refusal by status,
// and hands OnRequest's value to OnConnect and OnMessage.
func TestServerOnRequest(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		var connected sync.Map // name -> true, from OnConnect
		var refusedHook sync.Map
		srv, addr := startPush(t, mode, func(s *websocket.Server) {
			s.Options.OnRequest = authorize
			s.OnConnect = func(c *websocket.Conn) {
				connected.Store(c.Value(), s.Len())
			}
			s.Hooks.OnRefuse = func(status int) {
				n, _ := refusedHook.LoadOrStore(status, new(atomic.Int32))
				n.(*atomic.Int32).Add(1)
			}
			s.Options.OnMessage = func(c *websocket.Conn, _ websocket.MessageType, data []byte) {
				c.SendText(context.Background(), c.Value().(string)+": "+string(data))
			}
		})
		checkRefusals(t, addr)

		ctx := testCtx(t)
		ann, bob := dialAs(t, ctx, addr, "ann"), dialAs(t, ctx, addr, "bob")
		ann.SendText(ctx, "hi")
		bob.SendText(ctx, "hello")
		expectText(t, ctx, ann, "ann: hi")
		expectText(t, ctx, bob, "bob: hello")
		for _, name := range []string{"ann", "bob"} {
			n, ok := connected.Load(name)
			if !ok {
				t.Errorf("OnConnect never saw %s", name)
			} else if n.(int) < 1 {
				t.Errorf("OnConnect saw %s before it was registered (Len %d)", name, n)
			}
		}
		st := srv.Stats()
		if want := map[int]uint64{401: 1, 404: 1, 403: 2}; !maps.Equal(st.Refused, want) {
			t.Errorf("Stats().Refused = %v, want %v", st.Refused, want)
		}
		if st.Accepted != 2 {
			t.Errorf("Stats().Accepted = %d, want 2", st.Accepted)
		}
		for status, want := range map[int]int32{401: 1, 404: 1, 403: 2} {
			n, _ := refusedHook.Load(status)
			if n == nil || n.(*atomic.Int32).Load() != want {
				t.Errorf("Hooks.OnRefuse(%d) called %v times, want %d", status, n, want)
			}
		}
	})
}

// TestServerOnRequestHandler: with a Handler (goroutine mode), the value
// reaches OnConnect and the Handler, and the refusals are the same.
func TestServerOnRequestHandler(t *testing.T) {
	var order []string
	var mu sync.Mutex
	srv := &websocket.Server{
		Options: websocket.AcceptOptions{OnRequest: authorize},
		OnConnect: func(c *websocket.Conn) {
			mu.Lock()
			order = append(order, "connect "+c.Value().(string))
			mu.Unlock()
		},
		Handler: func(c *websocket.Conn, r *websocket.Request) {
			mu.Lock()
			order = append(order, "handler "+c.Value().(string)+" "+r.RequestURI)
			mu.Unlock()
			c.SendText(context.Background(), "welcome "+c.Value().(string))
			echoHandler(c, r)
		},
	}
	addr := startServer(t, srv)
	checkRefusals(t, addr)
	ctx := testCtx(t)
	c := dialAs(t, ctx, addr, "cat")
	expectText(t, ctx, c, "welcome cat")
	c.Close(websocket.StatusNormalClosure, "")
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"connect cat", "handler cat /chat"}; !slices.Equal(order, want) {
		t.Errorf("calls %q, want %q", order, want)
	}
}

// TestServerOnConnect: OnConnect runs once per connection, in both I/O
// modes, after registration and before the connection's first message is
// handed to OnMessage, even when that message came with the request.
func TestServerOnConnect(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		var connects atomic.Int32
		var early atomic.Int32 // messages seen before their connection's OnConnect
		marked := struct{}{}
		_, addr := startPush(t, mode, func(s *websocket.Server) {
			s.OnConnect = func(c *websocket.Conn) {
				c.Set(marked, true)
				connects.Add(1)
			}
			s.Options.OnMessage = func(c *websocket.Conn, typ websocket.MessageType, data []byte) {
				if _, ok := c.Get(marked); !ok {
					early.Add(1)
				}
				echoPush(c, typ, data)
			}
		})
		ctx := testCtx(t)
		for range 3 {
			c, err := websocket.Dial(ctx, "ws://"+addr, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			echoOnce(t, c, "x")
		}
		// A frame sent with the request, in the same write.
		p := connectRaw(t, addr)
		p.write(append([]byte(upgradeRequest(addr)), maskedFrame(true, 0, websocket.TextMessage, []byte("early"))...))
		resp, err := http.ReadResponse(p.br, nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("handshake: %v %v", resp, err)
		}
		p.expectFrame(websocket.TextMessage, []byte("early"))
		if n := connects.Load(); n != 4 {
			t.Errorf("OnConnect called %d times for 4 connections", n)
		}
		if n := early.Load(); n != 0 {
			t.Errorf("%d messages handed to OnMessage before OnConnect", n)
		}
	})
}

// TestAcceptOnRequest: Accept (net/http) refuses with OnRequest's status
// and headers, returns the hook's own error, and hands the value to the
// connection.
func TestAcceptOnRequest(t *testing.T) {
	srv, refused := acceptServer(t, &websocket.AcceptOptions{OnRequest: authorize}, func(c *websocket.Conn, _ *http.Request) {
		c.SendText(context.Background(), "welcome "+c.Value().(string))
		echoHandler(c, nil)
	})
	addr := strings.TrimPrefix(srv.URL, "http://")
	refusedBy(t, addr, hookRequest(addr, "/chat"), 401, "WWW-Authenticate", `Bearer realm="chat"`)
	var he *websocket.HandshakeError
	if err := <-refused; !errors.As(err, &he) || he.StatusCode != 401 {
		t.Errorf("Accept returned %v, want the hook's 401", err)
	}
	refusedBy(t, addr, hookRequest(addr, "/nowhere"), 404, "", "")
	<-refused
	refusedBy(t, addr, hookRequest(addr, "/broken"), 403, "", "")
	if err := <-refused; err != errDatabase {
		t.Errorf("Accept returned %v, want the hook's own error", err)
	}
	ctx := testCtx(t)
	c := dialAs(t, ctx, addr, "dan")
	expectText(t, ctx, c, "welcome dan")
	c.Close(websocket.StatusNormalClosure, "")
}

// TestUpgradeOnRequest: Upgrade on a raw connection refuses with the
// hook's status and returns its error, or opens the connection with the
// value.
func TestUpgradeOnRequest(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	addr := l.Addr().String()
	opts := &websocket.AcceptOptions{OnRequest: authorize}
	type result struct {
		c   *websocket.Conn
		err error
	}
	results := make(chan result, 1)
	go func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			c, _, err := websocket.Upgrade(context.Background(), nc, opts)
			if err != nil {
				nc.Close()
			}
			results <- result{c, err}
		}
	}()
	refusedBy(t, addr, hookRequest(addr, "/nowhere"), 404, "", "")
	var he *websocket.HandshakeError
	if r := <-results; !errors.As(r.err, &he) || he.StatusCode != 404 {
		t.Errorf("Upgrade returned %v, want the hook's 404", r.err)
	}
	refusedBy(t, addr, hookRequest(addr, "/broken"), 403, "", "")
	if r := <-results; r.err != errDatabase {
		t.Errorf("Upgrade returned %v, want the hook's own error", r.err)
	}
	ctx := testCtx(t)
	c := dialAs(t, ctx, addr, "eve")
	r := <-results
	if r.err != nil {
		t.Fatalf("Upgrade: %v", r.err)
	}
	defer r.c.CloseNow()
	if v := r.c.Value(); v != "eve" {
		t.Errorf("Value() = %v, want eve", v)
	}
	go echoHandler(r.c, nil)
	echoOnce(t, c, "ping")
	c.Close(websocket.StatusNormalClosure, "")
	select {
	case <-r.c.Done():
	case <-time.After(5 * time.Second):
		t.Error("the upgraded connection did not end after the client closed")
	}
}
