//go:build linux

package netpoll

import (
	"net"
	"os"
	"syscall"
	"time"

	"github.com/rfc6455/websocket/internal/bufpool"
	"github.com/rfc6455/websocket/internal/netpoll/sys"
)

// The write side of a Socket: writes that never wait for the peer, what
// is kept for the loop, backpressure (WaitRoom) and the loop's flush.

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

// Unsent returns how many written bytes the socket keeps because the peer
// has not taken them yet (beyond what the kernel holds). conn asks before
// it answers a ping: a peer that does not read gets no more pongs.
func (s *Socket) Unsent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending == nil {
		return 0
	}
	return len(s.pending.B) - int(s.poff)
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
		s.pending = bufpool.Get(int(total - written))
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
	if s.pending == nil || s.retired() {
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
		bufpool.Put(s.pending)
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
	if ev == s.events || s.retired() {
		return
	}
	s.events = ev
	if s.unwatch {
		return // PauseRead: resumeRead puts the socket back with these
	}
	e := syscall.EpollEvent{Events: ev, Fd: s.fd, Pad: int32(s.gen)}
	sys.EpollCtl(s.l.epfd, syscall.EPOLL_CTL_MOD, int(s.fd), &e)
}
