package testutil

import (
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// pipeBufferSize is how many unread bytes each direction of a Pipe holds
// before writes block: far more than any protocol exchange in a test
// needs, so both ends can write at once, as they can over TCP.
const pipeBufferSize = 4 << 20

// Pipe returns the two ends of an in-memory, full-duplex, buffered
// connection. Unlike [net.Pipe], a Write returns as soon as its bytes are
// buffered (up to 4 MiB per direction; beyond that it blocks until the
// peer reads), so tests where both ends write at once do not deadlock.
//
// The ends behave like TCP connections where it matters to protocol code:
//   - Read returns what is buffered, at most len(p) bytes, blocking only
//     when nothing is; after the peer closes, Read drains the buffer and
//     then returns io.EOF.
//   - Deadlines (SetDeadline, SetReadDeadline, SetWriteDeadline) make
//     blocked and future calls fail with an error that wraps
//     os.ErrDeadlineExceeded and is a net.Error whose Timeout() is true;
//     moving or clearing a deadline revives the end, nothing is lost.
//   - Read, Write and the deadline setters on an end that was closed fail
//     with an error wrapping net.ErrClosed, and so does a second Close.
//   - Write after the peer closed fails with an error wrapping
//     io.ErrClosedPipe, and whatever the peer had not read is dropped.
//   - CloseWrite, as on a *net.TCPConn, makes the peer read io.EOF after
//     the buffered bytes while this end can still read.
//
// All methods are safe for concurrent use. Errors are *net.OpError values
// with Net "pipe". The ends start no goroutines.
func Pipe() (net.Conn, net.Conn) {
	ab, ba := newStream(), newStream()
	a := newPipeConn(ba, ab, pipeAddr("pipe-a"), pipeAddr("pipe-b"))
	b := newPipeConn(ab, ba, pipeAddr("pipe-b"), pipeAddr("pipe-a"))
	return a, b
}

// pipeAddr is the fake address of a Pipe end.
type pipeAddr string

func (a pipeAddr) Network() string { return "pipe" }
func (a pipeAddr) String() string  { return string(a) }

// A stream is one direction of a Pipe: a bounded byte queue with one
// writing end and one reading end.
type stream struct {
	mu  sync.Mutex
	buf []byte // unread bytes are buf[off:]
	off int
	// writerGone: the writing end was closed; reads drain, then io.EOF.
	writerGone bool
	// readerGone: the reading end was closed; writes fail, data is dropped.
	readerGone bool
	// wake is closed, and replaced, whenever the state changes, waking
	// every Read and Write blocked on this stream.
	wake chan struct{}
}

func newStream() *stream { return &stream{wake: make(chan struct{})} }

// changedLocked wakes the waiters. s.mu must be held.
func (s *stream) changedLocked() {
	close(s.wake)
	s.wake = make(chan struct{})
}

// read moves buffered bytes into p. When it returns n == 0 and !eof, the
// caller waits on wake, which was taken under the same lock as the check,
// so no change can slip in between.
func (s *stream) read(p []byte) (n int, eof bool, wake <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.off == len(s.buf) {
		return 0, s.writerGone, s.wake
	}
	n = copy(p, s.buf[s.off:])
	s.off += n
	if s.off == len(s.buf) {
		s.buf, s.off = s.buf[:0], 0
	}
	s.changedLocked() // there is room for blocked writers
	return n, false, nil
}

// write buffers as much of p as fits. broken means no byte can ever be
// delivered: the reader closed, or the writer shut this direction down.
// When it returns n < len(p) and !broken, the caller waits on wake for
// room.
func (s *stream) write(p []byte) (n int, broken bool, wake <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.readerGone || s.writerGone {
		return 0, true, nil
	}
	n = min(len(p), pipeBufferSize-(len(s.buf)-s.off))
	if n == 0 {
		return 0, false, s.wake
	}
	if s.off > 0 && cap(s.buf)-len(s.buf) < n {
		// Slide the unread bytes to the front rather than grow.
		s.buf = s.buf[:copy(s.buf, s.buf[s.off:])]
		s.off = 0
	}
	s.buf = append(s.buf, p[:n]...)
	s.changedLocked()
	return n, false, s.wake
}

func (s *stream) closeWriter() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writerGone = true
	s.changedLocked()
}

func (s *stream) closeReader() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.readerGone = true
	s.buf, s.off = nil, 0
	s.changedLocked()
}

// A deadline is a channel that is closed when a point in time passes, so
// that blocked calls can select on it.
type deadline struct {
	mu     sync.Mutex
	timer  *time.Timer
	gen    uint64        // bumped by every set, so a stale timer is a no-op
	passed chan struct{} // closed once the deadline has passed
}

