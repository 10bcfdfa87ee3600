//go:build linux

package netpoll

import (
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rfc6455/websocket/internal/bufpool"
	"github.com/rfc6455/websocket/internal/defaults"
	"github.com/rfc6455/websocket/internal/netpoll/sys"
)

// A Handler receives a Socket's events, on the socket's loop.
type Handler interface {
	// Ready is called when bytes have arrived, the peer hung up, or the
	// read deadline has passed: the handler reads until a read would
	// block. A read also says "would block" once the socket has had its
	// share of the loop's turn (a few reads); the loop calls Ready again
	// in a later turn, without a new event, for the bytes left.
	Ready()
	// Closed is called once, after the socket has been closed.
	Closed()
}

// Socket is a non-blocking socket owned by an event loop. It is a net.Conn
// and a conn.Transport (it satisfies that interface without this package
// importing conn), with these differences from a blocking one:
//
//   - Read never waits: with nothing to read, or once the socket has had
//     its share of the loop's turn, it returns 0, nil ("would block"), and
//     the loop calls the handler again when there is more (or in its next
//     turn). Only the loop's handler may read.
//   - Write never waits for the peer: what the socket cannot take is kept
//     and written by the loop when it can. Writers wait in WaitRoom
//     (before writing) while more than 64 KiB is kept, unless the
//     socket's loop is running callbacks (see WaitRoom), bounded by the
//     write deadline; past 64 MiB a write fails with ErrSlowConsumer.
//   - Close is carried out by the loop, which closes the descriptor
//     between two handler calls and then calls the handler's Closed.
type Socket struct {
	fd  int32
	gen uint32
	l   *loop
	h   Handler

	rdl    atomic.Int64 // read deadline, unix nanos, 0 for none
	wdl    atomic.Int64 // write deadline
	rtimer *LoopTimer   // fires at the read deadline; guarded by mu
	htimer *LoopTimer   // ends a PauseRead; guarded by mu

	mu      sync.Mutex // the write side and the interest set
	pending *bufpool.Buffer
	room    chan struct{} // closed when writers may go on
	werr    error

	// The peer's address, kept in place rather than as a syscall.Sockaddr
	// (an allocation of its own): IPv6, or IPv4-mapped IPv6; all zero for
	// a Unix socket.
	raddr [16]byte

	// The small fields together: every connection carries a Socket.
	poff    int32         // written bytes at the start of pending
	events  uint32        // the epoll interest set
	st      atomic.Uint32 // stClosed, stLinger, stReset, ...
	rport   uint16
	paused  bool   // reading stopped until pending drains; loop only
	reads   uint8  // reads left in this turn (readShare); 0 too once one found the socket empty; loop only
	held    bool   // reading stopped by PauseRead; loop only
	unwatch bool   // out of the epoll set during a PauseRead; guarded by mu
	spent   bool   // the share ran out on full reads in this turn; loop only
	heavy   bool   // its last turn spent its share: served within the loop's quota (serve); loop only
	round   uint16 // the loop's round in which it was last served as heavy; loop only
}

// Start hands the socket to its loop, which calls h from now on.
func (s *Socket) Start(h Handler) {
	l := s.l
	l.mu.Lock()
	s.h = h
	switch {
	case s.st.Load()&stRemoved != 0:
		// Closed before Start, and the descriptor is gone already.
		l.mu.Unlock()
		h.Closed()
		return
	case s.isClosed():
		l.mu.Unlock() // closed, not yet removed: remove calls Closed
		return
	case l.quit:
		l.mu.Unlock()
		s.st.Or(stClosed)
		s.finalize()
		return
	}
	l.incoming = append(l.incoming, s)
	l.mu.Unlock()
	l.wake()
}

