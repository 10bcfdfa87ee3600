package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// rssKiB reads VmRSS of a process.
func rssKiB(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			f := strings.Fields(rest) // "1234 kB"
			if len(f) == 2 && f[1] == "kB" {
				return strconv.ParseFloat(f[0], 64)
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// cpuSeconds reads utime+stime of a process (all its threads).
func cpuSeconds(pid int, clkTck float64) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may contain spaces and parentheses: the fields
	// start after the last ')'. utime and stime are fields 14 and 15 of
	// proc(5), so 12 and 13 after "pid (comm) state".
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return (ut + st) / clkTck, nil
}

// waitQuiet waits, for at most cfg.quietWait, until the benchmark's CPUs
// have been idle (at most busyShare busy) for a whole second.
func waitQuiet(ctx context.Context, cfg *config) {
	if cfg.quietWait <= 0 {
		return
	}
	deadline := time.Now().Add(cfg.quietWait)
	for {
		b0 := busySeconds(cfg)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
		share := (busySeconds(cfg) - b0) / float64(benchCPUs(cfg))
		if share <= busyShare {
			return
		}
		if time.Now().After(deadline) {
			log.Printf("the CPUs are still %.0f%% busy after waiting %v: running anyway", 100*share, cfg.quietWait)
			return
		}
	}
}

// benchCPUs is how many CPUs the benchmark runs on.
func benchCPUs(cfg *config) int {
	if cfg.pinned {
		return 2
	}
	return runtime.NumCPU()
}

// busySeconds is the time the benchmark's CPUs (cpu0 and cpu1 when pinned,
// else all) have spent on anything but idling, from /proc/stat: user, nice,
// system, irq, softirq and steal (time the hypervisor gave to another guest).
func busySeconds(cfg *config) float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	want := map[string]bool{"cpu": !cfg.pinned, "cpu0": cfg.pinned, "cpu1": cfg.pinned}
	var ticks float64
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 9 || !want[f[0]] {
			continue
		}
		for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system _ _ irq softirq steal
			v, _ := strconv.ParseFloat(f[i], 64)
			ticks += v
		}
	}
	return ticks / cfg.clkTck
}

// clockTicks is sysconf(_SC_CLK_TCK), the unit of /proc/PID/stat times.
func clockTicks() float64 {
	if out, err := exec.Command("getconf", "CLK_TCK").Output(); err == nil {
		if f, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64); err == nil && f > 0 {
			return f
		}
	}
	return 100 // USER_HZ on every Linux architecture Go supports
}

// raiseFileLimit lifts the soft limit on open files to the hard limit, which
// the servers and the load generator inherit, and reports when the hard
// limit is too low for the connection counts asked for. The driver itself
// holds only a few files; every Go program (the servers, the load
// generator) also raises its own soft limit at start (package syscall,
// since Go 1.19), and the load generator checks the limit again.
func raiseFileLimit(cfg *config) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	need, which := 0, ""
	for _, sc := range cfg.scenarios {
		if n := cfg.conns(sc); n > need {
			need, which = n, sc.name
		}
	}
	// Beyond its sockets, a server has its listener, standard streams and
	// the runtime's epoll descriptors.
	if lim.Max < uint64(need)+100 {
		return fmt.Errorf("open file hard limit is %d: the %s scenario holds %d connections per process and needs about %d",
			lim.Max, which, need, need+100)
	}
	return nil
}

func describeMachine(cfg *config) string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	pin := "server pinned to CPU 0 and load to CPU 1 with taskset"
	if !cfg.pinned {
		pin = "NOT PINNED (taskset missing, or CPUs 0 and 1 not available): both sides share every core"
	}
	return fmt.Sprintf("Measured %s, %s %s/%s, %d CPUs (%s); %s; GOMAXPROCS=1 on both sides; "+
		"%d round(s), echo runs %v after %v warm-up, idle %d connections, %d handshakes; %s.",
		time.Now().Format("2006-01-02 15:04"), runtime.Version(), runtime.GOOS, runtime.GOARCH,
		runtime.NumCPU(), model, pin, cfg.rounds, cfg.duration, cfg.warmup, cfg.idleConns, cfg.handshakes,
		loadAverage("at the start"))
}

func loadAverage(when string) string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load average unknown"
	}
	return "load average " + strings.Fields(string(b))[0] + " " + when
}
