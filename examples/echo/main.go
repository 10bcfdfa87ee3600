// Command echo is the smallest useful WebSocket server: it sends every
// message back to its sender, text as text and binary as binary.
//
//	go run ./examples/echo -addr 127.0.0.1:8080
//
// serves ws://127.0.0.1:8080/ (any path). The library's defaults apply:
// messages up to 1 MiB, text checked for valid UTF-8, and browsers from
// other origins refused (see websocket.AcceptOptions.OriginPatterns). On
// SIGINT or SIGTERM the server stops accepting, closes every connection
// with 1001 (going away) and exits with status 0.
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/examples/internal/graceful"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()

	// SIGINT (Ctrl-C) and SIGTERM (docker stop, systemd, kill) end ctx.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr); err != nil {
		log.Fatal(err)
	}
}

// run serves on addr until ctx ends, then shuts down: it stops accepting,
// closes every WebSocket with 1001 (going away) and waits, at most
// graceful.Timeout, for the handlers to return.
func run(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	log.Printf("echo: serving ws://%s/", ln.Addr())
	// Each handler closes its own connection when ctx ends (see
	// ServeHTTP); s.wait waits for them.
	s := &echoServer{stop: ctx}
	return graceful.Serve(ctx, "echo", ln, s, s.wait)
}

// echoServer is the echo endpoint. It closes its connections with 1001
// when stop ends, and counts its handlers so that shutdown can wait for
// them.
type echoServer struct {
	stop     context.Context
	handlers sync.WaitGroup
}

// ServeHTTP upgrades the request and echoes each message until the
// client closes the connection, breaks the protocol, or the server stops.
func (s *echoServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handlers.Add(1)
	defer s.handlers.Done()
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept has answered with the right HTTP status
	}
	defer c.CloseNow()
	// When the server stops, Close runs the close handshake from a
	// goroutine of its own; the read below then returns the *CloseError
	// for 1001.
	goingAway := context.AfterFunc(s.stop, func() { c.Close(websocket.StatusGoingAway, "server shutting down") })
	defer goingAway()

	// AppendMessage reuses buf, so a steady stream of messages costs no
	// allocation per message.
	var buf []byte
	for {
		typ, data, err := c.AppendMessage(r.Context(), buf[:0])
		if err != nil {
			if !ordinaryClose(err) {
				log.Printf("echo: %s: %v", r.RemoteAddr, err)
			}
			return
		}
		if err := c.WriteMessage(r.Context(), typ, data); err != nil {
			log.Printf("echo: %s: %v", r.RemoteAddr, err)
			return
		}
		if cap(data) <= 64<<10 {
			buf = data // keep a small buffer, not the largest message ever seen
		}
	}
}

// wait waits for the handlers to return, at most until ctx ends. Each
// handler's close handshake is bounded by Options.CloseTimeout, so they
// return in time unless that is longer than ctx allows; the process then
// exits, which drops what is left.
func (s *echoServer) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		s.handlers.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return errors.New("echo: connections still open after " + graceful.Timeout.String())
	}
}

// ordinaryClose reports whether err is how a client normally leaves: a
// close handshake with 1000, or 1001 from a browser leaving the page.
func ordinaryClose(err error) bool {
	var ce *websocket.CloseError
	return errors.As(err, &ce) && ce.Err == nil &&
		(ce.Code == websocket.StatusNormalClosure || ce.Code == websocket.StatusGoingAway)
}