// finalize closes the descriptor and tells the handler, once, whoever
// calls it: the loop, or the last goroutine when the loops have stopped.
func (s *Socket) finalize() {
	if st := s.st.Or(stRemoved); st&stRemoved != 0 {
		return
	} else if st&stLingerTime != 0 {
		syscall.Close(int(s.fd)) // may wait for the peer: tell the scheduler
	} else {
		sys.Close(int(s.fd))
	}
	s.mu.Lock()
	if s.rtimer != nil {
		s.rtimer.Stop()
	}
	if s.htimer != nil {
		s.htimer.Stop()
	}
	s.mu.Unlock()
	s.l.mu.Lock()
	h := s.h
	s.l.mu.Unlock()
	if h != nil {
		h.Closed()
	}
}

// SetHandler replaces the handler; only the current handler may call it,
// from the loop.
func (s *Socket) SetHandler(h Handler) { s.h = h }

// Read reads what the socket has, up to len(p) bytes, without waiting:
// with nothing there it returns 0, nil (would block).
func (s *Socket) Read(p []byte) (int, error) {
	if ok, err := s.readable(); !ok {
		return 0, err
	}
	return s.read(p)
}

// ReadLazy is Read into the buffer of b, which it borrows only once the
// socket may have bytes: a socket its loop has found empty, whose share of
// the turn is spent, or whose reading is paused, asks for no buffer. The
// caller gives the buffer back when nothing was read (conn.Transport's
// contract).
func (s *Socket) ReadLazy(b bufferLender) (int, error) {
	if ok, err := s.readable(); !ok {
		return 0, err
	}
	return s.read(b.Lend())
}

// readable reports whether a read may find bytes, and if not why: a
// passed deadline, a closed socket, or nil for would block.
func (s *Socket) readable() (bool, error) {
	if dl := s.rdl.Load(); dl != 0 && time.Now().UnixNano() >= dl {
		return false, os.ErrDeadlineExceeded
	}
	if s.isClosed() {
		return false, net.ErrClosed
	}
	if s.reads == 0 || s.held || s.backlogged() {
		return false, nil
	}
	return true, nil
}

// read reads into p until the descriptor has something to say.
func (s *Socket) read(p []byte) (int, error) {
	for {
		n, err := sys.Read(int(s.fd), p)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			s.reads = 0
			return 0, nil
		case err != 0:
			return 0, os.NewSyscallError("read", err)
		case n == 0 && len(p) > 0:
			return 0, io.EOF
		}
		if n < len(p) {
			// Level-triggered: if more arrives, the loop says so.
			s.reads = 0
		} else {
			s.reads--
			s.spent = s.reads == 0
		}
		return n, nil
	}
}

// Close closes the socket: at once for writers, on the loop for the
// descriptor, once what was written before has gone (for at most
// closeFlushTime).
func (s *Socket) Close() error { return s.close(false) }

// CloseLingering is Close, except that once what was written has gone the
// socket ends its write side (a FIN), and the loop reads and discards what
// the peer still sends until the peer ends its side or closeLinger
// passes; only then is the descriptor closed (conn.Lingerer). A socket
// reset (SetLinger 0) does not linger.
func (s *Socket) CloseLingering() error { return s.close(true) }

func (s *Socket) close(linger bool) error {
	s.mu.Lock()
	if s.st.Or(stClosed)&stClosed != 0 {
		s.mu.Unlock()
		return net.ErrClosed
	}
	s.wakeWriters()
	linger = linger && s.st.Load()&stReset == 0
	if linger {
		s.st.Or(stDrain)
	}
	if s.pending != nil && s.werr == nil && s.st.Load()&stReset == 0 {
		// What was written before Close goes out first, as it would
		// from a blocking socket: the loop closes the descriptor once
		// it has (or after closeFlushTime, for a peer that reads
		// nothing).
		s.st.Or(stLinger)
		s.paused = true
		s.setEvents(syscall.EPOLLOUT)
		s.mu.Unlock()
		t := s.l.newTimer(s.lingerOver)
		t.Reset(closeFlushTime)
		return nil
	}
	s.dropPending()
	s.mu.Unlock()
	if linger {
		s.startDrain()
	} else {
		s.handOver()
	}
	return nil
}

