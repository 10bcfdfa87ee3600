// Command echo-gws is a WebSocket echo server built on github.com/lxzan/gws,
// for conformance runs and benchmarks side by side with this module's own
// echo server.
//
//	echo-gws -addr 127.0.0.1:9005
//
// It echoes every text and binary message at any path, written the way the
// gws README and its Autobahn example do: a Server with an event handler
// whose OnMessage writes the message back and returns its buffer to the
// pool. UTF-8 checking of text is off by default in gws (for speed); it is
// switched on here, as in gws's own Autobahn server, so the run measures the
// library's conformance rather than a disabled check.
package main

import (
	"flag"
	"log"

	"github.com/lxzan/gws"
)

// readMaxPayloadSize raises gws's default of 16 MiB per message, which sits
// exactly at the size of Autobahn's largest 9.x messages, so those cases do
// not fail on a configuration choice.
const readMaxPayloadSize = 64 << 20

func main() {
	addr := flag.String("addr", "127.0.0.1:9005", "address to listen on")
	flag.Parse()

	srv := gws.NewServer(handler{}, &gws.ServerOption{
		ReadMaxPayloadSize: readMaxPayloadSize,
		CheckUtf8Enabled:   true,
		// Off, the default (and the README's quick start): a
		// connection's messages are handled one after another on its
		// read goroutine. The README's "best practice" turns it on,
		// which hands each message to a per-connection goroutine pool:
		// OnMessage calls may then overlap and echoes leave out of
		// order, and with GOMAXPROCS=1 there is no parallelism to win.
		ParallelEnabled: false,
		Recovery:        gws.Recovery,
		// Authorize is left nil: gws then accepts every request, any
		// Origin, which a test server wants.
	})
	log.Printf("echo-gws: listening on %s", *addr)
	log.Fatal(srv.Run(*addr))
}

// handler echoes messages; BuiltinEventHandler supplies no-op OnOpen,
// OnClose and OnPong.
type handler struct{ gws.BuiltinEventHandler }

// OnPing answers with the ping's payload, as RFC 6455 §5.5.3 requires.
// BuiltinEventHandler.OnPing (and the README's example handler) send an
// empty pong instead; gws's own Autobahn server overrides it like this.
func (handler) OnPing(c *gws.Conn, payload []byte) {
	_ = c.WritePong(payload)
}

func (handler) OnMessage(c *gws.Conn, m *gws.Message) {
	defer m.Close() // returns the buffer to gws's pool
	_ = c.WriteMessage(m.Opcode, m.Bytes())
}
