// Package sys is the leaf under package netpoll: the raw system calls the
// event loops and the goroutine mode's socket streams make on file
// descriptors, and the per-architecture system call numbers that package
// syscall lacks. Its functions return the errno as it is (0 for success),
// so that callers allocate nothing on the paths where EAGAIN is routine.
// It knows nothing of loops, sockets or connections.
package sys
