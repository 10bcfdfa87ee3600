//go:build unix

package netpoll

import (
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/rfc6455/websocket/internal/defaults"
	"github.com/rfc6455/websocket/internal/linger"
	"github.com/rfc6455/websocket/internal/netpoll/sys"
)

// Stream is the goroutine mode's transport over a TCP or Unix socket that
// the runtime's poller owns: a blocking conn.Transport (it satisfies that
// interface without this package importing conn) that lets an idle
// connection wait for bytes without holding a read buffer.
//
// ReadLazy reads through syscall.RawConn: the read system call is made
// from a callback that the runtime calls again once the socket is
// readable. The callback borrows the buffer, reads, and when the socket
// has nothing to give (EAGAIN) gives the buffer back before the goroutine
// parks. So a connection holds a read buffer only while bytes are
// arriving or a partial frame waits for the rest, and the cost over a
// plain Read is a pool round trip when the socket runs dry. On Linux,
// writes go the same way: RawConn.Write waits for room and keeps the write
// deadline as net.Conn.Write does (stream_linux.go), and both make their
// system calls with RawSyscall (package sys).
//
// One goroutine reads and one (under the connection's write lock) writes
// at a time, as conn.Transport says; the two sides share nothing.
type Stream struct {
	net.Conn
	rc syscall.RawConn

	// The read in progress, for readFn (c.readRaw bound once, so that
	// reads do not allocate).
	readFn func(fd uintptr) bool
	lend   bufferLender
	n      int
	err    error

	streamWriter // writes (stream_linux.go; empty elsewhere)
}

// NewStream returns the Stream of nc, a *net.TCPConn or *net.UnixConn,
// and false for any other net.Conn or one whose descriptor is gone.
func NewStream(nc net.Conn) (*Stream, bool) {
	switch nc.(type) {
	case *net.TCPConn, *net.UnixConn:
	default:
		return nil, false
	}
	rc, err := nc.(syscall.Conn).SyscallConn()
	if err != nil {
		return nil, false
	}
	s := &Stream{Conn: nc, rc: rc}
	s.readFn = s.readRaw
	s.bind()
	return s, true
}

// NetConn returns the socket's net.Conn.
func (s *Stream) NetConn() net.Conn { return s.Conn }

// ReadLazy reads into b's buffer, borrowing it only once the socket is
// readable and giving it back before the goroutine parks.
func (s *Stream) ReadLazy(b bufferLender) (int, error) {
	s.lend, s.n, s.err = b, 0, nil
	err := s.rc.Read(s.readFn)
	s.lend = nil
	if err != nil {
		return 0, err // a deadline or a closed socket, seen while waiting
	}
	if s.n > 0 {
		return s.n, nil
	}
	if s.err == nil {
		return 0, io.EOF
	}
	return 0, s.err
}

// readRaw is the RawConn callback: it reports false to wait for
// readability, true once the read has a result.
func (s *Stream) readRaw(fd uintptr) bool {
	p := s.lend.Lend()
	for {
		n, err := sys.Read(int(fd), p)
		switch err {
		case 0:
			s.n = n
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			s.lend.Return()
			return false
		}
		s.err = os.NewSyscallError("read", err)
		return true
	}
}

// WaitRoom returns nil: Write itself waits for room.
func (s *Stream) WaitRoom(time.Duration) error { return nil }

// AfterFunc is time.AfterFunc: a Stream has no loop.
func (s *Stream) AfterFunc(d time.Duration, f func()) timer { return time.AfterFunc(d, f) }

// Abort closes the socket at once: the peer sees a reset (SO_LINGER 0).
func (s *Stream) Abort() error {
	if lc, ok := s.Conn.(interface{ SetLinger(int) error }); ok {
		lc.SetLinger(0)
	}
	return s.Conn.Close()
}

// CloseLingering ends the write side and closes the socket once the peer
// has ended its side or defaults.CloseLinger has passed, discarding what
// arrives meanwhile (conn.Lingerer).
func (s *Stream) CloseLingering() error { return linger.Close(s.Conn, defaults.CloseLinger) }

// Nonblocking reports false: a Stream's reads wait.
func (s *Stream) Nonblocking() bool { return false }
