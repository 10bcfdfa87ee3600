package websocket_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/endpoint"
)

// TestDialLocalhost: without NetDialContext, Dial resolves "localhost" to
// ::1 and 127.0.0.1 and races them; against a server listening on
// 127.0.0.1 only, the IPv4 attempt wins (the IPv6 one is refused, or
// finds nothing listening) and OnEndpoint says so. The Host header keeps
// the name from the URL.
func TestDialLocalhost(t *testing.T) {
	hostSaw := make(chan string, 1)
	srv, _ := acceptServer(t, nil, func(c *websocket.Conn, r *http.Request) {
		hostSaw <- r.Host
		echoHandler(c, nil)
	})
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	var got []endpoint.Endpoint
	opts := &websocket.DialOptions{OnEndpoint: func(e endpoint.Endpoint) { got = append(got, e) }}
	c, err := websocket.Dial(testCtx(t), fmt.Sprintf("ws://localhost:%d/", port), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	want, err := endpoint.Parse(fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != want {
		t.Errorf("OnEndpoint called with %v, want once with %v", got, want)
	}
	if h := <-hostSaw; h != fmt.Sprintf("localhost:%d", port) {
		t.Errorf("Host %q, want localhost:%d", h, port)
	}
	echoOnce(t, c, "over 127.0.0.1")
	c.Close(websocket.StatusNormalClosure, "")
}

// TestDialIPv6Literal: an IPv6 literal URL is dialed as is and reported.
func TestDialIPv6Literal(t *testing.T) {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("IPv6 loopback unavailable on this host: %v", err)
	}
	var handlers sync.WaitGroup
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Done()
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		echoHandler(c, nil)
	})}
	var serving sync.WaitGroup
	serving.Go(func() { srv.Serve(ln) })
	t.Cleanup(func() {
		srv.Close()
		serving.Wait()
		waitGroupTimeout(t, &handlers, 5*time.Second)
	})
	var got endpoint.Endpoint
	opts := &websocket.DialOptions{OnEndpoint: func(e endpoint.Endpoint) { got = e }}
	c, err := websocket.Dial(testCtx(t), "ws://"+ln.Addr().String()+"/", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if got.String() != ln.Addr().String() || !got.Is6() {
		t.Errorf("OnEndpoint got %v, want %v", got, ln.Addr())
	}
	echoOnce(t, c, "over ::1")
	c.Close(websocket.StatusNormalClosure, "")
}

// TestDialEndpointsAllRefused: when no address answers, Dial reports every
// attempt, and OnEndpoint is not called.
func TestDialEndpointsAllRefused(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	called := false
	opts := &websocket.DialOptions{OnEndpoint: func(endpoint.Endpoint) { called = true }}
	c, err := websocket.Dial(testCtx(t), fmt.Sprintf("ws://localhost:%d/", port), opts)
	if err == nil {
		c.CloseNow()
		t.Fatal("Dial to a closed port succeeded")
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("127.0.0.1:%d", port)) || !strings.Contains(err.Error(), fmt.Sprintf("[::1]:%d", port)) {
		t.Errorf("error %q, want both loopback attempts in it", err)
	}
	if called {
		t.Error("OnEndpoint called for a failed dial")
	}
}

// TestDialOnEndpointCustomDialer: with NetDialContext, which resolves
// names itself, Dial knows no endpoint and OnEndpoint stays silent.
func TestDialOnEndpointCustomDialer(t *testing.T) {
	srv, _ := acceptServer(t, nil, nil)
	called := false
	opts := &websocket.DialOptions{
		OnEndpoint: func(endpoint.Endpoint) { called = true },
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
	c, err := websocket.Dial(testCtx(t), wsURL(srv, "/"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if called {
		t.Error("OnEndpoint called although NetDialContext dialed")
	}
	echoOnce(t, c, "custom")
	c.Close(websocket.StatusNormalClosure, "")
}
