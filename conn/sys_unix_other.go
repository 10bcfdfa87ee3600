//go:build unix && !linux

package conn

import "syscall"

func sysRead(fd int, p []byte) (int, syscall.Errno) {
	n, err := syscall.Read(fd, p)
	if e, ok := err.(syscall.Errno); ok {
		return n, e
	} else if err != nil {
		return n, syscall.EIO
	}
	return n, 0
}
