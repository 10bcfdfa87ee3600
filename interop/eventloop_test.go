package interop

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
)

// Our server in both I/O modes. In the goroutine mode it is what it always
// was: Accept on net/http, or Server with a Handler that reads and writes.
// The event loops serve push style only (Options.OnMessage, no Handler), so
// in that mode the scenario runs from callbacks: the manager's OnAdd starts
// the sender, OnMessage checks each message as it comes, OnClose checks the
// close and hands over the verdict, the same serverResult as the Handler's.
// A page's files come from net/http behind a router that passes WebSocket
// upgrades to the Server, so that the page and its WebSocket share an
// origin.

// ioModes are the modes every server pair runs in.
var ioModes = []websocket.IOMode{websocket.IOGoroutine, websocket.IOEventLoop}

// forModes runs f as a subtest per mode; the event-loop one is skipped
// where event loops do not exist (the Server would quietly use goroutines).
func forModes(t *testing.T, f func(t *testing.T, mode websocket.IOMode)) {
	t.Helper()
	for _, mode := range ioModes {
		t.Run(mode.String(), func(t *testing.T) {
			if mode == websocket.IOEventLoop && runtime.GOOS != "linux" {
				t.Skip("no event loops here (epoll is Linux's): the Server would use goroutines")
			}
			f(t, mode)
		})
	}
}

// pushState is one connection's progress through the scenario.
type pushState struct {
	mu       sync.Mutex
	next     int // the index of the message expected next
	failures []string
	sent     chan error
}

type pushKey struct{}

// pushServer serves the scenario at any path through a Server in mode,
// push style, and returns its address.
func pushServer(ctx context.Context, t *testing.T, mode websocket.IOMode, o websocket.Options, msgs []message) (string, <-chan serverResult) {
	t.Helper()
	results := make(chan serverResult, 1)
	srv := &websocket.Server{IO: mode, Options: websocket.AcceptOptions{Options: o}}
	srv.OnConnect = func(c *websocket.Conn) {
		st := &pushState{sent: make(chan error, 1)}
		c.Set(pushKey{}, st)
		go func() { st.sent <- sendAll(ctx, c, msgs) }()
	}
	state := func(c *websocket.Conn) *pushState {
		v, _ := c.Get(pushKey{})
		return v.(*pushState)
	}
	srv.Options.OnMessage = func(c *websocket.Conn, typ websocket.MessageType, data []byte) {
		if evented := onLoop(c); evented != (mode == websocket.IOEventLoop) {
			st := state(c)
			st.mu.Lock()
			st.failures = append(st.failures, fmt.Sprintf("served with Evented() = %v in mode %v", evented, mode))
			st.mu.Unlock()
		}
		st := state(c)
		st.mu.Lock()
		defer st.mu.Unlock()
		if st.next >= len(msgs) {
			st.failures = append(st.failures, fmt.Sprintf("message %d: %d bytes more than the scenario's %d messages", st.next, len(data), len(msgs)))
		} else if f := compare(msgs[st.next], typ, data); f != "" {
			st.failures = append(st.failures, f)
		}
		st.next++
	}
	srv.Options.OnClose = func(c *websocket.Conn, err error) {
		st := state(c)
		go func() { // not on the loop: the sender may still be finishing
			st.mu.Lock()
			failures := st.failures
			if st.next < len(msgs) {
				failures = append(failures, fmt.Sprintf("read %s: %v", msgs[st.next].name, err))
			} else if f := checkClose(err); f != "" {
				failures = append(failures, f)
			}
			st.mu.Unlock()
			if err := <-st.sent; err != nil {
				failures = append(failures, err.Error())
			}
			deliver(results, serverResult{failures, c})
		}()
	}
	return serve(t, srv), results
}

// routeUpgrades listens on 127.0.0.1 and relays each connection, by its
// first request, to wsAddr if it asks for a WebSocket upgrade and to
// httpAddr otherwise. It returns its address.
func routeUpgrades(t *testing.T, httpAddr, wsAddr string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	track := func(c net.Conn) bool {
		mu.Lock()
		defer mu.Unlock()
		if conns == nil {
			return false // closed
		}
		conns = append(conns, c)
		return true
	}
	conns = []net.Conn{}
	wg.Go(func() {
		for {
			client, err := l.Accept()
			if err != nil {
				return
			}
			if !track(client) {
				client.Close()
				return
			}
			wg.Go(func() { route(client, httpAddr, wsAddr, track, &wg) })
		}
	})
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		conns = nil
		mu.Unlock()
		wg.Wait()
	})
	return l.Addr().String()
}

// route reads client's request head, picks the server and relays both ways.
func route(client net.Conn, httpAddr, wsAddr string, track func(net.Conn) bool, wg *sync.WaitGroup) {
	br := bufio.NewReader(client)
	client.SetReadDeadline(time.Now().Add(testTimeout))
	var head []byte
	for !bytes.HasSuffix(head, []byte("\r\n\r\n")) && !bytes.Equal(head, []byte("\r\n")) {
		line, err := br.ReadSlice('\n')
		head = append(head, line...)
		if err != nil || len(head) > 64<<10 {
			client.Close()
			return
		}
	}
	client.SetReadDeadline(time.Time{})
	target := httpAddr
	if bytes.Contains(bytes.ToLower(head), []byte("\nupgrade: websocket")) {
		target = wsAddr
	}
	server, err := net.DialTimeout("tcp", target, 5*time.Second)
	if err != nil || !track(server) {
		client.Close()
		if server != nil {
			server.Close()
		}
		return
	}
	if _, err := server.Write(head); err != nil {
		client.Close()
		return
	}
	wg.Go(func() { relay(server, br, client) })
	relay(client, server, server)
}

// relay copies src to dst, then passes the end of src's stream on as a
// half close; srcConn is closed if dst fails.
func relay(dst net.Conn, src io.Reader, srcConn net.Conn) {
	if _, err := io.Copy(dst, src); err != nil {
		srcConn.Close()
	}
	if tc, ok := dst.(*net.TCPConn); ok {
		tc.CloseWrite()
	} else {
		dst.Close()
	}
}

// eventLoopSite serves the page files (static, as acceptServerWith does)
// through net/http and the scenario through pushServer in the event-loop
// mode, both behind one address, which it returns.
func eventLoopSite(ctx context.Context, t *testing.T, mux *http.ServeMux, o websocket.Options, msgs []message) (string, <-chan serverResult) {
	t.Helper()
	wsAddr, results := pushServer(ctx, t, websocket.IOEventLoop, o, msgs)
	site := httptest.NewServer(mux)
	t.Cleanup(site.Close)
	return routeUpgrades(t, site.Listener.Addr().String(), wsAddr), results
}

// onLoop reports whether an event loop serves c, as a user can tell: on a
// loop the reading methods return websocket.ErrEventLoop instead of reading.
// It reads with a context already cancelled, so that on a goroutine it
// returns at once without taking a message; call it only from OnMessage,
// where no other read is running.
func onLoop(c *websocket.Conn) bool {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := c.ReadMessage(ctx)
	return errors.Is(err, websocket.ErrEventLoop)
}
