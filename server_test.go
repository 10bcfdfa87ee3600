package websocket_test

import (
	"context"
	"errors"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/frame"
)

// serveOn runs srv on a fresh loopback listener and returns the address and
// a channel with Serve's result. Unlike startServer, shutting down is the
// test's business.
func serveOn(t *testing.T, srv *websocket.Server) (string, <-chan error) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	return l.Addr().String(), served
}

// TestShutdownGoingAway: Shutdown sends 1001 to every open session, waits
// for the handlers, and Serve returns ErrServerClosed.
func TestShutdownGoingAway(t *testing.T) {
	const n = 5
	var returned atomic.Int32
	srv := &websocket.Server{Handler: func(c *websocket.Conn, r *websocket.Request) {
		defer returned.Add(1)
		echoHandler(c, r)
	}}
	addr, served := serveOn(t, srv)

	ctx := testCtx(t)
	clientErr := make(chan error, n)
	for i := 0; i < n; i++ {
		c, err := websocket.Dial(ctx, "ws://"+addr+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		echoOnce(t, c, "before shutdown")
		go func() {
			_, _, err := c.ReadMessage(ctx)
			clientErr <- err
		}()
	}
	// A raw client sees the close frame on the wire.
	p := dialRaw(t, addr)
	waitFor(t, func() bool { return srv.Len() == n+1 })

	shutdownErr := make(chan error, 1)
	go func() { shutdownErr <- srv.Shutdown(ctx) }()
	p.expectFrameClose(frame.StatusGoingAway)
	p.send(true, 0, frame.OpClose, []byte{0x03, 0xe9}) // answer with 1001
	p.expectEOF()
	if err := <-shutdownErr; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if got := returned.Load(); got != n+1 {
		t.Errorf("Shutdown returned with %d of %d handlers done", got, n+1)
	}
	if l := srv.Len(); l != 0 {
		t.Errorf("Len() = %d after Shutdown, want 0", l)
	}
	for i := 0; i < n; i++ {
		var ce *websocket.CloseError
		if err := <-clientErr; !errors.As(err, &ce) || ce.Code != websocket.StatusGoingAway {
			t.Errorf("client %d: %v, want CloseError 1001", i, err)
		}
	}
	if err := <-served; !errors.Is(err, websocket.ErrServerClosed) {
		t.Errorf("Serve: %v, want ErrServerClosed", err)
	}
	// Nobody is listening any more.
	if nc, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		nc.Close()
		t.Error("listener still accepts after Shutdown")
	}
}

// TestShutdownExpiredContext: peers that never answer the close frame hold
// the close handshake for CloseTimeout; when Shutdown's ctx ends first, the
// connections are dropped at once and Shutdown returns ctx's error.
func TestShutdownExpiredContext(t *testing.T) {
	srv := &websocket.Server{Handler: echoHandler}
	srv.Options.CloseTimeout = time.Minute
	addr, served := serveOn(t, srv)
	var peers []*rawPeer
	for i := 0; i < 3; i++ {
		peers = append(peers, dialRaw(t, addr))
	}
	waitFor(t, func() bool { return srv.Len() == 3 })

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := srv.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Shutdown took %v with a 200ms context", d)
	}
	for _, p := range peers {
		p.expectFrameClose(frame.StatusGoingAway) // sent, never answered
		p.expectEOF()                             // then dropped
	}
	if err := <-served; !errors.Is(err, websocket.ErrServerClosed) {
		t.Errorf("Serve: %v, want ErrServerClosed", err)
	}
	waitFor(t, func() bool { return srv.Len() == 0 })
}

// TestShutdownExpiredContextStuckHandler: a handler that ignores its
// connection and a client stuck in the opening handshake must not hold
// Shutdown past its context.
func TestShutdownExpiredContextStuckHandler(t *testing.T) {
	release := make(chan struct{})
	srv := &websocket.Server{Handler: func(c *websocket.Conn, _ *websocket.Request) { <-release }}
	srv.Options.HandshakeTimeout = time.Minute
	addr, served := serveOn(t, srv)
	dialRaw(t, addr)
	waitFor(t, func() bool { return srv.Len() == 1 })
	half := connectRaw(t, addr)
	half.write([]byte("GET / HTTP/1.1\r\n")) // and nothing more

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Shutdown took %v with a 200ms context", d)
	}
	close(release)
	if err := <-served; !errors.Is(err, websocket.ErrServerClosed) {
		t.Errorf("Serve: %v, want ErrServerClosed", err)
	}
	half.nc.Close()
}

