// Package graceful is how the examples serve HTTP until they are told to
// stop, and then stop cleanly: no new connections, plain HTTP requests
// finished, and every WebSocket closed with 1001 (going away) rather than
// dropped. Their main ends a context on SIGINT or SIGTERM
// (signal.NotifyContext) and hands it to Serve.
//
// The one thing net/http cannot do here is the WebSockets:
// http.Server.Shutdown waits for the requests it still serves, but an
// upgraded connection has been handed over (Accept hijacks it) and is
// no longer the server's. So the example closes those itself, in the
// closeAll it gives Serve.
package graceful

import (
	"context"
	"log"
	"net"
	"net/http"
	"time"
)

// Timeout bounds a shutdown: the close handshakes run at once, each
// bounded by the library's Options.CloseTimeout (5 s by default).
const Timeout = 10 * time.Second

// Serve serves h on ln until ctx ends or the server fails (its error is
// returned then). When ctx ends, it shuts down within Timeout: it stops
// accepting, waits for plain HTTP requests to finish, then calls closeAll,
// which closes the WebSocket connections h upgraded and returns once they
// are closed or its context ends. The request heads are bounded by a
// ReadHeaderTimeout of 10 s (once upgraded, a connection is no longer
// net/http's, and its timeouts do not apply). name prefixes the log line.
func Serve(ctx context.Context, name string, ln net.Listener, h http.Handler, closeAll func(context.Context) error) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Printf("%s: shutting down", name)
	sctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	return closeAll(sctx)
}
