//go:build linux

package conn

import (
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/rfc6455/websocket/pool"
)

// Loops is a fixed set of event loops, each a goroutine waiting on an
// epoll instance (through the runtime's poller, so a waiting loop holds
// no thread), that own non-blocking sockets (Socket). A socket that
// waits for bytes costs its state and nothing else: no goroutine, no
// buffer. When bytes arrive, the socket's loop calls its handler, which
// reads what is there without blocking; what the socket cannot take at
// once is written by the loop when the socket becomes writable. Timers
// (Socket.AfterFunc, read deadlines) live in a heap per loop.
//
// Loops exist on Linux only; elsewhere NewLoops returns an error.
//
// The zero Loops is ready to Start; NewLoops(n) is (&Loops{N: n}).Start().
type Loops struct {
	// N is the number of loops. Default runtime.GOMAXPROCS(0).
	N int

	// Affinity pins each loop to a CPU of its own (loop i to the i-th
	// CPU the process may use), as pool.WorkersConfig.Affinity does for
	// workers: on a machine that runs little else, a loop keeps its
	// caches warm. A pinned loop has its thread to itself and waits in
	// epoll_wait there. Default false.
	Affinity bool

	loops  []*loop
	next   atomic.Uint32
	wg     sync.WaitGroup
	closed atomic.Bool
}

// The write side's marks: a socket with more than highWater bytes waiting
// holds back writers that are not on a loop, and its own loop stops
// reading it until it is down to lowWater; past maxPending a write fails
// the connection (a peer that reads nothing while it is sent everything).
const (
	highWater  = 256 << 10
	lowWater   = 64 << 10
	maxPending = 64 << 20
)

// ErrSlowConsumer is the write error of a socket whose peer let more than
// 64 MiB wait to be sent.
var ErrSlowConsumer = errors.New("websocket: peer does not read: too much waiting to be sent")

// NewLoops starts n event loops (runtime.GOMAXPROCS(0) if n <= 0).
func NewLoops(n int) (*Loops, error) {
	ls := &Loops{N: n}
	if err := ls.Start(); err != nil {
		return nil, err
	}
	return ls, nil
}

// Start starts the loops. It may be called once.
func (ls *Loops) Start() error {
	if ls.loops != nil {
		return errors.New("websocket: Loops started twice")
	}
	n := ls.N
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	for range n {
		l, err := newLoop(!ls.Affinity)
		if err != nil {
			for _, l := range ls.loops {
				l.closeFDs()
			}
			ls.loops = nil
			return err
		}
		ls.loops = append(ls.loops, l)
	}
	for i, l := range ls.loops {
		ls.wg.Go(func() {
			if ls.Affinity {
				pool.PinThread(i)
			}
			l.run()
		})
	}
	return nil
}

// Close stops the loops and closes every socket still open on them (their
// handlers' Closed is called). It waits for the loops to return.
func (ls *Loops) Close() error {
	if ls.closed.Swap(true) {
		return nil
	}
	for _, l := range ls.loops {
		l.mu.Lock()
		l.quit = true
		l.mu.Unlock()
		l.wake()
	}
	ls.wg.Wait()
	return nil
}

// ErrListener is returned by Accept for a listener it cannot take sockets
// from without the runtime's poller: anything but a TCP or Unix listener
// (a TLS listener, for one).
var ErrListener = errors.New("websocket: event loops need a *net.TCPListener or *net.UnixListener")

// Accept waits for a connection on l and returns it as a Socket of one of
// the loops, not yet started. l must be a *net.TCPListener or a
// *net.UnixListener.
func (ls *Loops) Accept(l net.Listener) (*Socket, error) {
	switch l.(type) {
	case *net.TCPListener, *net.UnixListener:
	default:
		return nil, ErrListener
	}
	// The runtime's poller owns the listener, and its RawConn cannot wait
	// for a connection: accept without waiting (Control holds the
	// descriptor open meanwhile), and wait with poll(2) in between.
	rc, err := l.(syscall.Conn).SyscallConn()
	if err != nil {
		return nil, err
	}
	a := acceptors.Get().(*acceptor)
	defer acceptors.Put(a)
	for {
		if err := rc.Control(a.fn); err != nil {
			return nil, err // closed
		}
		if a.err != syscall.EAGAIN {
			break
		}
		// A stale descriptor number (the listener closed and the number
		// reused) at worst wakes this early: Control fails on a closed
		// listener. The timeout bounds the wait after a Close.
		pfd := [1]struct {
			fd             int32
			events, revent int16
		}{{fd: int32(a.lfd), events: 0x1}} // POLLIN
		// ppoll: poll(2) itself is missing on some architectures (arm64).
		ts := syscall.NsecToTimespec(int64(500 * time.Millisecond))
		syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd[0])), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
	}
	if a.err != 0 {
		return nil, os.NewSyscallError("accept4", a.err)
	}
	return a.socket(ls.loops[ls.next.Add(1)%uint32(len(ls.loops))], true), nil
}

