package websocket

import "net"

// Evented reports whether an event loop serves c, for tests that check a
// Server did not fall back to goroutines.
func Evented(c *Conn) bool { return c.s.Conn().Evented() }

// NetConn returns the socket under c (a *tls.Conn for wss://), for tests.
func NetConn(c *Conn) net.Conn { return c.s.Conn().NetConn() }
