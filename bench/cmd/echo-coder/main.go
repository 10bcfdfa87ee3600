// Command echo-coder is a WebSocket echo server built on
// github.com/coder/websocket, for conformance runs and benchmarks side by
// side with this module's own echo server.
//
//	echo-coder -addr 127.0.0.1:9004
//
// It echoes every text and binary message at any path, written the way the
// library's echo example does: Accept on net/http, then Reader and Writer
// streamed into each other with io.Copy, so a message is never held whole.
package main

import (
	"context"
	"flag"
	"io"
	"log"
	"net/http"

	"github.com/coder/websocket"
)

// readLimit replaces coder's default of 32 KiB per message, which would fail
// Autobahn's 9.x cases (messages up to 16 MiB) for a reason that is a
// configuration choice, not conformance.
const readLimit = 64 << 20

func main() {
	addr := flag.String("addr", "127.0.0.1:9004", "address to listen on")
	flag.Parse()

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
			// Conformance clients send no Origin; this is a test server.
			InsecureSkipVerify: true,
		})
		if err != nil {
			return // Accept has already written the HTTP error.
		}
		defer c.CloseNow()
		c.SetReadLimit(readLimit)
		ctx := r.Context()
		for {
			if err := echo(ctx, c); err != nil {
				return
			}
		}
	})
	log.Printf("echo-coder: listening on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, handler))
}

// echo copies one message from c back to c.
func echo(ctx context.Context, c *websocket.Conn) error {
	typ, r, err := c.Reader(ctx)
	if err != nil {
		return err
	}
	w, err := c.Writer(ctx, typ)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		return err
	}
	return w.Close()
}
