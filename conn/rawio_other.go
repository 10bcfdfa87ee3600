//go:build !unix

package conn

// rawIO is unused where sockets cannot be read through RawConn with a
// callback of ours: connections keep a read buffer for their life, and
// write through the net package.
type rawIO struct{}

const rawWrites = false

func newRawIO(*Conn) *rawIO                      { return nil }
func (c *Conn) fillRaw() error                   { panic("unreachable") }
func (c *Conn) writeRaw([][]byte) (int64, error) { panic("unreachable") }
func (c *Conn) writeRaw1([]byte) (int64, error)  { panic("unreachable") }
