//go:build unix

package conn

import (
	"io"
	"os"
	"syscall"
)

// rawIO lets an idle connection wait for bytes without holding a read
// buffer. Reading through syscall.RawConn, the read system call is made
// from a callback that the runtime calls again once the socket is readable:
// the callback borrows a pooled buffer, reads, and when the socket has
// nothing to give (EAGAIN) hands the buffer back before the goroutine parks.
// So a connection holds a read buffer only while bytes are arriving or a
// partial frame waits for the rest, and the cost over a plain Read is a
// pool round trip when the socket runs dry. Where rawWrites is set (Linux),
// writes go the same way: RawConn.Write waits for room and keeps the write
// deadline as net.Conn.Write does (rawwrite_linux.go). On Linux both make
// their system calls with RawSyscall (sys_linux.go).
type rawIO struct {
	rc  syscall.RawConn
	fn  func(fd uintptr) bool // c.readRaw, bound once so that reads do not allocate
	n   int
	err error

	rawWriter // writes (rawwrite_linux.go; empty elsewhere)
}

// newRawIO sets up raw reads and writes if the connection is a socket
// that supports them, and returns nil if not.
func newRawIO(c *Conn) *rawIO {
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	r := &rawIO{rc: rc, fn: c.readRaw}
	r.bind(c)
	return r
}

// fillRaw reads into an empty read buffer, borrowing it as bytes arrive.
func (c *Conn) fillRaw() error {
	c.raw.n, c.raw.err = 0, nil
	if err := c.raw.rc.Read(c.raw.fn); err != nil {
		// A deadline or a closed socket, seen while waiting.
		c.putReadBuffer()
		return c.readErr(err)
	}
	if n := c.raw.n; n > 0 {
		c.w = n
		c.stats.bytesIn.Add(uint64(n))
		return nil
	}
	c.putReadBuffer()
	err := c.raw.err
	if err == nil {
		err = io.EOF
	}
	return c.readErr(err)
}

// readRaw is the RawConn callback: it reports false to wait for
// readability, true once the read has a result.
func (c *Conn) readRaw(fd uintptr) bool {
	if c.rbuf == nil {
		c.getReadBuffer()
	}
	for {
		n, err := sysRead(int(fd), c.rbuf)
		switch err {
		case 0:
			c.raw.n = n
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			c.putReadBuffer()
			return false
		}
		c.raw.err = os.NewSyscallError("read", err)
		return true
	}
}
