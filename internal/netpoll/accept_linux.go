//go:build linux

package netpoll

import (
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/rfc6455/websocket/internal/netpoll/sys"
)

// accept waits for a connection on l and returns it as a Socket of one of
// the loops, not yet started. l must be a *net.TCPListener or a
// *net.UnixListener. The tests use it; servers use Listen, whose loops
// accept for themselves.
func (ls *Loops) accept(l net.Listener) (*Socket, error) {
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
		sys.PollIn(a.lfd, 500*time.Millisecond)
	}
	if a.err != 0 {
		return nil, os.NewSyscallError("accept4", a.err)
	}
	return a.socket(ls.loops[ls.next.Add(1)%uint32(len(ls.loops))], true), nil
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
		r, e := sys.Accept4(fd, &a.rsa, &a.alen, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
		if e == syscall.EINTR || e == syscall.ECONNABORTED {
			continue
		}
		a.nfd, a.err = r, e
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