func newDeadline() *deadline { return &deadline{passed: make(chan struct{})} }

// set moves the deadline to t; the zero time means none. A deadline that
// had passed gets a fresh channel, so moving it out revives the end.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.disarm()
	wait := time.Until(t)
	if !t.IsZero() && wait <= 0 {
		if !isClosed(d.passed) {
			close(d.passed)
		}
		return
	}
	if isClosed(d.passed) {
		d.passed = make(chan struct{})
	}
	if t.IsZero() {
		return
	}
	gen := d.gen
	d.timer = time.AfterFunc(wait, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		// A set after this timer was armed owns the deadline now, even if
		// Stop came too late to keep this function from running.
		if d.gen == gen && !isClosed(d.passed) {
			close(d.passed)
		}
	})
}

// wait returns a channel that is closed when the current deadline passes.
func (d *deadline) wait() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.passed
}

func (d *deadline) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.disarm()
}

// disarm stops the current deadline's timer, with d.mu held; a timer that
// fires anyway finds a newer generation and does nothing.
func (d *deadline) disarm() {
	d.gen++
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// pipeConn is one end of a Pipe.
type pipeConn struct {
	r, w          *stream // r: the peer writes, we read; w: the reverse
	local, remote pipeAddr
	rd, wd        *deadline
	closeOnce     sync.Once
	closed        chan struct{} // closed by Close
}

func newPipeConn(r, w *stream, local, remote pipeAddr) *pipeConn {
	return &pipeConn{
		r: r, w: w,
		local: local, remote: remote,
		rd: newDeadline(), wd: newDeadline(),
		closed: make(chan struct{}),
	}
}

func (c *pipeConn) Read(p []byte) (int, error) {
	for {
		// Like a socket, check close and deadline before the data: an
		// expired deadline fails the call even if bytes are waiting.
		if isClosed(c.closed) {
			return 0, c.opError("read", net.ErrClosed)
		}
		passed := c.rd.wait()
		if isClosed(passed) {
			return 0, c.opError("read", os.ErrDeadlineExceeded)
		}
		if len(p) == 0 {
			return 0, nil
		}
		n, eof, wake := c.r.read(p)
		if n > 0 {
			return n, nil
		}
		if eof {
			return 0, io.EOF
		}
		select {
		case <-wake:
		case <-passed:
		case <-c.closed:
		}
	}
}

func (c *pipeConn) Write(p []byte) (int, error) {
	total := 0
	for {
		if isClosed(c.closed) {
			return total, c.opError("write", net.ErrClosed)
		}
		passed := c.wd.wait()
		if isClosed(passed) {
			return total, c.opError("write", os.ErrDeadlineExceeded)
		}
		n, broken, wake := c.w.write(p[total:])
		total += n
		if broken {
			return total, c.opError("write", io.ErrClosedPipe)
		}
		if total == len(p) {
			return total, nil
		}
		select {
		case <-wake:
		case <-passed:
		case <-c.closed:
		}
	}
}

// Close closes both directions: the peer reads io.EOF once it has drained
// what this end wrote, and its writes fail.
func (c *pipeConn) Close() error {
	first := false
	c.closeOnce.Do(func() {
		first = true
		close(c.closed)
		c.r.closeReader()
		c.w.closeWriter()
		c.rd.stop()
		c.wd.stop()
	})
	if !first {
		return c.opError("close", net.ErrClosed)
	}
	return nil
}

// CloseWrite shuts down the writing direction only, as
// (*net.TCPConn).CloseWrite does: the peer reads io.EOF after the buffered
// bytes, and this end's later writes fail with io.ErrClosedPipe.
func (c *pipeConn) CloseWrite() error {
	if isClosed(c.closed) {
		return c.opError("close", net.ErrClosed)
	}
	c.w.closeWriter()
	return nil
}

func (c *pipeConn) LocalAddr() net.Addr  { return c.local }
func (c *pipeConn) RemoteAddr() net.Addr { return c.remote }

func (c *pipeConn) SetDeadline(t time.Time) error {
	if isClosed(c.closed) {
		return c.opError("set", net.ErrClosed)
	}
	c.rd.set(t)
	c.wd.set(t)
	return nil
}

func (c *pipeConn) SetReadDeadline(t time.Time) error {
	if isClosed(c.closed) {
		return c.opError("set", net.ErrClosed)
	}
	c.rd.set(t)
	return nil
}

func (c *pipeConn) SetWriteDeadline(t time.Time) error {
	if isClosed(c.closed) {
		return c.opError("set", net.ErrClosed)
	}
	c.wd.set(t)
	return nil
}

func (c *pipeConn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "pipe", Source: c.local, Addr: c.remote, Err: err}
}
