//go:build linux

package sys

import (
	"syscall"
	"time"
	"unsafe"
)

// The calls below are made with RawSyscall: the loops' calls and, in the
// goroutine mode, a socket's reads and writes, made in RawConn callbacks.
// None of them can block, so they need not tell the scheduler that the
// goroutine is in a system call. That is cheaper per call, and it keeps
// the runtime's sysmon thread asleep while the goroutines wait in the
// poller: every call through Syscall wakes it when it sleeps, and an awake
// sysmon looks every 20 us, each look a thread switch on a busy CPU. With
// the loops waiting in the poller and these calls raw, the event-loop
// server's CPU per handshake fell by about 10 us (of 70) on one core.

// Read is read(2).
func Read(fd int, p []byte) (int, syscall.Errno) { return rw(syscall.SYS_READ, fd, p) }

// Write is write(2).
func Write(fd int, p []byte) (int, syscall.Errno) { return rw(syscall.SYS_WRITE, fd, p) }

// rw is read(2) or write(2), as trap says.
func rw(trap uintptr, fd int, p []byte) (int, syscall.Errno) {
	var b unsafe.Pointer
	if len(p) > 0 {
		b = unsafe.Pointer(&p[0])
	}
	n, _, e := syscall.RawSyscall(trap, uintptr(fd), uintptr(b), uintptr(len(p)))
	return int(n), e
}

// Writev is writev(2); iov must not be empty.
func Writev(fd int, iov []syscall.Iovec) (int, syscall.Errno) {
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
	return int(n), e
}

// Close closes a descriptor that cannot block in close(2): not a socket
// with a positive SO_LINGER time.
func Close(fd int) syscall.Errno {
	_, _, e := syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(fd), 0, 0)
	return e
}

// OutQ is ioctl(fd, SIOCOUTQ): the bytes in a socket's send queue that
// the peer has not acknowledged (TCP) or not read (Unix).
func OutQ(fd int) (int, syscall.Errno) {
	var n int32
	_, _, e := syscall.RawSyscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&n)))
	return int(n), e
}

// EpollCtl is epoll_ctl(2).
func EpollCtl(epfd, op, fd int, ev *syscall.EpollEvent) syscall.Errno {
	_, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_CTL, uintptr(epfd), uintptr(op), uintptr(fd), uintptr(unsafe.Pointer(ev)), 0, 0)
	return e
}

// EpollPoll collects the ready events without waiting.
func EpollPoll(epfd int, events []syscall.EpollEvent) (int, syscall.Errno) {
	n, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	return int(n), e
}

// Accept4 is accept4(2) on the listening socket fd, the peer's address
// written to rsa (alen is set to its size first).
func Accept4(fd uintptr, rsa *syscall.RawSockaddrAny, alen *uint32, flags int) (int, syscall.Errno) {
	*alen = syscall.SizeofSockaddrAny
	r, _, e := syscall.RawSyscall6(sysAccept4, fd, uintptr(unsafe.Pointer(rsa)), uintptr(unsafe.Pointer(alen)), uintptr(flags), 0, 0)
	return int(r), e
}

// TCPInfo is getsockopt(fd, IPPROTO_TCP, TCP_INFO). It returns the size
// the kernel filled in, which may be less than the struct on old kernels.
func TCPInfo(fd int, info *syscall.TCPInfo) (uintptr, syscall.Errno) {
	size := uint32(unsafe.Sizeof(*info))
	_, _, e := syscall.Syscall6(sysGetsockopt, uintptr(fd), syscall.IPPROTO_TCP, syscall.TCP_INFO,
		uintptr(unsafe.Pointer(info)), uintptr(unsafe.Pointer(&size)), 0)
	return uintptr(size), e
}

// PollIn waits until fd is readable, at most timeout: ppoll(2), since
// poll(2) itself is missing on some architectures (arm64). It may block,
// so the scheduler is told.
func PollIn(fd int, timeout time.Duration) {
	pfd := [1]struct {
		fd             int32
		events, revent int16
	}{{fd: int32(fd), events: 0x1}} // POLLIN
	ts := syscall.NsecToTimespec(int64(timeout))
	syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd[0])), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
}

// Eventfd is eventfd2(2), non-blocking and close-on-exec.
func Eventfd() (int, syscall.Errno) {
	r, _, e := syscall.Syscall(syscall.SYS_EVENTFD2, 0, syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	return int(r), e
}

// Err returns nil for 0, and e otherwise, as an error.
func Err(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}