// The bits of Socket.st.
const (
	stClosed     = 1 << iota // Close was called
	stLinger                 // the descriptor stays open until pending is written
	stReset                  // SetLinger(0): Close drops what is pending
	stRemoved                // the descriptor is closed and the handler told
	stLingerTime             // SetLinger(n > 0): closing the descriptor may block
	stDrain                  // CloseLingering: the peer's bytes are read and dropped until it ends
)

// retired reports whether the socket is closed with nothing left to do on
// its loop but close the descriptor: nothing pending, no linger.
func (s *Socket) retired() bool {
	return s.st.Load()&(stClosed|stLinger|stDrain) == stClosed
}

// closeFlushTime bounds how long a closed socket waits for its peer to
// take what was written before Close: the same bound as a blocking
// connection's Close (see internal/defaults).
const closeFlushTime = defaults.CloseFlushTimeout

func (s *Socket) isClosed() bool { return s.st.Load()&stClosed != 0 }

// dropPending gives up what waits to be written. mu is held.
func (s *Socket) dropPending() {
	if s.pending != nil {
		s.pending.B = s.pending.B[:0]
		bufpool.Put(s.pending)
		s.pending, s.poff = nil, 0
	}
}

// lingerOver runs on the loop closeFlushTime after a Close that waited
// for pending bytes: whatever is still pending is dropped. A peer that
// took nothing in that time will not read a close frame either: the
// socket does not linger.
func (s *Socket) lingerOver() {
	s.mu.Lock()
	if s.st.Load()&stLinger == 0 {
		s.mu.Unlock()
		return // flushed and handed over already
	}
	s.st.And(^uint32(stLinger | stDrain))
	s.dropPending()
	s.mu.Unlock()
	s.handOver()
}

// written goes on, on the loop, with the close of a socket whose pending
// bytes have gone: a lingering close starts draining, any other is handed
// over.
func (s *Socket) written() {
	if s.st.Load()&stDrain == 0 {
		s.handOver()
		return
	}
	s.startDrain()
}

// startDrain starts the linger of a closed socket with nothing pending:
// FIN, reads back in the epoll set, and the timer that bounds it. Under
// mu, and only while stDrain is set: endDrain clears it under mu before
// the descriptor is handed over to be closed, so that this never shuts
// down or registers a descriptor that is gone (its number reused).
func (s *Socket) startDrain() {
	s.mu.Lock()
	if s.st.Load()&stDrain == 0 {
		s.mu.Unlock()
		return // over already: the loop met the peer's end first
	}
	if s.werr != nil {
		// The stream failed: nothing will be read from it either.
		s.mu.Unlock()
		s.endDrain()
		return
	}
	syscall.Shutdown(int(s.fd), syscall.SHUT_WR)
	s.paused = false
	s.setEvents(syscall.EPOLLIN | syscall.EPOLLRDHUP)
	if s.unwatch {
		s.watchAgain() // out of the epoll set for a PauseRead: back in, to drain
	}
	s.mu.Unlock()
	t := s.l.newTimer(s.endDrain)
	t.Reset(closeLinger)
}

// closeLinger bounds a lingering close (see internal/defaults).
const closeLinger = defaults.CloseLinger

// endDrain ends a lingering close, once: the peer ended its side, the
// stream failed, or closeLinger passed. The loop closes the descriptor.
func (s *Socket) endDrain() {
	s.mu.Lock()
	st := s.st.And(^uint32(stDrain))
	s.mu.Unlock()
	if st&stDrain != 0 {
		s.handOver()
	}
}

// drain reads and drops what a lingering socket's peer still sends, up to
// readShare reads a turn; the peer's end, or an error, ends the linger.
// Loop only.
func (s *Socket) drain(sink []byte) {
	for range readShare {
		n, err := sys.Read(int(s.fd), sink)
		switch {
		case err == syscall.EAGAIN:
			return
		case err == syscall.EINTR:
		case err != 0 || n == 0:
			s.endDrain()
			return
		}
	}
}

// handOver gives a closed socket to its loop, which closes the descriptor.
func (s *Socket) handOver() {
	l := s.l
	l.mu.Lock()
	if l.stopped {
		// No loop to do it: this goroutine is the only one left.
		l.mu.Unlock()
		s.finalize()
		return
	}
	l.closing = append(l.closing, s)
	l.mu.Unlock()
	l.wake()
}

