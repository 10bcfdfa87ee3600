// Package affinity pins goroutines' OS threads to CPUs, for the
// long-lived goroutines that are worth a CPU of their own: the workers of
// pool.Workers with WorkersConfig.Affinity, and the event loops of
// internal/netpoll with their Affinity option. It is best effort and does
// something on Linux only, through sched_getaffinity and
// sched_setaffinity; elsewhere [CPUs] reports nothing and nothing is
// pinned.
package affinity

import "runtime"

// PinThread locks the calling goroutine to its OS thread and pins the
// thread to the i-th of the CPUs the process may use (i modulo their
// number). It does nothing where [CPUs] reports none. The goroutine should
// never unlock the thread: when it returns, the runtime ends the pinned
// thread instead of handing it to other goroutines.
//
// PinThread asks the kernel for the CPUs on every call; a caller pinning
// many goroutines can call CPUs once and [Pin] each.
func PinThread(i int) {
	cpus := CPUs()
	if len(cpus) == 0 {
		return
	}
	runtime.LockOSThread()
	_ = Pin(cpus[i%len(cpus)]) // best effort
}
