//go:build linux

package netpoll

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/rfc6455/websocket/internal/netpoll/sys"
)

// Listening is a listener whose connections the loops accept themselves
// (Loops.Listen): the listening socket is in every loop's epoll set, so a
// connection costs no hand-off between goroutines and no wake-up of its
// own.
type Listening struct {
	ls        *Loops
	rc        syscall.RawConn
	fd        int
	nodelay   bool         // set on the listener, so its sockets have it already
	early     atomic.Int64 // sockets queued before that, which lack it (takeEarly)
	accepted  func(*Socket) Handler
	temporary func(error)
	regs      []*listenReg // one per loop

	stopped atomic.Bool
	mu      sync.Mutex
	err     error
	done    chan struct{}
}

// listenReg is a Listening on one loop; the loop alone uses it.
type listenReg struct {
	ln      *Listening
	l       *loop
	backoff time.Duration
	retry   *LoopTimer
	check   *LoopTimer // looks whether the listener is still open
}

// checkEvery is how often a loop looks whether its listeners are still
// open: closing a descriptor takes it out of the epoll sets without an
// event, so a loop would otherwise notice only at its next accept.
const checkEvery = time.Second

// acceptBatch is how many connections a loop accepts in a row before it
// turns to its sockets' events, and then comes back for the rest.
const acceptBatch = 32

// Listen makes the loops accept the connections of l (a *net.TCPListener
// or *net.UnixListener) until the returned Listening is closed or l fails.
// The loops take the new sockets in turn. Each is passed to accepted on
// the loop that accepted it, and started with the Handler accepted returns
// (closed if that is nil) on the loop that serves it (Socket.Start). When
// that is the same loop, the handler's Ready is called at once, since the
// peer's first bytes often come with the connection; another loop reads
// them at its next turn.
//
// Running out of descriptors (EMFILE, ENFILE) or memory does not end the
// Listening: temporary (when not nil) is told, and the loop tries again
// after a pause that doubles from 5 ms up to 1 s. Any other accept error
// ends it, as does closing l: Done is closed then, and Err says why. A
// closed listener makes no event, so that is noticed at the next try to
// accept, or within a second, when the loops look at their listeners.
//
// The caller still owns l; Listening.Close stops the accepting without
// closing l, and is the prompt way to stop.
func (ls *Loops) Listen(l net.Listener, accepted func(*Socket) Handler, temporary func(error)) (*Listening, error) {
	switch l.(type) {
	case *net.TCPListener, *net.UnixListener:
	default:
		return nil, ErrListener
	}
	if len(ls.loops) == 0 || ls.closed.Load() {
		return nil, net.ErrClosed
	}
	rc, err := l.(syscall.Conn).SyscallConn()
	if err != nil {
		return nil, err
	}
	ln := &Listening{ls: ls, rc: rc, accepted: accepted, temporary: temporary, done: make(chan struct{})}
	if err := rc.Control(func(fd uintptr) {
		ln.fd = int(fd)
		if _, ok := l.(*net.TCPListener); ok {
			// Accepted sockets inherit TCP_NODELAY from the listener: one
			// system call here instead of one per connection. But the
			// kernel makes a connection's socket when its handshake
			// completes, so those already queued lack it; without it, a
			// small write waits up to 40 ms for the peer's delayed ACK.
			// The queue's length at this point says how many they are.
			ln.nodelay = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1) == nil
			if ln.nodelay {
				n, ok := acceptQueueLen(int(fd))
				ln.nodelay = ok
				ln.early.Store(int64(n))
			}
		}
	}); err != nil {
		return nil, err
	}
	for _, l := range ls.loops {
		ln.regs = append(ln.regs, &listenReg{ln: ln, l: l})
	}
	for _, r := range ln.regs {
		r.l.post(listenOp{r: r, add: true})
	}
	return ln, nil
}

// Done is closed when the Listening has stopped: closed, or ended by an
// error (Err).
func (ln *Listening) Done() <-chan struct{} { return ln.done }

