// Command echoserver is the WebSocket echo server that conformance runs and
// benchmarks use: it echoes every text and binary message, at any path.
//
//	echoserver -addr 127.0.0.1:9001 [-deflate] [-io goroutine|eventloop]
//
// It is written the way the README tells users to write a fast server: a
// Server in push style (no Handler, Options.OnMessage), whose message
// buffer is reused and whose replies to messages that arrived together
// leave in one write.
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rfc6455/websocket"
)

// maxMessageSize lets the Autobahn testsuite's 16 MiB messages through
// with room to spare.
const maxMessageSize = 32 << 20

func main() {
	addr := flag.String("addr", "127.0.0.1:9001", "address to listen on")
	maxConns := flag.Int("max-conns", 0, "connection limit (0: the library's default)")
	deflate := flag.Bool("deflate", false, "accept permessage-deflate (RFC 7692), every parameter allowed")
	io := flag.String("io", "goroutine", "I/O mode: goroutine (a goroutine per connection) or eventloop (epoll loops, Linux)")
	flag.Parse()
	var mode websocket.IOMode
	switch *io {
	case "goroutine":
		mode = websocket.IOGoroutine
	case "eventloop":
		mode = websocket.IOEventLoop
	default:
		log.Fatalf("echoserver: -io %q: want goroutine or eventloop", *io)
	}

	srv := &websocket.Server{
		Addr:           *addr,
		MaxConnections: *maxConns,
		IO:             mode,
		Options: websocket.AcceptOptions{
			// The testsuite's largest messages (cases 9.x) are 16 MiB,
			// past the library's production default of 1 MiB.
			Options: websocket.Options{OnMessage: echo, MaxMessageSize: maxMessageSize},
			// Conformance clients send no Origin; browsers on other
			// origins are welcome too: this is a test server.
			InsecureSkipOriginCheck: true,
		},
	}
	// The server's default budget, but room for two of the testsuite's
	// largest messages on the smallest machines too.
	srv.Options.Budget = websocket.NewBudget(max(websocket.DefaultBudgetSize(), 2*maxMessageSize), 0)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	if *deflate {
		// Every message compressed, whatever its size: conformance runs
		// are there to exercise compression.
		srv.Options.Compression = &websocket.CompressionOptions{Threshold: -1}
	}
	log.Printf("echoserver: listening on %s (%v)", *addr, mode)
	if err := srv.ListenAndServe(); err != nil && err != websocket.ErrServerClosed {
		log.Fatal(err)
	}
}

// echo sends every message back. data is only valid during the call, and
// WriteMessage is done with it when it returns.
func echo(c *websocket.Conn, typ websocket.MessageType, data []byte) {
	c.WriteMessage(context.Background(), typ, data)
}
