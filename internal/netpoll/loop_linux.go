//go:build linux

package netpoll

import (
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/rfc6455/websocket/internal/netpoll/sys"
)

// ---------------------------------------------------------------------------
// The loop

type loop struct {
	epfd int
	efd  int // eventfd: wakes the loop

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
	turn   turnState  // the heavy sockets' quota (fair_linux.go); loop only
	sink   [4096]byte // what lingering sockets' peers send, dropped; loop only

	mu       sync.Mutex // guards what follows
	incoming []*Socket
	closing  []*Socket
	timers   timerHeap
	waitAt   int64 // when the current wait ends, 0 while running callbacks, -1 forever
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
	efd, errno := sys.Eventfd()
	if errno != 0 {
		syscall.Close(epfd)
		return nil, os.NewSyscallError("eventfd2", errno)
	}
	l := &loop{epfd: epfd, efd: efd}
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
	l.waitN, l.waitErr = sys.EpollPoll(l.epfd, l.events[:])
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
		return l.waitN, sys.Err(l.waitErr)
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
	return l.waitN, sys.Err(l.waitErr)
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
	sys.Write(l.efd, one[:])
}

// runningCallbacks reports whether the loop is running callbacks (its
// handlers, timers, accepts), as opposed to parked waiting for events:
// every callback a loop makes, it makes between two waits. WaitRoom's
// rule rests on it.
func (l *loop) runningCallbacks() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waitAt == 0 && !l.stopped
}

func (l *loop) run() {
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
				sys.Read(l.efd, b[:])
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
			if s == nil || s.gen != uint32(ev.Pad) || s.retired() {
				continue
			}
			if s.st.Load()&(stLinger|stDrain) == stDrain {
				s.drain(l.sink[:])
				continue
			}
			ready := ev.Events&(syscall.EPOLLIN|syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0
			resumed := false
			if ev.Events&syscall.EPOLLOUT != 0 || s.isClosed() {
				paused := s.paused
				if s.flush() {
					s.written()
					continue
				}
				// Reading resumed: what was left unread waits for us, maybe
				// in the handler's buffer rather than in the kernel, so no
				// event would come back for it: it is served now.
				resumed = paused && !s.paused
				ready = ready || resumed
			}
			if ready && !s.isClosed() && (resumed || l.takeTurn(s)) {
				l.serve(s)
			}
		}
		l.endTurn()

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
	err := sys.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, fd, &e)
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
