//go:build linux

package conn

import (
	"syscall"
	"unsafe"
)

// System calls on non-blocking descriptors, made with RawSyscall: the
// loops' calls and, in the goroutine mode, a socket's reads and writes,
// made in RawConn callbacks (rawio_unix.go). None of them can block, so
// they need not tell the scheduler that the goroutine is in a system call.
// That is cheaper per call, and it keeps the runtime's sysmon thread
// asleep while the goroutines wait in the poller: every call through
// Syscall wakes it when it sleeps, and an awake sysmon looks every 20 us,
// each look a thread switch on a busy CPU. With the loops waiting in the
// poller and these calls raw, the event-loop server's CPU per handshake
// fell by about 10 us (of 70) on one core.

func rawRead(fd int, p []byte) (int, syscall.Errno)  { return rawRW(syscall.SYS_READ, fd, p) }
func rawWrite(fd int, p []byte) (int, syscall.Errno) { return rawRW(syscall.SYS_WRITE, fd, p) }

// rawRW is read(2) or write(2), as trap says.
func rawRW(trap uintptr, fd int, p []byte) (int, syscall.Errno) {
	var b unsafe.Pointer
	if len(p) > 0 {
		b = unsafe.Pointer(&p[0])
	}
	n, _, e := syscall.RawSyscall(trap, uintptr(fd), uintptr(b), uintptr(len(p)))
	return int(n), e
}

func rawWritev(fd int, iov []syscall.Iovec) (int, syscall.Errno) {
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
	return int(n), e
}

// rawClose closes a descriptor that cannot block in close(2): not a socket
// with a positive SO_LINGER time.
func rawClose(fd int) syscall.Errno {
	_, _, e := syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(fd), 0, 0)
	return e
}

func rawEpollCtl(epfd, op, fd int, ev *syscall.EpollEvent) syscall.Errno {
	_, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_CTL, uintptr(epfd), uintptr(op), uintptr(fd), uintptr(unsafe.Pointer(ev)), 0, 0)
	return e
}

// rawEpollPoll collects the ready events without waiting.
func rawEpollPoll(epfd int, events []syscall.EpollEvent) (int, syscall.Errno) {
	n, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	return int(n), e
}

// errnoErr returns nil for 0, and e otherwise, as an error.
func errnoErr(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

func sysRead(fd int, p []byte) (int, syscall.Errno) { return rawRead(fd, p) }
