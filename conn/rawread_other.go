//go:build !unix

package conn

// rawReader is unused where sockets cannot be read through RawConn with a
// callback of ours: connections keep a read buffer for their life.
type rawReader struct{}

func newRawReader(*Conn) *rawReader { return nil }
func (c *Conn) fillRaw() error      { panic("unreachable") }
