//go:build linux

package netpoll

import (
	"net"
	"os"
	"syscall"

	"github.com/rfc6455/websocket/internal/netpoll/sys"
)

// streamWriter is the write in progress, for writeRaw (bound once as wfn),
// under the connection's write lock.
type streamWriter struct {
	wfn  func(fd uintptr) bool
	wb   [][]byte
	wn   int64 // written of wb
	werr error
	iov  [2]syscall.Iovec // writev is of a header and a payload at most
	one  [1][]byte        // Write's
	qfn  func(fd uintptr) // outq bound once, for Unsent
}

func (s *Stream) bind() { s.wfn, s.qfn = s.writeRaw, s.outq }

// Unsent returns how many written bytes wait in the kernel's send queue
// (SIOCOUTQ: not yet sent, or not yet acknowledged), 0 if it cannot tell.
// conn asks, under its write lock, before it answers a ping: a peer that
// does not read gets no more pongs. It is a system call, made per ping,
// not per message.
func (s *Stream) Unsent() int {
	s.wn = 0
	if s.rc.Control(s.qfn) != nil {
		return 0
	}
	n := int(s.wn)
	s.wn = 0
	return n
}

// outq is the Control callback of Unsent; it leaves the count in wn,
// which no write is using (both run under the connection's write lock).
func (s *Stream) outq(fd uintptr) {
	n, errno := sys.OutQ(int(fd))
	if errno == 0 {
		s.wn = int64(n)
	}
}

// Write writes p whole, waiting for room as needed.
func (s *Stream) Write(p []byte) (int, error) {
	s.one[0] = p
	n, err := s.writeAll(s.one[:])
	s.one[0] = nil
	return int(n), err
}

// Writev writes *bufs whole, in one writev while the socket takes it all.
// It leaves *bufs as it was.
func (s *Stream) Writev(bufs *net.Buffers) (int64, error) { return s.writeAll(*bufs) }

func (s *Stream) writeAll(bufs [][]byte) (int64, error) {
	s.wb, s.wn, s.werr = bufs, 0, nil
	err := s.rc.Write(s.wfn)
	n := s.wn
	s.wb = nil
	if err == nil {
		err = s.werr
	}
	return n, err
}

// writeRaw is the RawConn callback of writeAll: it writes until the socket
// would block (false: wait for room) or all is written or failed.
func (s *Stream) writeRaw(fd uintptr) bool {
	for {
		// The iovecs of what is left, after the s.wn bytes written.
		k, skip := 0, s.wn
		for _, b := range s.wb {
			if skip >= int64(len(b)) {
				skip -= int64(len(b))
				continue
			}
			if k == len(s.iov) {
				break
			}
			rest := b[skip:]
			s.iov[k].Base = &rest[0]
			s.iov[k].SetLen(len(rest))
			k++
			skip = 0
		}
		if k == 0 {
			return true
		}
		n, e := sys.Writev(int(fd), s.iov[:k])
		for i := range k {
			s.iov[i].Base = nil // hold no caller's bytes
		}
		switch e {
		case 0:
			s.wn += int64(n)
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			s.werr = os.NewSyscallError("writev", e)
			return true
		}
	}
}
