// Command echo-nbio is a WebSocket echo server built on
// github.com/lesismal/nbio, for conformance runs and benchmarks side by side
// with this module's own echo server.
//
//	echo-nbio -addr 127.0.0.1:9006
//
// It echoes every text and binary message at any path, written the way the
// nbio README and its Autobahn server do, in nbio's non-blocking mode: an
// nbhttp.Engine (epoll, a few poller goroutines instead of one goroutine per
// connection) serving a mux whose handler upgrades with an Upgrader whose
// OnMessage writes the message back.
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

// messageLengthLimit replaces nbio's default of 4 MiB per message, which
// would fail Autobahn's 9.x cases (messages up to 16 MiB) for a reason that is
// a configuration choice, not conformance. The engine's ReadLimit already
// defaults to 64 MiB.
const messageLengthLimit = 64 << 20

func main() {
	addr := flag.String("addr", "127.0.0.1:9006", "address to listen on")
	flag.Parse()

	upgrader := websocket.NewUpgrader()
	upgrader.MessageLengthLimit = messageLengthLimit
	// Conformance clients send no Origin; this is a test server.
	upgrader.CheckOrigin = func(*http.Request) bool { return true }
	upgrader.OnMessage(func(c *websocket.Conn, typ websocket.MessageType, data []byte) {
		_ = c.WriteMessage(typ, data)
	})

	engine := nbhttp.NewEngine(nbhttp.Config{
		Network: "tcp",
		Addrs:   []string{*addr},
		IOMod:   nbhttp.IOModNonBlocking, // the default, spelled out
		// Give each message's buffer back to nbio's pool once OnMessage
		// returns (WriteMessage has copied it into a frame by then). Off in
		// a bare nbhttp.Config, but on in the engine nbio's Upgrader uses by
		// default and in nbio's own benchmark servers for many connections
		// (lesismal/go-websocket-benchmark, nbio_nonblocking): the setting
		// its author measures with. Every buffer size stays at nbio's
		// default (ReadBufferSize 64 KiB per poller goroutine, not per
		// connection, in this mode).
		ReleaseWebsocketPayload: true,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := upgrader.Upgrade(w, r, nil)
			if err != nil {
				return // Upgrade has already written the HTTP error.
			}
			// Upgrade arms a read deadline of KeepaliveTime (120 s) that
			// every message renews; like nbio's Autobahn server, clear it.
			_ = c.SetDeadline(time.Time{})
		}),
	})
	if err := engine.Start(); err != nil {
		log.Fatal(err)
	}
	log.Printf("echo-nbio: listening on %s", *addr)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	engine.Stop()
}
