//go:build !unix

package conn

// rawIO is unused where sockets cannot be read through RawConn with a
// callback of ours: connections keep a read buffer for their life, and
// write through the net package.
type rawIO struct{}

func newRawIO(*Conn) *rawIO    { return nil }
func (c *Conn) fillRaw() error { panic("unreachable") }
