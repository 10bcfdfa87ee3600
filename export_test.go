package websocket

// Evented reports whether an event loop serves c, for tests that check a
// Server did not fall back to goroutines.
func Evented(c *Conn) bool { return c.s.Conn().Evented() }
