//go:build unix && !linux

package conn

import "syscall"

// rawWrites: elsewhere than Linux writes go through the net package.
const rawWrites = false

func sysRead(fd int, p []byte) (int, syscall.Errno) {
	n, err := syscall.Read(fd, p)
	if e, ok := err.(syscall.Errno); ok {
		return n, e
	} else if err != nil {
		return n, syscall.EIO
	}
	return n, 0
}

func sysWritev(int, []syscall.Iovec) (int, syscall.Errno) { return 0, syscall.ENOSYS }
