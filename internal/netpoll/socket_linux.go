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

	"github.com/rfc6455/websocket/internal/netpoll/sys"
	"github.com/rfc6455/websocket/pool"
)

// A Handler receives a Socket's events, on the socket's loop.
type Handler interface {
	// Ready is called when bytes have arrived, the peer hung up, or the
	// read deadline has passed: the handler reads until a read would block.
	Ready()
	// Closed is called once, after the socket has been closed.
	Closed()
}

// Socket is a non-blocking socket owned by an event loop. It is a net.Conn
// and a conn.Transport (it satisfies that interface without this package
// importing conn), with these differences from a blocking one:
//
//   - Read never waits: with nothing to read it returns 0, nil ("would
//     block"), and the loop calls the handler again when there is. Only
//     the loop's handler may read.
//   - Write never waits for the peer: what the socket cannot take is kept
//     and written by the loop when it can. Writers wait in WaitRoom
//     (before writing) while more than 256 KiB is kept, unless the
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

	mu      sync.Mutex // the write side and the interest set
	pending *pool.Buffer
	room    chan struct{} // closed when writers may go on
	werr    error

	// The peer's address, kept in place rather than as a syscall.Sockaddr
	// (an allocation of its own): IPv6, or IPv4-mapped IPv6; all zero for
	// a Unix socket.
	raddr [16]byte

	// The small fields together: every connection carries a Socket.
	poff    int32         // written bytes at the start of pending
	events  uint32        // the epoll interest set
	st      atomic.Uint32 // stClosed, stLinger, stReset
	rport   uint16
	paused  bool // reading stopped until pending drains; loop only
	drained bool // the last read found the socket empty; loop only
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
// socket may have bytes: a socket its loop has found empty, or whose
// reading is paused, asks for no buffer. The caller gives the buffer back
// when nothing was read (conn.Transport's contract).
func (s *Socket) ReadLazy(b BufferLender) (int, error) {
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
	if s.drained || s.backlogged() {
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
			s.drained = true
			return 0, nil
		case err != 0:
			return 0, os.NewSyscallError("read", err)
		case n == 0 && len(p) > 0:
			return 0, io.EOF
		}
		if n < len(p) {
			// Level-triggered: if more arrives, the loop says so.
			s.drained = true
		}
		return n, nil
	}
}

// backlogged reports whether so much waits to be written that the loop
// should stop reading (and so producing replies) until it drains; if so,
// reading is paused.
func (s *Socket) backlogged() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending == nil || len(s.pending.B)-int(s.poff) <= highWater || s.werr != nil {
		return false
	}
	s.paused = true
	s.setEvents(syscall.EPOLLOUT)
	return true
}

// Write writes p, keeping what the socket cannot take for the loop.
func (s *Socket) Write(p []byte) (int, error) {
	n, err := s.writeBuffers([][]byte{p})
	return int(n), err
}

// Writev writes the buffers in order, with one writev when the socket can
// take them, keeping the rest like Write. It leaves *bufs as it was.
func (s *Socket) Writev(bufs *net.Buffers) (int64, error) { return s.writeBuffers(*bufs) }

func (s *Socket) writeBuffers(bufs [][]byte) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var total int64
	for _, b := range bufs {
		total += int64(len(b))
	}
	if s.isClosed() {
		return 0, net.ErrClosed
	}
	if s.werr != nil {
		return 0, s.werr
	}
	var written int64
	if s.pending == nil {
		for written < total {
			var iov [2]syscall.Iovec
			k := 0
			skip := written
			for _, b := range bufs {
				if skip >= int64(len(b)) {
					skip -= int64(len(b))
					continue
				}
				if k == len(iov) {
					break
				}
				rest := b[skip:]
				iov[k].Base = &rest[0]
				iov[k].SetLen(len(rest))
				k++
				skip = 0
			}
			n, errno := sys.Writev(int(s.fd), iov[:k])
			if errno == syscall.EINTR {
				continue
			}
			if errno == syscall.EAGAIN {
				break
			}
			if errno != 0 {
				s.werr = os.NewSyscallError("writev", errno)
				return written, s.werr
			}
			written += int64(n)
		}
		if written == total {
			return total, nil
		}
		s.pending = pool.GetBuffer(int(total - written))
	} else if len(s.pending.B)-int(s.poff) > maxPending {
		s.werr = ErrSlowConsumer
		return 0, s.werr
	}
	skip := written
	for _, b := range bufs {
		if skip >= int64(len(b)) {
			skip -= int64(len(b))
			continue
		}
		s.pending.B = append(s.pending.B, b[skip:]...)
		skip = 0
	}
	s.setEvents(s.events | syscall.EPOLLOUT)
	return total, nil
}

// write writes p to the descriptor until it would block.
func (s *Socket) write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k, err := sys.Write(int(s.fd), p[n:])
		switch err {
		case 0:
			n += k
		case syscall.EINTR:
		case syscall.EAGAIN:
			return n, nil
		default:
			return n, os.NewSyscallError("write", err)
		}
	}
	return n, nil
}

