package conn

import (
	"net"
	"time"

	"github.com/rfc6455/websocket/internal/defaults"
	"github.com/rfc6455/websocket/internal/linger"
)

// Transport is the byte stream a Conn reads frames from and writes frames
// to: the one seam between the frame layer and whatever carries its bytes.
// Conn makes every read, write, deadline and close through it, and knows
// nothing else of the stream: not whether it is a socket, a file
// descriptor, an event loop's socket, or (later) an HTTP/2 stream or a TLS
// session on the event loops.
//
// Two kinds of stream implement it. A blocking stream (New over any
// net.Conn, or a socket read through the runtime's poller, as the root
// package sets up) waits in Read until bytes arrive. A non-blocking stream
// (Nonblocking reports true; the event loops' sockets) never waits: a Read
// with nothing to return reports "would block" as 0, nil, which Conn turns
// into ErrWouldBlock, and whoever owns the stream calls the reader again
// when bytes arrive.
//
// Conn calls Read, ReadLazy, Write and Writev once per system call, not
// per frame; the other methods are rare. A Conn calls the read methods from
// its reading goroutine and the write methods under its write lock, so a
// Transport needs no locking of its own between readers or between
// writers, only between the two sides, and for Close from any goroutine.
type Transport interface {
	// Read reads up to len(p) bytes into p. A blocking stream waits for at
	// least one byte, the read deadline or an error; a non-blocking stream
	// returns 0, nil at once when it has nothing (and only then: an empty
	// p is never passed). io.EOF is the end of the stream, a deadline
	// error (os.ErrDeadlineExceeded or a net.Error that is a timeout) is
	// recoverable, anything else is final.
	Read(p []byte) (n int, err error)

	// ReadLazy is Read into a buffer the stream borrows from b only once
	// it has bytes to put there, so that a connection waiting for its peer
	// holds no read buffer. Conn calls it when nothing partial is
	// buffered. b.Lend returns the Conn's read buffer, borrowing one from
	// a pool if the Conn holds none; a stream that reads nothing (would
	// block, an error, or readiness that came to nothing) gives it back
	// with b.Return before it waits or returns. A stream that cannot wait
	// without a buffer simply reads into b.Lend(). The interface is
	// unnamed, so that a stream in a package that cannot import this one
	// satisfies Transport with the same literal.
	ReadLazy(b interface {
		Lend() []byte
		Return()
	}) (n int, err error)

	// Write writes all of p or returns an error, like io.Writer. A
	// non-blocking stream keeps what the peer cannot take yet and sends it
	// later, in order.
	Write(p []byte) (n int, err error)

	// Writev writes the buffers in order, in one system call where the
	// stream can (a header and a payload, not copied together), with the
	// semantics of Write. It may consume *bufs, as net.Buffers.WriteTo
	// does.
	Writev(bufs *net.Buffers) (n int64, err error)

	// WaitRoom is called before each write of a non-blocking stream, with
	// no lock held: it waits while the stream holds too much that its peer
	// has not taken, for at most timeout if positive, else until the write
	// deadline, and returns the deadline's error if that passes. It is
	// where backpressure reaches writers. Blocking streams return nil.
	WaitRoom(timeout time.Duration) error

	// AfterFunc runs f after d, on the goroutine that owns the stream's
	// events if it has one (an event loop), else on a goroutine of its
	// own, as time.AfterFunc does. The timer it returns is the part of a
	// *time.Timer that a connection needs (a *time.Timer is one).
	AfterFunc(d time.Duration, f func()) interface {
		Reset(d time.Duration) bool
		Stop() bool
	}

	// SetReadDeadline and SetWriteDeadline are net.Conn's. A read
	// deadline in the past wakes a waiting reader (Conn.Interrupt relies
	// on it); a non-blocking stream instead has its reader called, whose
	// read then fails with the deadline's error.
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error

	// Close closes the stream after what was written (a non-blocking
	// stream may finish sending it after Close returns); Abort closes it
	// at once, dropping what is unsent: a TCP peer sees a reset.
	Close() error
	Abort() error

	// LocalAddr and RemoteAddr are net.Conn's.
	LocalAddr() net.Addr
	RemoteAddr() net.Addr

	// Nonblocking reports whether the stream never waits (see above). It
	// must not change; Conn asks once.
	Nonblocking() bool
}

// A Lingerer is a Transport that can close lingering, for
// Conn.CloseLingering: CloseLingering ends the write side of the stream
// once what was written has gone (a TCP FIN), then reads and discards what
// the peer still sends until it ends its side or defaults.CloseLinger
// (1 s) passes, and then closes the stream. It returns at once; the
// descriptor is closed later. New's transport is a Lingerer over a net.Conn
// that has CloseWrite (TCP, Unix, TLS), and so are the root package's
// sockets in both I/O modes.
type Lingerer interface {
	CloseLingering() error
}

// bufferLender and timer name, inside this package, the unnamed interface
// types of Transport.ReadLazy and Transport.AfterFunc.
type (
	bufferLender = interface {
		Lend() []byte
		Return()
	}
	timer = interface {
		Reset(d time.Duration) bool
		Stop() bool
	}
)

// newStream returns the blocking Transport over nc that New uses. It holds
// a read buffer while it waits (nc cannot wait for readability without
// one), and writes buffers with net.Buffers (writev where nc supports it).
// Abort sets SO_LINGER to 0 first where nc has SetLinger.
func newStream(nc net.Conn) Transport { return &netStream{nc} }

// netStream is the Transport of any net.Conn.
type netStream struct{ net.Conn }

func (s *netStream) ReadLazy(b bufferLender) (int, error) { return s.Conn.Read(b.Lend()) }

func (s *netStream) Writev(bufs *net.Buffers) (int64, error) { return bufs.WriteTo(s.Conn) }

func (s *netStream) WaitRoom(time.Duration) error { return nil }

func (s *netStream) AfterFunc(d time.Duration, f func()) timer { return time.AfterFunc(d, f) }

func (s *netStream) Abort() error {
	if lc, ok := s.Conn.(interface{ SetLinger(int) error }); ok {
		lc.SetLinger(0)
	}
	return s.Conn.Close()
}

func (s *netStream) CloseLingering() error { return linger.Close(s.Conn, defaults.CloseLinger) }

func (s *netStream) Nonblocking() bool { return false }

// lender is the bufferLender view of a Conn: a conversion of the pointer,
// so that handing it to ReadLazy allocates nothing.
type lender Conn

func (l *lender) Lend() []byte {
	c := (*Conn)(l)
	if c.rbuf == nil {
		c.getReadBuffer()
	}
	return c.rbuf
}

func (l *lender) Return() { (*Conn)(l).putReadBuffer() }
