//go:build linux

package netpoll

import (
	"syscall"
	"time"

	"github.com/rfc6455/websocket/internal/netpoll/sys"
)

// PauseRead stops reading the socket for d, then calls the handler's
// Ready: how a handler waits for something other than the socket (memory,
// say) without blocking its loop. Meanwhile reads say "would block", and
// the socket is out of the loop's epoll set altogether, so that its bytes
// stay in the kernel (TCP flow control pushes back on the peer) and a peer
// that hangs up or resets cannot wake the loop over and over (epoll
// reports a hang-up whatever the interest set). Bytes that writers queue
// meanwhile are sent once reading resumes, and a read deadline still calls
// Ready when it passes. Calling it again during a pause moves the pause's
// end. Only the handler may call it, on the loop.
func (s *Socket) PauseRead(d time.Duration) {
	s.mu.Lock()
	s.held = true
	if !s.unwatch && !s.retired() {
		var e syscall.EpollEvent
		if sys.EpollCtl(s.l.epfd, syscall.EPOLL_CTL_DEL, int(s.fd), &e) == 0 {
			s.unwatch = true
		}
	}
	if s.htimer == nil {
		s.htimer = s.l.newTimer(s.resumeRead)
	}
	t := s.htimer
	s.mu.Unlock()
	t.Reset(d)
}

// EndPause ends a PauseRead early: the loop calls the handler's Ready as
// soon as it looks, as when the pause runs out. It does nothing if no
// pause is under way. Unlike PauseRead, any goroutine may call it.
func (s *Socket) EndPause() {
	s.mu.Lock()
	t := s.htimer
	s.mu.Unlock()
	if t != nil {
		t.expedite()
	}
}

// resumeRead ends a PauseRead, on the loop: the handler reads what waits,
// and unless it paused again, the socket goes back into the epoll set
// with the interest it has gathered meanwhile.
func (s *Socket) resumeRead() {
	s.held = false
	if !s.isClosed() {
		s.reads = readShare
		s.h.Ready()
	}
	if s.held {
		return // paused again
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.unwatch {
		return
	}
	if s.retired() {
		s.unwatch = false
		return // the loop closes the descriptor
	}
	if !s.paused {
		s.events |= syscall.EPOLLIN | syscall.EPOLLRDHUP
	}
	s.watchAgain()
}

// watchAgain puts a socket that PauseRead took out of the epoll set back
// in, with the interest it has gathered meanwhile. mu is held.
func (s *Socket) watchAgain() {
	s.unwatch = false
	e := syscall.EpollEvent{Events: s.events, Fd: s.fd, Pad: int32(s.gen)}
	sys.EpollCtl(s.l.epfd, syscall.EPOLL_CTL_ADD, int(s.fd), &e)
}
