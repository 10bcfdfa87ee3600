package interop

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/rfc6455/websocket"
)

// Our server, real clients. Each test starts our server on 127.0.0.1:0, runs
// the peer against it, and checks both verdicts: the server handler's and
// the peer's. Two serve through Accept (net/http), two through Server (raw
// sockets), so both front doors meet real clients.

// serverResult is what our handler found, with the connection for its stats.
type serverResult struct {
	failures []string
	conn     *websocket.Conn
}

// acceptServer serves the scenario at /ws, and the files of peers/ named in
// static at their names (the browser's page and modules), on the address
// it returns: through Accept on net/http in the goroutine mode, through a
// Server on event loops otherwise (eventLoopSite).
func acceptServer(ctx context.Context, t *testing.T, mode websocket.IOMode, static ...string) (string, <-chan serverResult) {
	t.Helper()
	return acceptServerWith(ctx, t, mode, options(), scenario(), static...)
}

// acceptServerWith is acceptServer with our side's options and messages.
func acceptServerWith(ctx context.Context, t *testing.T, mode websocket.IOMode, o websocket.Options, msgs []message, static ...string) (string, <-chan serverResult) {
	t.Helper()
	results := make(chan serverResult, 1)
	mux := http.NewServeMux()
	if mode == websocket.IOGoroutine {
		mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
			opts := &websocket.AcceptOptions{Options: o}
			c, err := websocket.Accept(w, r, opts) // default Origin policy: the page is same-origin
			if err != nil {
				deliver(results, serverResult{failures: []string{"accept: " + err.Error()}})
				return
			}
			defer c.CloseNow()
			deliver(results, serverResult{serveScenario(ctx, c, msgs), c})
		})
	}
	dir := peersDir(t)
	for _, name := range static {
		mux.HandleFunc("/"+name, func(w http.ResponseWriter, r *http.Request) {
			if filepath.Ext(name) == ".mjs" {
				w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
			}
			http.ServeFile(w, r, filepath.Join(dir, name))
		})
	}
	mux.HandleFunc("/favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent) // spares the browser's console a 404
	})
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(dir, "browser.html"))
	})
	if mode != websocket.IOGoroutine {
		return eventLoopSite(ctx, t, mux, o, msgs)
	}
	srv := httptest.NewServer(mux) // 127.0.0.1:0
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), results
}

// rawServer serves the scenario at any path through websocket.Server: with
// a Handler in the goroutine mode, push style (pushServer) on event loops.
func rawServer(ctx context.Context, t *testing.T, mode websocket.IOMode) (string, <-chan serverResult) {
	t.Helper()
	return rawServerWith(ctx, t, mode, options(), scenario())
}

// rawServerWith is rawServer with our side's options and messages.
func rawServerWith(ctx context.Context, t *testing.T, mode websocket.IOMode, o websocket.Options, msgs []message) (string, <-chan serverResult) {
	t.Helper()
	if mode != websocket.IOGoroutine {
		addr, results := pushServer(ctx, t, mode, o, msgs)
		return "ws://" + addr + "/interop", results
	}
	results := make(chan serverResult, 1)
	srv := &websocket.Server{
		Options: websocket.AcceptOptions{Options: o},
		Handler: func(c *websocket.Conn, _ *websocket.Request) {
			deliver(results, serverResult{serveScenario(ctx, c, msgs), c})
		},
	}
	return "ws://" + serve(t, srv) + "/interop", results
}

// serve runs srv on a loopback port until the test ends, when it must
// shut down cleanly, and returns the address.
func serve(t *testing.T, srv *websocket.Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, websocket.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return l.Addr().String()
}

// deliver hands over the first connection's result; a second connection
// (which no peer should open) must not block its handler forever.
func deliver(results chan<- serverResult, r serverResult) {
	select {
	case results <- r:
	default:
	}
}

// judge waits for our handler's result and the peer's verdict.
func judge(ctx context.Context, t *testing.T, p *peer, results <-chan serverResult, peerFragments bool) {
	t.Helper()
	p.verdict(ctx, t)
	select {
	case r := <-results:
		report(t, "our server", r.failures)
		if r.conn != nil {
			checkFrames(t, r.conn, peerFragments)
		}
	case <-ctx.Done():
		t.Errorf("our server: no result: %v", ctx.Err())
	}
}

func TestServerChromium(t *testing.T) {
	forModes(t, func(t *testing.T, mode websocket.IOMode) {
		chromium := needChromium(t)
		node := needNode(t, "chromium via playwright-core", "playwright-core")
		ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
		defer cancel()
		addr, results := acceptServer(ctx, t, mode, "browser.mjs", "scenario.mjs")
		p := startPeer(ctx, t, "chromium", node, "chromium.mjs", "http://"+addr+"/", chromium)
		judge(ctx, t, p, results, false) // the browser API cannot fragment
	})
}

func TestServerNodeWS(t *testing.T) {
	forModes(t, func(t *testing.T, mode websocket.IOMode) {
		node := needNode(t, "node ws client", "ws")
		ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
		defer cancel()
		url, results := rawServer(ctx, t, mode)
		p := startPeer(ctx, t, "node ws client", node, "ws_client.mjs", url)
		judge(ctx, t, p, results, true)
	})
}

func TestServerPythonWebsockets(t *testing.T) {
	forModes(t, func(t *testing.T, mode websocket.IOMode) {
		py := needPython(t, "python websockets client", "websockets")
		ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
		defer cancel()
		url, results := rawServer(ctx, t, mode)
		p := startPeer(ctx, t, "python websockets client", py, "websockets_client.py", url)
		judge(ctx, t, p, results, true)
	})
}

func TestServerPythonAutobahn(t *testing.T) {
	forModes(t, func(t *testing.T, mode websocket.IOMode) {
		py := needPython(t, "python autobahn client", "autobahn.asyncio.websocket")
		ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
		defer cancel()
		addr, results := acceptServer(ctx, t, mode)
		p := startPeer(ctx, t, "python autobahn client", py, "autobahn_client.py", "ws://"+addr+"/ws")
		judge(ctx, t, p, results, true)
	})
}
