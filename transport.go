package websocket

import (
	"net"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/internal/netpoll"
)

// newTransport chooses the byte stream a connection's frames travel on,
// for every entry point (Accept, Upgrade, Dial and the Server in both I/O
// modes): an event loop's socket is its own transport; a TCP or Unix
// socket in the goroutine mode is read through the runtime's poller
// without holding a read buffer while idle (netpoll.Stream, where the
// system allows); anything else (TLS, pipes, wrapped connections) is a
// plain blocking stream that holds one.
func newTransport(nc net.Conn) conn.Transport {
	if sk, ok := nc.(*netpoll.Socket); ok {
		return sk
	}
	if s, ok := netpoll.NewStream(nc); ok {
		return s
	}
	return conn.NewStream(nc)
}
