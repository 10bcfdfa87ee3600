//go:build unix && !linux

package sys

import "syscall"

// Read is read(2), through package syscall: only Linux makes it raw here.
func Read(fd int, p []byte) (int, syscall.Errno) {
	n, err := syscall.Read(fd, p)
	if e, ok := err.(syscall.Errno); ok {
		return n, e
	} else if err != nil {
		return n, syscall.EIO
	}
	return n, 0
}