// WakeAccept makes an Accept waiting on l return, for a caller about to
// close l: closing a descriptor does not wake a poll(2) on it, and Accept
// would otherwise notice only at its next look, within half a second. It
// shuts the listening socket down, which makes further accepts fail.
func WakeAccept(l net.Listener) {
	if sc, ok := l.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			rc.Control(func(fd uintptr) { syscall.Shutdown(int(fd), syscall.SHUT_RD) })
		}
	}
}

// acceptor is the scratch of one accept4 call, pooled, so that accepting
// allocates nothing but the Socket.
type acceptor struct {
	fn   func(fd uintptr) // accept, bound once
	lfd  int
	nfd  int
	err  syscall.Errno
	rsa  syscall.RawSockaddrAny
	alen uint32
}

var acceptors = sync.Pool{New: func() any {
	a := new(acceptor)
	a.fn = a.accept
	return a
}}

func (a *acceptor) accept(fd uintptr) {
	a.lfd = int(fd)
	for {
		a.alen = syscall.SizeofSockaddrAny
		r, _, e := syscall.RawSyscall6(sysAccept4, fd, uintptr(unsafe.Pointer(&a.rsa)), uintptr(unsafe.Pointer(&a.alen)),
			syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0, 0)
		if e == syscall.EINTR || e == syscall.ECONNABORTED {
			continue
		}
		a.nfd, a.err = int(r), e
		return
	}
}

// bigEndianPort reads a port as a sockaddr holds it, in network order.
func bigEndianPort(p *uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(p))
	return uint16(b[0])<<8 | uint16(b[1])
}

// sockGen numbers sockets (newGen), so that an event for a closed socket
// is never taken for one that reuses its descriptor.
var sockGen atomic.Uint32

// A Handler receives a Socket's events, on the socket's loop.
type Handler interface {
	// Ready is called when bytes have arrived, the peer hung up, or the
	// read deadline has passed: the handler reads until ErrWouldBlock.
	Ready()
	// Closed is called once, after the socket has been closed.
	Closed()
}

// Socket is a non-blocking socket owned by an event loop. It is a net.Conn
// for the rest of this package and above, with these differences:
//
//   - Read never waits: with nothing to read it returns ErrWouldBlock, and
//     the loop calls the handler again when there is. Only the loop's
//     handler may read.
//   - Write never waits for the peer: what the socket cannot take is kept
//     and written by the loop when it can. Writers that are not on a loop
//     wait (before writing) while more than 256 KiB is kept, bounded by the
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

// ErrWouldBlock is what reads of a Socket return when it has no bytes
// ready. It is not an error of the connection: the loop calls the
// handler again when bytes arrive.
var ErrWouldBlock = errors.New("websocket: no bytes ready")

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
		rawClose(int(s.fd))
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

