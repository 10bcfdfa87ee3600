//go:build !linux && !js

package websocket

import "net"

// listen is net.Listen("tcp", addr): only Linux is known here to copy the
// listening socket's keep-alive options into the sockets it accepts.
func listen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }
