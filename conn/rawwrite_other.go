//go:build !linux

package conn

// rawWrites: elsewhere than Linux writes go through the net package.
const rawWrites = false

type rawWriter struct{}

func (*rawWriter) bind(*Conn) {}

func (c *Conn) writeRaw([][]byte) (int64, error) { panic("unreachable") }
func (c *Conn) writeRaw1([]byte) (int, error)    { panic("unreachable") }