// TestServeAfterShutdown: a Server shut down stays shut: Serve and
// ListenAndServe return ErrServerClosed, and Serve closes the listener it
// was given.
func TestServeAfterShutdown(t *testing.T) {
	srv := &websocket.Server{Handler: echoHandler}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown of an idle server: %v", err)
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
	srv.Addr = "127.0.0.1:0"
	if err := srv.ListenAndServe(); !errors.Is(err, websocket.ErrServerClosed) {
		t.Errorf("ListenAndServe: %v, want ErrServerClosed", err)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
}

// TestServeNilHandler: a Server without a Handler refuses to serve.
func TestServeNilHandler(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := (&websocket.Server{}).Serve(l); err == nil {
		t.Fatal("Serve without a Handler returned nil")
	}
}

// TestHandlerReturnCloses: when the handler returns, the server runs the
// close handshake with 1000, and closes TCP once the peer answered.
func TestHandlerReturnCloses(t *testing.T) {
	srv := &websocket.Server{Handler: func(c *websocket.Conn, _ *websocket.Request) {
		c.SendText(context.Background(), "bye")
	}}
	addr := startServer(t, srv)

	t.Run("raw", func(t *testing.T) {
		p := dialRaw(t, addr)
		p.expectFrame(frame.OpText, []byte("bye"))
		// 0x88 0x02 0x03 0xe8: FIN close, length 2, code 1000.
		p.expectFrame(frame.OpClose, []byte{0x03, 0xe8})
		p.send(true, 0, frame.OpClose, []byte{0x03, 0xe8})
		start := time.Now()
		p.expectEOF()
		if d := time.Since(start); d > time.Second { // not the 5s close timeout
			t.Errorf("server closed TCP %v after the close handshake", d)
		}
	})
	t.Run("Dial", func(t *testing.T) {
		ctx := testCtx(t)
		c, err := websocket.Dial(ctx, "ws://"+addr+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		if _, data, err := c.ReadMessage(ctx); err != nil || string(data) != "bye" {
			t.Fatalf("ReadMessage: %q %v", data, err)
		}
		_, _, err = c.ReadMessage(ctx)
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.StatusNormalClosure {
			t.Fatalf("ReadMessage: %v, want CloseError 1000", err)
		}
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("client session not done after the close handshake")
		}
	})
}

// TestServerLen: Len counts upgraded connections and forgets closed ones.
func TestServerLen(t *testing.T) {
	srv := &websocket.Server{Handler: echoHandler}
	addr := startServer(t, srv)
	if n := srv.Len(); n != 0 {
		t.Fatalf("Len() = %d before any client", n)
	}
	ctx := testCtx(t)
	var clients []*websocket.Conn
	for i := 1; i <= 3; i++ {
		c, err := websocket.Dial(ctx, "ws://"+addr+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		clients = append(clients, c)
		waitFor(t, func() bool { return srv.Len() == i })
	}
	// A refused handshake is never counted.
	p := connectRaw(t, addr)
	p.request("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if n := srv.Len(); n != 3 {
		t.Errorf("Len() = %d after a refused request, want 3", n)
	}
	for i, c := range clients {
		if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return srv.Len() == 2-i })
	}
}

// TestShutdownNoGoroutineLeak: after Shutdown (and the clients' end), every
// goroutine the server and the sessions started is gone.
func TestShutdownNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	srv := &websocket.Server{Handler: echoHandler}
	srv.Options.PingInterval = 20 * time.Millisecond // heartbeat timers too
	addr, served := serveOn(t, srv)
	ctx := testCtx(t)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		opts := &websocket.DialOptions{}
		opts.PingInterval = 20 * time.Millisecond
		c, err := websocket.Dial(ctx, "ws://"+addr+"/", opts)
		if err != nil {
			t.Fatal(err)
		}
		echoOnce(t, c, "x")
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Serve(ctx)
		}()
	}
	time.Sleep(50 * time.Millisecond) // let a few pings go
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	<-served
	wg.Wait()
	var now int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if now = runtime.NumGoroutine(); now <= before {
			return
		}
	}
	buf := make([]byte, 1<<20)
	t.Fatalf("%d goroutines before, %d after Shutdown:\n%s", before, now, buf[:runtime.Stack(buf, true)])
}
