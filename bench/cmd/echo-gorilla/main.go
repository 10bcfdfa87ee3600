// Command echo-gorilla is a WebSocket echo server built on
// github.com/gorilla/websocket, for conformance runs and benchmarks side by
// side with this module's own echo server.
//
//	echo-gorilla -addr 127.0.0.1:9002
//
// It echoes every text and binary message at any path, written the way
// gorilla's documentation shows: an Upgrader on net/http and a
// ReadMessage/WriteMessage loop per connection. Gorilla has no default read
// limit, so none is set, and it does not validate UTF-8 in text messages, so
// neither does this server: the conformance report shows the library as a
// user gets it. (Gorilla's own Autobahn example adds an application-level
// utf8.Valid check; that is user code, not the library.)
package main

import (
	"flag"
	"log"
	"net/http"

	"github.com/gorilla/websocket"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9002", "address to listen on")
	flag.Parse()

	upgrader := websocket.Upgrader{
		// Conformance clients and benchmark drivers send no Origin or a
		// foreign one; this is a test server.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has already written the HTTP error.
		}
		defer c.Close()
		for {
			typ, data, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(typ, data); err != nil {
				return
			}
		}
	})
	log.Printf("echo-gorilla: listening on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, handler))
}