// Err returns the error that ended the Listening, nil if it was closed or
// runs still.
func (ln *Listening) Err() error {
	ln.mu.Lock()
	defer ln.mu.Unlock()
	return ln.err
}

// Close stops accepting; it does not close the listener. A loop in the
// middle of a batch may still accept one more connection, as an Accept
// racing a Close may.
func (ln *Listening) Close() error {
	ln.stop(nil)
	return nil
}

// stop ends the Listening, with err as the reason, once.
func (ln *Listening) stop(err error) {
	if ln.stopped.Swap(true) {
		return
	}
	ln.mu.Lock()
	ln.err = err
	ln.mu.Unlock()
	close(ln.done)
	for _, r := range ln.regs {
		r.l.post(listenOp{r: r})
	}
}

// listenOp asks a loop to start (add) or stop watching a listener.
type listenOp struct {
	r   *listenReg
	add bool
}

// post hands op to the loop and wakes it; a loop that has stopped ends
// the Listening instead.
func (l *loop) post(op listenOp) {
	l.mu.Lock()
	if l.quit || l.stopped {
		l.mu.Unlock()
		if op.add {
			op.r.ln.stop(net.ErrClosed)
		}
		return
	}
	l.listenOps = append(l.listenOps, op)
	l.mu.Unlock()
	l.wake()
}

// listen puts the listening socket in the loop's epoll set: edge-triggered,
// so that a loop that stops in the middle of a batch is not woken for the
// same connections again (it comes back by itself), and exclusive, so that
// one connection wakes one loop, not all. The listener's events carry
// generation 0, which no Socket has.
func (l *loop) listen(r *listenReg) {
	if r.ln.stopped.Load() {
		return
	}
	var err error
	cerr := r.ln.rc.Control(func(fd uintptr) {
		e := syscall.EpollEvent{Events: syscall.EPOLLIN | epollET | epollExclusive, Fd: int32(fd)}
		err = syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, int(fd), &e)
	})
	if err = errors.Join(cerr, err); err != nil {
		r.ln.stop(os.NewSyscallError("epoll_ctl", err))
		return
	}
	l.listens = append(l.listens, r)
	r.check = l.newTimer(func() {
		if r.ln.rc.Control(func(uintptr) {}) != nil {
			r.ln.stop(net.ErrClosed)
			return
		}
		r.check.Reset(checkEvery)
	})
	r.check.Reset(checkEvery)
	// Connections may have queued up before the registration, and an
	// edge-triggered set reports only new ones.
	l.acceptFrom(r)
}

// EPOLLET, which package syscall declares negative, and EPOLLEXCLUSIVE
// (Linux 4.5), which it does not declare.
const (
	epollET        = 1 << 31
	epollExclusive = 1 << 28
)

// unlisten takes the listener out of the loop's epoll set. Through Control,
// so that a listener closed meanwhile (whose number may belong to another
// socket by now) is left alone: closing it took it out already.
func (l *loop) unlisten(r *listenReg) {
	for i, x := range l.listens {
		if x == r {
			l.listens = append(l.listens[:i], l.listens[i+1:]...)
			r.ln.rc.Control(func(fd uintptr) {
				syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, int(fd), nil)
			})
			break
		}
	}
	if r.retry != nil {
		r.retry.Stop()
	}
	if r.check != nil {
		r.check.Stop()
	}
}

// listenerReady handles an event of the listener with descriptor fd. It
// tries every listener with that number: one that was closed without its
// Listening may still be here, its number taken by a new listener, and
// trying it is how it is found closed.
func (l *loop) listenerReady(fd int) {
	for _, r := range l.listens {
		if r.ln.fd == fd && !r.ln.stopped.Load() && r.backoff == 0 { // not pausing
			l.acceptFrom(r)
		}
	}
}