// SetLinger sets SO_LINGER, as net.TCPConn.SetLinger: 0 makes Close reset
// the connection.
func (s *Socket) SetLinger(sec int) error {
	if s.isClosed() {
		return net.ErrClosed
	}
	if sec == 0 {
		s.st.Or(stReset)
	}
	if sec > 0 {
		s.st.Or(stLingerTime)
	} else {
		s.st.And(^uint32(stLingerTime))
	}
	l := syscall.Linger{Onoff: 1, Linger: int32(sec)}
	if sec < 0 {
		l = syscall.Linger{}
	}
	return os.NewSyscallError("setsockopt", syscall.SetsockoptLinger(int(s.fd), syscall.SOL_SOCKET, syscall.SO_LINGER, &l))
}

// LocalAddr returns the local address (nil once closed).
func (s *Socket) LocalAddr() net.Addr {
	if s.isClosed() {
		return nil
	}
	sa, err := syscall.Getsockname(int(s.fd))
	if err != nil {
		return nil
	}
	return sockaddrToAddr(sa)
}

// RemoteAddr returns the peer's address.
func (s *Socket) RemoteAddr() net.Addr {
	if s.rport == 0 && s.raddr == [16]byte{} {
		return &net.UnixAddr{Net: "unix"}
	}
	return &net.TCPAddr{IP: append(net.IP(nil), s.raddr[:]...), Port: int(s.rport)}
}

func sockaddrToAddr(sa syscall.Sockaddr) net.Addr {
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]).To16(), Port: a.Port}
	case *syscall.SockaddrInet6:
		ip := make(net.IP, 16)
		copy(ip, a.Addr[:])
		return &net.TCPAddr{IP: ip, Port: a.Port}
	case *syscall.SockaddrUnix:
		return &net.UnixAddr{Name: a.Name, Net: "unix"}
	}
	return nil
}

// SetDeadline sets both deadlines.
func (s *Socket) SetDeadline(t time.Time) error {
	s.SetReadDeadline(t)
	return s.SetWriteDeadline(t)
}

// SetReadDeadline sets the read deadline: once it passes, the loop calls
// the handler, whose reads return os.ErrDeadlineExceeded.
func (s *Socket) SetReadDeadline(t time.Time) error {
	var n int64
	if !t.IsZero() {
		n = max(t.UnixNano(), 1)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rdl.Store(n)
	if n == 0 {
		if s.rtimer != nil {
			// Dropped, not kept: most sockets set a deadline once (the
			// handshake) and never again.
			s.rtimer.Stop()
			s.rtimer = nil
		}
		return nil
	}
	if s.rtimer == nil {
		s.rtimer = s.l.newTimer(s.deadlinePassed)
	}
	s.rtimer.resetAt(n)
	return nil
}

// deadlinePassed runs on the loop when the read deadline timer fires.
func (s *Socket) deadlinePassed() {
	if !s.isClosed() {
		s.h.Ready()
	}
}

// SetWriteDeadline sets the write deadline: a writer waiting in WaitRoom
// past it gets os.ErrDeadlineExceeded.
func (s *Socket) SetWriteDeadline(t time.Time) error {
	var n int64
	if !t.IsZero() {
		n = max(t.UnixNano(), 1)
	}
	s.wdl.Store(n)
	s.mu.Lock()
	s.wakeWriters() // to look at the new deadline
	s.mu.Unlock()
	return nil
}

// AfterFunc runs f on the socket's loop after d, unless stopped.
func (s *Socket) AfterFunc(d time.Duration, f func()) timer {
	t := s.l.newTimer(f)
	t.Reset(d)
	return t
}

// Abort closes the socket at once, dropping what is pending: the peer
// sees a reset (SO_LINGER 0).
func (s *Socket) Abort() error {
	s.SetLinger(0)
	return s.Close()
}

// Nonblocking reports true: a Socket never waits (conn.Transport).
func (s *Socket) Nonblocking() bool { return true }
