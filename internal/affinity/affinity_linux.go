//go:build linux

package affinity

import (
	"math/bits"
	"syscall"
	"unsafe"
)

// cpuMask is a Linux cpu_set_t: one bit per CPU, 1024 CPUs, as glibc's.
type cpuMask [1024 / 64]uint64

// CPUs returns the CPUs the calling thread may run on, in ascending order,
// or nil if the kernel will not say. Pinned goroutines are spread over
// these rather than over 0..NumCPU-1, which in a container or under
// taskset may name CPUs the process is not allowed to use.
func CPUs() []int {
	var m cpuMask
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, 0, unsafe.Sizeof(m), uintptr(unsafe.Pointer(&m)))
	if errno != 0 {
		return nil
	}
	var cpus []int
	for i, word := range m {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			cpus = append(cpus, i*64+b)
			word &^= 1 << b
		}
	}
	return cpus
}

// Pin binds the calling OS thread (pid 0 means the caller's thread in
// sched_setaffinity) to cpu, one of those [CPUs] returns. The caller must
// have locked its goroutine to the thread (runtime.LockOSThread). Threads
// the runtime creates later are not affected: a locked thread asks the
// runtime's template thread to create new ones. A cpu outside the kernel's
// mask gives EINVAL.
func Pin(cpu int) error {
	if cpu < 0 || cpu >= len(cpuMask{})*64 {
		return syscall.EINVAL
	}
	var m cpuMask
	m[cpu/64] = 1 << (cpu % 64)
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(m), uintptr(unsafe.Pointer(&m)))
	if errno != 0 {
		return errno
	}
	return nil
}
