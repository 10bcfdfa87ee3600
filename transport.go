//go:build !js

package websocket

import (
	"net"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/internal/netpoll"
)

// newFrameConn returns the frame connection over nc, on the byte stream
// chosen for every entry point (Accept, Upgrade, Dial and the Server in
// both I/O modes): an event loop's socket is its own transport; a TCP or
// Unix socket in the goroutine mode is read through the runtime's poller
// without holding a read buffer while idle (netpoll.Stream, where the
// system allows); anything else (TLS, pipes, wrapped connections) is
// conn.New's blocking stream, which holds one.
func newFrameConn(nc net.Conn, role conn.Role, cfg *conn.Config) *conn.Conn {
	if sk, ok := nc.(*netpoll.Socket); ok {
		return conn.NewTransport(sk, role, cfg)
	}
	if s, ok := netpoll.NewStream(nc); ok {
		return conn.NewTransport(s, role, cfg)
	}
	return conn.New(nc, role, cfg)
}
