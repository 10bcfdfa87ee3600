package pool

import "runtime"

// PinThread locks the calling goroutine to its OS thread and pins the
// thread to the i-th of the CPUs the process may use (i modulo their
// number), as WorkersConfig.Affinity does for each worker: for other
// long-lived goroutines that should keep a CPU of their own, such as
// event loops. It is best effort, and does nothing but on Linux. The
// goroutine should never unlock the thread: when it returns, the runtime
// ends the pinned thread.
func PinThread(i int) {
	cpus := allowedCPUs()
	if len(cpus) == 0 {
		return
	}
	runtime.LockOSThread()
	_ = pinThread(cpus[i%len(cpus)])
}
