//go:build unix

package websocket

import "syscall"

// errTooManyFiles is the accept error of a process out of file descriptors:
// worth a pause and a retry, not the end of the server.
var errTooManyFiles error = syscall.EMFILE
