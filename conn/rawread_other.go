//go:build !unix

package conn

// rawReader is unused where sockets cannot be read through RawConn with a
// callback of ours: connections keep a read buffer for their life.
type rawReader struct{}

func (r *rawReader) ok() bool        { return false }
func (r *rawReader) init(*Conn) bool { return false }
func (c *Conn) fillRaw() error       { panic("unreachable") }
