//go:build linux

package netpoll

import (
	"errors"
	"net"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// errWouldBlock is what readOrBlock makes of a read that would block, so
// that the tests can tell it from a read of 0 bytes that is an error.
var errWouldBlock = errors.New("test: would block")

// readOrBlock is s.Read with "would block" (0, nil) as errWouldBlock.
func readOrBlock(s *Socket, p []byte) (int, error) {
	n, err := s.Read(p)
	if n == 0 && err == nil {
		return 0, errWouldBlock
	}
	return n, err
}

// wakeAccept makes an accept waiting on l return, for a test about to
// close l: closing a descriptor does not wake a poll(2) on it, and accept
// would otherwise notice only at its next look, within half a second. It
// shuts the listening socket down, which makes further accepts fail.
func wakeAccept(l net.Listener) {
	if sc, ok := l.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			rc.Control(func(fd uintptr) { syscall.Shutdown(int(fd), syscall.SHUT_RD) })
		}
	}
}

// goid returns the calling goroutine's id, from the first line of its
// stack trace ("goroutine 18 [running]:"): the tests check which goroutine
// ran a callback. Production code never asks (see WaitRoom's rule).
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

// loopIDs memoizes loopID.
var loopIDs sync.Map

// loopID returns the id of the goroutine that runs l, asked of l itself
// with a timer.
func loopID(l *loop) uint64 {
	if id, ok := loopIDs.Load(l); ok {
		return id.(uint64)
	}
	ch := make(chan uint64, 1)
	l.newTimer(func() { ch <- goid() }).Reset(0)
	var id uint64
	select {
	case id = <-ch:
	case <-time.After(5 * time.Second):
		return 0 // a closed loop: no goroutine
	}
	loopIDs.Store(l, id)
	return id
}
