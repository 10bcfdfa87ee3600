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
}

func (s *Stream) bind() { s.wfn = s.writeRaw }

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
