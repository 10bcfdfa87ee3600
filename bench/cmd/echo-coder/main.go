// Command echo-coder is a WebSocket echo server built on
// github.com/coder/websocket, for conformance runs and benchmarks side by
// side with this module's own echo server.
//
//	echo-coder -addr 127.0.0.1:9004
//
// It echoes every text and binary message at any path: Accept on net/http,
// then per message Reader, read into a buffer the connection keeps and
// reuses, and Write, which sends the message as one frame. That is the
// zero-allocation use the README advertises ("zero alloc reads and
// writes"). The library's echo example streams Reader into Writer with
// io.Copy instead, which allocates io.Copy's 32 KiB buffer for every message
// (coder's reader implements neither io.WriterTo nor its writer
// io.ReaderFrom) and sends every message as at least two frames (the data
// without FIN, then an empty frame with FIN from Writer.Close).
package main

import (
	"bytes"
	"context"
	"flag"
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
		var msg bytes.Buffer // reused for every message
		for {
			if err := echo(ctx, c, &msg); err != nil {
				return
			}
		}
	})
	log.Printf("echo-coder: listening on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, handler))
}

// echo reads one message from c into msg and writes it back.
func echo(ctx context.Context, c *websocket.Conn, msg *bytes.Buffer) error {
	typ, r, err := c.Reader(ctx)
	if err != nil {
		return err
	}
	msg.Reset()
	if _, err := msg.ReadFrom(r); err != nil {
		return err
	}
	return c.Write(ctx, typ, msg.Bytes())
}