// WaitRoom waits while more than the high-water mark waits to be written,
// for at most timeout (if positive) or until the write deadline. Writers
// call it before writing, holding no lock.
//
// Who waits is decided by one rule, with no notion of which goroutine is
// calling: a writer whose socket's loop is running callbacks does not
// wait; it queues, bounded by maxPending (then ErrSlowConsumer), and that
// loop pauses its own reading of the socket instead (backlogged). Any
// other writer waits for the loop to flush. The loop's own callbacks are
// always among those that do not wait, since a loop runs callbacks only
// while it is not parked in epoll: only it flushes its sockets, and it
// must never wait for itself.
//
// This cannot deadlock. A loop goroutine writes only from a callback, so
// while it waits here its own loop is running callbacks, and nobody waits
// for it: every waiter waits for a loop that was parked when it looked,
// and a parked loop flushes as soon as the socket takes bytes. A chain of
// waits (loop A waits for loop B, which woke and now waits for loop C)
// can only grow towards loops that are not waiting, so it never closes
// into a cycle, and every wait is bounded by the write deadline besides.
// The cost of the rule: a writer that is not on a loop (a worker) does
// not wait while the socket's loop is busy, and the bytes it queues count
// against maxPending. Issue 17's budgets are the place to bound that.
func (s *Socket) WaitRoom(timeout time.Duration) error {
	var t *time.Timer
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	for {
		s.mu.Lock()
		if s.pending == nil || len(s.pending.B)-int(s.poff) <= highWater || s.werr != nil || s.isClosed() {
			s.mu.Unlock()
			return nil
		}
		if s.l.runningCallbacks() {
			s.mu.Unlock()
			return nil // see above: queue, and the loop pauses reading
		}
		dl := s.wdl.Load()
		if timeout > 0 {
			dl = time.Now().Add(timeout).UnixNano()
			timeout = 0 // once: the deadline stays for the retries
			s.wdl.Store(dl)
		}
		if dl != 0 && time.Now().UnixNano() >= dl {
			s.mu.Unlock()
			return os.ErrDeadlineExceeded
		}
		if s.room == nil {
			s.room = make(chan struct{})
		}
		ch := s.room
		s.mu.Unlock()
		var expired <-chan time.Time
		if dl != 0 {
			if t == nil {
				t = time.NewTimer(time.Until(time.Unix(0, dl)))
			} else {
				t.Reset(time.Until(time.Unix(0, dl)))
			}
			expired = t.C
		}
		select {
		case <-ch:
		case <-expired:
		}
	}
}

// wakeWriters lets writers waiting in WaitRoom look again. mu is held.
func (s *Socket) wakeWriters() {
	if s.room != nil {
		close(s.room)
		s.room = nil
	}
}

// flush writes what is pending; the loop calls it when the socket is
// writable. It reports whether a socket closed while bytes were pending
// has now written them (or failed to), and so is to be handed over.
func (s *Socket) flush() (closeNow bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending == nil || s.st.Load()&(stClosed|stLinger) == stClosed {
		s.setEvents(s.events &^ syscall.EPOLLOUT)
		return false
	}
	n, err := s.write(s.pending.B[s.poff:])
	s.poff += int32(n)
	if err != nil {
		s.werr = err
	}
	left := len(s.pending.B) - int(s.poff)
	if left == 0 || err != nil {
		s.pending.B = s.pending.B[:0]
		pool.PutBuffer(s.pending)
		s.pending, s.poff, left = nil, 0, 0
	} else if int(s.poff) > left {
		// Move the rest to the front when it is the smaller part.
		s.pending.B = s.pending.B[:copy(s.pending.B, s.pending.B[s.poff:])]
		s.poff = 0
	}
	if s.st.Load()&stLinger != 0 {
		if s.pending == nil {
			s.st.And(^uint32(stLinger))
			return true
		}
		return false
	}
	if left <= lowWater {
		s.wakeWriters()
		s.paused = false
	}
	ev := s.events
	if s.pending == nil {
		ev &^= syscall.EPOLLOUT
	}
	if !s.paused {
		ev |= syscall.EPOLLIN | syscall.EPOLLRDHUP
	}
	s.setEvents(ev)
	return false
}

// setEvents changes the interest set. mu is held.
func (s *Socket) setEvents(ev uint32) {
	if ev == s.events || s.st.Load()&(stClosed|stLinger) == stClosed {
		return
	}
	s.events = ev
	e := syscall.EpollEvent{Events: ev, Fd: s.fd, Pad: int32(s.gen)}
	sys.EpollCtl(s.l.epfd, syscall.EPOLL_CTL_MOD, int(s.fd), &e)
}

// Close closes the socket: at once for writers, on the loop for the
// descriptor. Bytes not yet written are dropped.
func (s *Socket) Close() error {
	s.mu.Lock()
	if s.st.Or(stClosed)&stClosed != 0 {
		s.mu.Unlock()
		return net.ErrClosed
	}
	s.wakeWriters()
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
	s.handOver()
	return nil
}

// The bits of Socket.st.
const (
	stClosed     = 1 << iota // Close was called
	stLinger                 // the descriptor stays open until pending is written
	stReset                  // SetLinger(0): Close drops what is pending
	stRemoved                // the descriptor is closed and the handler told
	stLingerTime             // SetLinger(n > 0): closing the descriptor may block
)

// closeFlushTime bounds how long a closed socket waits for its peer to
// take what was written before Close (conn.DefaultCloseFlushTimeout).
const closeFlushTime = 2 * time.Second

func (s *Socket) isClosed() bool { return s.st.Load()&stClosed != 0 }

// dropPending gives up what waits to be written. mu is held.
func (s *Socket) dropPending() {
	if s.pending != nil {
		s.pending.B = s.pending.B[:0]
		pool.PutBuffer(s.pending)
		s.pending, s.poff = nil, 0
	}
}

// lingerOver runs on the loop closeFlushTime after a Close that waited
// for pending bytes: whatever is still pending is dropped.
func (s *Socket) lingerOver() {
	s.mu.Lock()
	if s.st.Load()&stLinger == 0 {
		s.mu.Unlock()
		return // flushed and handed over already
	}
	s.st.And(^uint32(stLinger))
	s.dropPending()
	s.mu.Unlock()
	s.handOver()
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
func (s *Socket) AfterFunc(d time.Duration, f func()) Timer {
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
