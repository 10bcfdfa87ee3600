//go:build linux

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// procStats is what the soak reads of the server from outside: the
// figures a kernel keeps for any process, whatever it runs.
type procStats struct {
	RSS     int64 // resident set, bytes (VmRSS)
	Threads int   // OS threads (Threads)
	FDs     int   // open file descriptors (entries of /proc/PID/fd)
}

// readProc samples process pid.
func readProc(pid int) (procStats, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procStats{}, err
	}
	var s procStats
	if s.RSS, s.Threads, err = parseStatus(b); err != nil {
		return procStats{}, err
	}
	if s.FDs, err = countFDs(pid); err != nil {
		return procStats{}, err
	}
	return s, nil
}

// parseStatus reads VmRSS and Threads out of the text of /proc/PID/status
// (proc(5)): lines "Name:<tab>value", VmRSS in kB.
func parseStatus(b []byte) (rss int64, threads int, err error) {
	var haveRSS, haveThreads bool
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok {
			continue
		}
		switch string(key) {
		case "VmRSS":
			kb, err := parseKB(val)
			if err != nil {
				return 0, 0, fmt.Errorf("status: VmRSS: %w", err)
			}
			rss, haveRSS = kb<<10, true
		case "Threads":
			n, err := strconv.Atoi(string(bytes.TrimSpace(val)))
			if err != nil {
				return 0, 0, fmt.Errorf("status: Threads: %w", err)
			}
			threads, haveThreads = n, true
		}
	}
	if !haveRSS || !haveThreads {
		// A zombie has no VmRSS: the process has exited.
		return 0, 0, errors.New("status: no VmRSS or Threads (has the process exited?)")
	}
	return rss, threads, nil
}

// parseKB parses a /proc value of the form "   1234 kB".
func parseKB(val []byte) (int64, error) {
	num, unit, _ := bytes.Cut(bytes.TrimSpace(val), []byte(" "))
	if string(bytes.TrimSpace(unit)) != "kB" {
		return 0, fmt.Errorf("unit %q, want kB", unit)
	}
	return strconv.ParseInt(string(num), 10, 64)
}

// memAvailable returns MemAvailable from /proc/meminfo, in bytes.
func memAvailable() (int64, error) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	return parseMeminfo(b)
}

func parseMeminfo(b []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if val, ok := bytes.CutPrefix(sc.Bytes(), []byte("MemAvailable:")); ok {
			kb, err := parseKB(val)
			if err != nil {
				return 0, fmt.Errorf("meminfo: MemAvailable: %w", err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("meminfo: no MemAvailable")
}

// countFDs counts the entries of /proc/PID/fd without sorting or
// stat-ing them, which matters at thousands of descriptors a sample.
func countFDs(pid int) (int, error) {
	d, err := os.Open(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, err
	}
	defer d.Close()
	n := 0
	for {
		names, err := d.Readdirnames(1024)
		n += len(names)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// sampler watches a process while a scenario runs: the peaks of its
// figures, sampled every interval, and a cap on its RSS past which it
// calls overCap once (the soak kills the server there rather than let one
// scenario take the machine's memory).
type sampler struct {
	pid      int
	interval time.Duration
	rssCap   int64
	overCap  func(rss int64)

	stop chan struct{}
	done chan struct{}

	mu   sync.Mutex
	peak procStats
}

func startSampler(pid int, interval time.Duration, rssCap int64, overCap func(int64)) *sampler {
	s := &sampler{pid: pid, interval: interval, rssCap: rssCap, overCap: overCap,
		stop: make(chan struct{}), done: make(chan struct{})}
	go s.run()
	return s
}

func (s *sampler) run() {
	defer close(s.done)
	t := time.NewTicker(s.interval)
	defer t.Stop()
	capped := false
	for {
		if st, err := readProc(s.pid); err == nil {
			s.record(st)
			if !capped && s.rssCap > 0 && st.RSS > s.rssCap {
				capped = true
				s.overCap(st.RSS)
			}
		}
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
	}
}

func (s *sampler) record(st procStats) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.peak.RSS = max(s.peak.RSS, st.RSS)
	s.peak.Threads = max(s.peak.Threads, st.Threads)
	s.peak.FDs = max(s.peak.FDs, st.FDs)
}

// Peak returns the largest figures seen so far, each on its own.
func (s *sampler) Peak() procStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// Stop ends the sampling and returns the peaks.
func (s *sampler) Stop() procStats {
	close(s.stop)
	<-s.done
	return s.Peak()
}
