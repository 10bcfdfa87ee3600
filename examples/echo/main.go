// Command echo is the smallest useful WebSocket server: it sends every
// message back to its sender, text as text and binary as binary.
//
//	go run ./examples/echo -addr 127.0.0.1:8080
//
// serves ws://127.0.0.1:8080/ (any path). The library's defaults apply:
// messages up to 32 MiB, text checked for valid UTF-8, and browsers from
// other origins refused (see websocket.AcceptOptions.OriginPatterns).
package main

import (
	"errors"
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/rfc6455/websocket"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()

	srv := &http.Server{
		Addr:    *addr,
		Handler: http.HandlerFunc(echo),
		// Bounds the request head. Once upgraded, a connection is no
		// longer net/http's, and these timeouts no longer apply to it.
		ReadHeaderTimeout: 10 * time.Second,
	}
	log.Printf("echo: serving ws://%s/", *addr)
	log.Fatal(srv.ListenAndServe())
}

// echo upgrades the request and echoes each message until the client
// closes the connection or breaks the protocol.
func echo(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept has answered with the right HTTP status
	}
	defer c.CloseNow()

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

// ordinaryClose reports whether err is how a client normally leaves: a
// close handshake with 1000, or 1001 from a browser leaving the page.
func ordinaryClose(err error) bool {
	var ce *websocket.CloseError
	return errors.As(err, &ce) && ce.Err == nil &&
		(ce.Code == websocket.StatusNormalClosure || ce.Code == websocket.StatusGoingAway)
}
