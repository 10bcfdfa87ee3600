//go:build linux && !386

package sys

import "syscall"

const (
	sysAccept4    = syscall.SYS_ACCEPT4
	sysGetsockopt = syscall.SYS_GETSOCKOPT
)
