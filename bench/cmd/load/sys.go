package main

import (
	"fmt"
	"syscall"
	"time"
)

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fdSlack is how many descriptors beyond its sockets the load generator may
// need: standard streams, the runtime's epoll and pipe, a profile file.
const fdSlack = 32

// raiseFileLimit lifts the soft limit on open files to the hard limit, and
// fails when even that is below need: the idle and busy scenarios hold 10,000
// to 15,000 sockets. (Go programs raise the soft limit themselves since Go
// 1.19; doing it explicitly documents the need and reports a low hard limit
// up front instead of as an accept or dial error halfway through.)
func raiseFileLimit(need int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return err
		}
	}
	if lim.Cur < uint64(need) { // RLIM_INFINITY is the largest uint64
		return fmt.Errorf("open files limited to %d (ulimit -Hn), and %d connections need %d", lim.Cur, need-fdSlack, need)
	}
	return nil
}
