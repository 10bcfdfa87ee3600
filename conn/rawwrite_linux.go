//go:build linux

package conn

import (
	"os"
	"syscall"
)

// rawWrites: writes of a socket read through rawIO go through it too.
const rawWrites = true

// rawWriter is the write in progress, for c.writeRawFn (bound once as
// wfn), under the connection's write lock.
type rawWriter struct {
	wfn  func(fd uintptr) bool
	wb   [][]byte
	wn   int64 // written of wb
	werr error
	iov  [2]syscall.Iovec // writev is of a header and a payload at most
	one  [1][]byte        // writeRaw1's
}

func (w *rawWriter) bind(c *Conn) { w.wfn = c.writeRawFn }

// writeRaw1 is writeRaw of one buffer.
func (c *Conn) writeRaw1(p []byte) (int, error) {
	r := c.raw
	r.one[0] = p
	n, err := c.writeRaw(r.one[:])
	r.one[0] = nil
	return int(n), err
}

// writeRaw writes bufs whole, waiting for room as needed.
func (c *Conn) writeRaw(bufs [][]byte) (int64, error) {
	r := c.raw
	r.wb, r.wn, r.werr = bufs, 0, nil
	err := r.rc.Write(r.wfn)
	n := r.wn
	r.wb = nil
	if err == nil {
		err = r.werr
	}
	return n, err
}

// writeRawFn is the RawConn callback of writeRaw: it writes until the
// socket would block (false: wait for room) or all is written or failed.
func (c *Conn) writeRawFn(fd uintptr) bool {
	r := c.raw
	for {
		// The iovecs of what is left, after the r.wn bytes written.
		k, skip := 0, r.wn
		for _, b := range r.wb {
			if skip >= int64(len(b)) {
				skip -= int64(len(b))
				continue
			}
			if k == len(r.iov) {
				break
			}
			rest := b[skip:]
			r.iov[k].Base = &rest[0]
			r.iov[k].SetLen(len(rest))
			k++
			skip = 0
		}
		if k == 0 {
			return true
		}
		n, e := rawWritev(int(fd), r.iov[:k])
		for i := range k {
			r.iov[i].Base = nil // hold no caller's bytes
		}
		switch e {
		case 0:
			r.wn += int64(n)
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			r.werr = os.NewSyscallError("writev", e)
			return true
		}
	}
}