// Read reads what the socket has, up to len(p) bytes, without waiting.
func (s *Socket) Read(p []byte) (int, error) {
	if dl := s.rdl.Load(); dl != 0 && time.Now().UnixNano() >= dl {
		return 0, os.ErrDeadlineExceeded
	}
	if s.isClosed() {
		return 0, net.ErrClosed
	}
	if s.drained || s.backlogged() {
		return 0, ErrWouldBlock
	}
	for {
		n, err := rawRead(int(s.fd), p)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			s.drained = true
			return 0, ErrWouldBlock
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
	n, err := s.WriteBuffers([][]byte{p})
	return int(n), err
}

// WriteBuffers writes the buffers in order, with one writev when the
// socket can take them, keeping the rest like Write.
func (s *Socket) WriteBuffers(bufs [][]byte) (int64, error) {
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
			n, errno := rawWritev(int(s.fd), iov[:k])
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
		k, err := rawWrite(int(s.fd), p[n:])
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

// WaitRoom waits, unless it is called from an event loop, while more than
// the high-water mark waits to be written, for at most timeout (if
// positive) or until the write deadline. Writers call it before writing.
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
		if onLoop() {
			s.mu.Unlock()
			return nil // a loop never waits: its own reads are paused instead
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
	rawEpollCtl(s.l.epfd, syscall.EPOLL_CTL_MOD, int(s.fd), &e)
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
// take what was written before Close (DefaultCloseFlushTimeout).
const closeFlushTime = DefaultCloseFlushTimeout

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
func (s *Socket) AfterFunc(d time.Duration, f func()) *LoopTimer {
	t := s.l.newTimer(f)
	t.Reset(d)
	return t
}

// ---------------------------------------------------------------------------
// The loop

type loop struct {
	epfd int
	efd  int // eventfd: wakes the loop
	id   uint64

	// The loop waits for events in the runtime's poller, which watches
	// the epoll descriptor as a file (wf): a loop waiting there holds no
	// thread and makes no system call the scheduler must watch. A loop
	// pinned to a CPU (Affinity) has a thread of its own and waits in
	// epoll_wait; wf is nil then.
	wf       *os.File
	wrc      syscall.RawConn
	waitFn   func(fd uintptr) bool // poll, bound once
	waitN    int                   // what waitFn found
	waitErr  syscall.Errno
	deadline int64 // wf's read deadline, 0 for none

	socks  []*Socket // by descriptor; loop only
	events [256]syscall.EpollEvent

	mu       sync.Mutex // guards what follows
	incoming []*Socket
	closing  []*Socket
	timers   timerHeap
	waitAt   int64 // when the current wait ends, 0 while running, -1 forever
	woken    bool  // a wake-up is pending on efd
	quit     bool
	stopped  bool

	listenOps []listenOp // Listen and Listening.Close, for the loop

	// Listeners, loop only: those watched, those with connections left
	// after a batch, and the scratch of accept4.
	listens []*listenReg
	more    []*listenReg
	acc     acceptor
}

func newLoop(park bool) (*loop, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	r, _, errno := syscall.Syscall(syscall.SYS_EVENTFD2, 0, syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if errno != 0 {
		syscall.Close(epfd)
		return nil, os.NewSyscallError("eventfd2", errno)
	}
	l := &loop{epfd: epfd, efd: int(r)}
	l.acc.fn = l.acc.accept
	e := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(l.efd)}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, l.efd, &e); err != nil {
		l.closeFDs()
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	if park {
		// os.NewFile hands a non-blocking descriptor to the poller.
		if err := syscall.SetNonblock(epfd, true); err != nil {
			l.closeFDs()
			return nil, os.NewSyscallError("fcntl", err)
		}
		l.wf = os.NewFile(uintptr(epfd), "epoll")
		rc, err := l.wf.SyscallConn()
		if err != nil {
			l.closeFDs()
			return nil, err
		}
		l.wrc = rc
		l.waitFn = l.poll
	}
	return l, nil
}

// closeFDs closes the loop's epoll and event descriptors.
func (l *loop) closeFDs() {
	if l.wf != nil {
		l.wf.Close()
	} else {
		syscall.Close(l.epfd)
	}
	syscall.Close(l.efd)
}

// poll collects the ready events without waiting; it reports whether the
// loop has something to do (as RawConn.Read wants it).
func (l *loop) poll(uintptr) bool {
	l.waitN, l.waitErr = rawEpollPoll(l.epfd, l.events[:])
	return l.waitN > 0 || l.waitErr != 0 && l.waitErr != syscall.EINTR
}

// wait collects the ready events, waiting for one until the time until
// (Unix nanoseconds; 0 for no limit, -1 for no wait).
func (l *loop) wait(until int64) (int, error) {
	if l.wf == nil {
		timeout := -1
		if until < 0 {
			timeout = 0
		} else if until > 0 {
			d := until - time.Now().UnixNano()
			timeout = int(max(0, (d+int64(time.Millisecond)-1)/int64(time.Millisecond)))
		}
		return syscall.EpollWait(l.epfd, l.events[:], timeout)
	}
	if until < 0 {
		l.poll(0)
		return l.waitN, errnoErr(l.waitErr)
	}
	if until != l.deadline {
		l.deadline = until
		var t time.Time
		if until > 0 {
			t = time.Unix(0, until)
		}
		l.wf.SetReadDeadline(t)
	}
	// RawConn.Read polls before it parks, unless the deadline has passed.
	if err := l.wrc.Read(l.waitFn); err != nil {
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return 0, err
		}
		l.poll(0) // timers are due: the events too, or a stream of due timers would starve them
	}
	return l.waitN, errnoErr(l.waitErr)
}

// wake interrupts the loop's wait.
func (l *loop) wake() {
	l.mu.Lock()
	if l.woken || l.waitAt == 0 {
		// Already woken, or running: it looks at its queues before it
		// waits again.
		l.mu.Unlock()
		return
	}
	l.woken = true
	l.mu.Unlock()
	var one = [8]byte{1}
	rawWrite(l.efd, one[:])
}

// loopIDs holds the goroutine ids of running loops, for onLoop.
var loopIDs sync.Map

// onLoop reports whether the calling goroutine is an event loop. It costs
// a stack trace, and is only asked when a writer would wait.
func onLoop() bool {
	_, ok := loopIDs.Load(goid())
	return ok
}

// goid returns the calling goroutine's id, from the first line of its
// stack trace ("goroutine 18 [running]:").
func goid() uint64 {
	var buf [32]byte
	b := buf[:runtime.Stack(buf[:], false)]
	const prefix = "goroutine "
	if len(b) < len(prefix) {
		return 0
	}
	var id uint64
	for _, c := range b[len(prefix):] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}

func (l *loop) run() {
	l.id = goid()
	loopIDs.Store(l.id, struct{}{})
	defer loopIDs.Delete(l.id)
	var more []*listenReg
	var dueTimers []*LoopTimer
	for {
		l.mu.Lock()
		incoming, closing, ops := l.incoming, l.closing, l.listenOps
		l.incoming, l.closing, l.listenOps = nil, nil, nil
		quit := l.quit
		l.mu.Unlock()
		for _, s := range incoming {
			l.add(s)
		}
		for _, s := range closing {
			l.remove(s)
		}
		for _, op := range ops {
			if op.add {
				l.listen(op.r)
			} else {
				l.unlisten(op.r)
			}
		}
		if quit {
			l.shutdown()
			return
		}

		l.mu.Lock()
		if len(l.incoming)+len(l.closing)+len(l.listenOps) > 0 || l.quit {
			l.mu.Unlock()
			continue
		}
		var until int64
		l.waitAt = -1
		if len(l.timers) > 0 {
			until = l.timers[0].when
			l.waitAt = until
		}
		if len(l.more) > 0 {
			until = -1 // connections are waiting to be accepted
		}
		l.mu.Unlock()

		n, err := l.wait(until)
		l.mu.Lock()
		l.waitAt = 0
		l.mu.Unlock()
		if err != nil && err != syscall.EINTR {
			panic(os.NewSyscallError("epoll_wait", err)) // EBADF, EFAULT, EINVAL: a bug here
		}
		for i := range max(n, 0) {
			ev := &l.events[i]
			if int(ev.Fd) == l.efd {
				var b [8]byte
				rawRead(l.efd, b[:])
				l.mu.Lock()
				l.woken = false
				l.mu.Unlock()
				continue
			}
			if ev.Pad == 0 {
				l.listenerReady(int(ev.Fd))
				continue
			}
			s := l.socks[ev.Fd]
			if s == nil || s.gen != uint32(ev.Pad) || s.st.Load()&(stClosed|stLinger) == stClosed {
				continue
			}
			ready := ev.Events&(syscall.EPOLLIN|syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0
			if ev.Events&syscall.EPOLLOUT != 0 || s.isClosed() {
				paused := s.paused
				if s.flush() {
					s.handOver()
					continue
				}
				// Reading resumed: what was left unread waits for us.
				ready = ready || paused && !s.paused
			}
			if ready && !s.isClosed() {
				s.drained = false
				s.h.Ready()
			}
		}

		more, l.more = l.more, more[:0]
		for i, r := range more {
			l.acceptFrom(r)
			more[i] = nil
		}

		dueTimers = l.expired(dueTimers[:0])
		for i, t := range dueTimers {
			t.f()
			dueTimers[i] = nil
		}
	}
}

// add registers a new socket and reports whether it could.
func (l *loop) add(s *Socket) bool {
	fd := int(s.fd)
	if fd >= len(l.socks) {
		l.socks = append(l.socks, make([]*Socket, fd+1-len(l.socks)+len(l.socks)/2)...)
	}
	// Under mu: a writer may have kept bytes before Start (its
	// EPOLL_CTL_MOD failed then), and EPOLLOUT must be in the set.
	s.mu.Lock()
	s.events |= syscall.EPOLLIN | syscall.EPOLLRDHUP
	e := syscall.EpollEvent{Events: s.events, Fd: s.fd, Pad: int32(s.gen)}
	err := rawEpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, fd, &e)
	s.mu.Unlock()
	if err != 0 {
		s.st.Or(stClosed)
		s.finalize()
		return false
	}
	l.socks[fd] = s
	// Bytes may have arrived before the registration: level-triggered
	// epoll reports them on the next wait.
	return true
}

// remove closes a socket that Close handed over.
func (l *loop) remove(s *Socket) {
	if int(s.fd) < len(l.socks) && l.socks[s.fd] == s {
		l.socks[s.fd] = nil
	}
	s.finalize()
}

// shutdown closes every socket left, for Loops.Close.
func (l *loop) shutdown() {
	l.mu.Lock()
	l.stopped = true
	rest, ops := l.closing, l.listenOps
	l.closing, l.listenOps = nil, nil
	l.mu.Unlock()
	for _, op := range ops {
		op.r.ln.stop(net.ErrClosed)
	}
	for _, r := range l.listens {
		r.ln.stop(net.ErrClosed)
	}
	l.listens, l.more = nil, nil
	for _, s := range rest {
		l.remove(s)
	}
	for _, s := range l.socks {
		if s != nil {
			s.mu.Lock()
			s.st.Or(stClosed)
			s.wakeWriters()
			s.mu.Unlock()
			l.remove(s)
		}
	}
	l.closeFDs()
}

// ---------------------------------------------------------------------------
// Timers

// LoopTimer is a timer on an event loop: its function runs on the loop. It has
// the methods of time.Timer that a connection uses.
type LoopTimer struct {
	l    *loop
	f    func()
	when int64
	i    int // index in the heap, -1 when not in it
}

func (l *loop) newTimer(f func()) *LoopTimer { return &LoopTimer{l: l, f: f, i: -1} }

// Reset makes the timer fire after d; it reports whether it was active.
func (t *LoopTimer) Reset(d time.Duration) bool {
	return t.resetAt(time.Now().Add(d).UnixNano())
}

func (t *LoopTimer) resetAt(when int64) bool {
	l := t.l
	l.mu.Lock()
	active := t.i >= 0
	t.when = when
	if active {
		l.timers.fix(t.i)
	} else {
		l.timers.push(t)
	}
	wake := l.timers[0] == t && l.waitAt != 0 && (l.waitAt < 0 || when < l.waitAt)
	l.mu.Unlock()
	if wake {
		l.wake()
	}
	return active
}

// Stop stops the timer; it reports whether it was active.
func (t *LoopTimer) Stop() bool {
	l := t.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if t.i < 0 {
		return false
	}
	l.timers.remove(t.i)
	return true
}

// expired pops the timers that are due.
func (l *loop) expired(due []*LoopTimer) []*LoopTimer {
	now := time.Now().UnixNano()
	l.mu.Lock()
	for len(l.timers) > 0 && l.timers[0].when <= now {
		t := l.timers[0]
		l.timers.remove(0)
		due = append(due, t)
	}
	l.mu.Unlock()
	return due
}

// timerHeap is a min-heap of timers by when.
type timerHeap []*LoopTimer

func (h *timerHeap) push(t *LoopTimer) {
	t.i = len(*h)
	*h = append(*h, t)
	h.up(t.i)
}

func (h *timerHeap) remove(i int) {
	a := *h
	last := len(a) - 1
	t := a[i]
	if i != last {
		a[i] = a[last]
		a[i].i = i
	}
	a[last] = nil
	*h = a[:last]
	t.i = -1
	if i != last {
		h.fix(i)
	}
}

func (h *timerHeap) fix(i int) {
	if !h.down(i) {
		h.up(i)
	}
}

func (h timerHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if h[p].when <= h[i].when {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h timerHeap) down(i int) bool {
	start := i
	for {
		c := 2*i + 1
		if c >= len(h) {
			break
		}
		if c+1 < len(h) && h[c+1].when < h[c].when {
			c++
		}
		if h[i].when <= h[c].when {
			break
		}
		h.swap(i, c)
		i = c
	}
	return i > start
}

func (h timerHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].i, h[j].i = i, j
}
