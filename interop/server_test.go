package interop

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
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

// acceptServer serves the scenario at /ws through Accept, and the files of
// peers/ named in static at their names (the browser's page and modules).
func acceptServer(ctx context.Context, t *testing.T, static ...string) (*httptest.Server, <-chan serverResult) {
	t.Helper()
	return acceptServerWith(ctx, t, options(), scenario(), static...)
}

// acceptServerWith is acceptServer with our side's options and messages.
func acceptServerWith(ctx context.Context, t *testing.T, o websocket.Options, msgs []message, static ...string) (*httptest.Server, <-chan serverResult) {
	t.Helper()
	results := make(chan serverResult, 1)
	mux := http.NewServeMux()
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
	srv := httptest.NewServer(mux) // 127.0.0.1:0
	t.Cleanup(srv.Close)
	return srv, results
}

// rawServer serves the scenario at any path through websocket.Server.
func rawServer(ctx context.Context, t *testing.T) (string, <-chan serverResult) {
	t.Helper()
	return rawServerWith(ctx, t, options(), scenario())
}

// rawServerWith is rawServer with our side's options and messages.
func rawServerWith(ctx context.Context, t *testing.T, o websocket.Options, msgs []message) (string, <-chan serverResult) {
	t.Helper()
	results := make(chan serverResult, 1)
	srv := &websocket.Server{
		Options: websocket.AcceptOptions{Options: o},
		Handler: func(c *websocket.Conn, _ *websocket.Request) {
			deliver(results, serverResult{serveScenario(ctx, c, msgs), c})
		},
	}
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
	return "ws://" + l.Addr().String() + "/interop", results
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
	chromium := needChromium(t)
	node := needNode(t, "chromium via playwright-core", "playwright-core")
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	srv, results := acceptServer(ctx, t, "browser.mjs", "scenario.mjs")
	p := startPeer(ctx, t, "chromium", node, "chromium.mjs", srv.URL+"/", chromium)
	judge(ctx, t, p, results, false) // the browser API cannot fragment
}

func TestServerNodeWS(t *testing.T) {
	node := needNode(t, "node ws client", "ws")
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	url, results := rawServer(ctx, t)
	p := startPeer(ctx, t, "node ws client", node, "ws_client.mjs", url)
	judge(ctx, t, p, results, true)
}

func TestServerPythonWebsockets(t *testing.T) {
	py := needPython(t, "python websockets client", "websockets")
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	url, results := rawServer(ctx, t)
	p := startPeer(ctx, t, "python websockets client", py, "websockets_client.py", url)
	judge(ctx, t, p, results, true)
}

func TestServerPythonAutobahn(t *testing.T) {
	py := needPython(t, "python autobahn client", "autobahn.asyncio.websocket")
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	srv, results := acceptServer(ctx, t)
	p := startPeer(ctx, t, "python autobahn client", py, "autobahn_client.py", "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws")
	judge(ctx, t, p, results, true)
}