// acceptFrom accepts up to acceptBatch connections and starts them on this
// loop. With more waiting it leaves r on l.more, for the next turn.
func (l *loop) acceptFrom(r *listenReg) {
	ln := r.ln
	a := &l.acc
	for range acceptBatch {
		if ln.stopped.Load() {
			return
		}
		if err := ln.rc.Control(a.fn); err != nil {
			ln.stop(err) // closed
			return
		}
		switch a.err {
		case 0:
		case syscall.EAGAIN:
			r.backoff = 0
			return
		case syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM:
			r.pause(os.NewSyscallError("accept4", a.err))
			return
		default:
			ln.stop(os.NewSyscallError("accept4", a.err))
			return
		}
		r.backoff = 0
		// The sockets go to the loops in turn: EPOLLEXCLUSIVE wakes
		// whichever loop is idle, often the same one, and a loop keeps
		// the sockets it serves.
		to := l
		if n := uint32(len(ln.ls.loops)); n > 1 {
			to = ln.ls.loops[ln.ls.next.Add(1)%n]
		}
		s := a.socket(to, !ln.nodelay || ln.takeEarly())
		h := ln.accepted(s)
		if h == nil {
			syscall.Close(a.nfd)
			continue
		}
		if to != l {
			s.Start(h) // its loop reads it at its next turn
			continue
		}
		s.h = h
		if l.add(s) {
			h.Ready()
		}
	}
	l.more = append(l.more, r)
}

// takeEarly reports whether the next accepted connection is one of those
// queued before TCP_NODELAY was set on the listener, counting it off. The
// count may include a few that came right after, which are then set twice.
func (ln *Listening) takeEarly() bool {
	for {
		n := ln.early.Load()
		if n <= 0 {
			return false
		}
		if ln.early.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// acceptQueueLen returns how many connections wait in the accept queue of
// the listening TCP socket fd: Linux reports it in TCP_INFO's unacked
// field for a socket in the LISTEN state. ok is false if it cannot tell.
func acceptQueueLen(fd int) (n int, ok bool) {
	var info syscall.TCPInfo
	size, errno := sys.TCPInfo(fd, &info)
	const tcpListen = 10 // TCP_LISTEN in the kernel's state numbering
	if errno != 0 || size < unsafe.Offsetof(info.Unacked)+unsafe.Sizeof(info.Unacked) || info.State != tcpListen {
		return 0, false
	}
	return int(info.Unacked), true
}

// pause stops accepting for a while after a temporary error: the
// connection that could not be taken stays queued in the kernel.
func (r *listenReg) pause(err error) {
	r.backoff = min(max(2*r.backoff, 5*time.Millisecond), time.Second)
	if t := r.ln.temporary; t != nil {
		t(err)
	}
	if r.retry == nil {
		r.retry = r.l.newTimer(func() {
			if !r.ln.stopped.Load() {
				r.l.acceptFrom(r)
			}
		})
	}
	r.retry.Reset(r.backoff)
}

// socket makes the Socket of the connection a has just accepted, on l.
// With nodelay it sets TCP_NODELAY, as the net package does for every TCP
// connection: small writes leave at once.
func (a *acceptor) socket(l *loop, nodelay bool) *Socket {
	s := &Socket{fd: int32(a.nfd), gen: newGen(), l: l, reads: readShare}
	switch a.rsa.Addr.Family {
	case syscall.AF_INET:
		sa := (*syscall.RawSockaddrInet4)(unsafe.Pointer(&a.rsa))
		s.rport = bigEndianPort(&sa.Port)
		s.raddr[10], s.raddr[11] = 0xff, 0xff
		copy(s.raddr[12:], sa.Addr[:])
	case syscall.AF_INET6:
		sa := (*syscall.RawSockaddrInet6)(unsafe.Pointer(&a.rsa))
		s.rport = bigEndianPort(&sa.Port)
		s.raddr = sa.Addr
	default:
		return s // Unix
	}
	if nodelay {
		syscall.SetsockoptInt(a.nfd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	}
	return s
}

// newGen returns the next socket generation, never 0 (the listeners').
func newGen() uint32 {
	for {
		if g := sockGen.Add(1); g != 0 {
			return g
		}
	}
}
