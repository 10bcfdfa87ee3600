//go:build !js

package websocket

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rfc6455/websocket/internal/defaults"
	"github.com/rfc6455/websocket/session"
)

// A Budget bounds the bytes that the received messages of many connections
// hold in memory at once: the buffers messages are reassembled in and the
// output of decompression. Every Server has one (AcceptOptions.Budget). A
// connection asks for the bytes before a buffer grows and gives them back
// when it is done with the message, so a message costs what has arrived of
// it, and a compression bomb what has been inflated of it, never more than
// MaxMessageSize.
//
// A connection the budget refuses waits, its socket unread so that TCP
// pushes back on the peer, for at most the budget's Wait per message: a
// reading goroutine is woken as soon as bytes come back; an event loop,
// which never waits, pauses the socket and asks again on its timers. A
// connection still refused then is closed with 1013 (StatusTryAgainLater,
// its CloseError's Err is ErrMemoryBudget), and one whose message could
// never fit the budget with 1009 at once. When the connections that wait
// hold everything and the free bytes would serve none of them, they do
// not all wait out Wait: the one furthest along is served, and the fewest
// of the least far along that make room for it are closed with 1013 at
// once. Buffers of up to 4 KiB are free:
// small messages cost the budget nothing, not even an atomic operation.
// Streams (NextReader) read into the caller's memory and are not counted.
type Budget = session.Budget

// NewBudget returns a Budget of size bytes that lets a refused connection
// wait up to wait (0: 2 s) for memory. A size of 0 or less bounds and
// counts nothing: the way to turn a Server's default budget off.
func NewBudget(size int64, wait time.Duration) *Budget { return session.NewBudget(size, wait) }

// DefaultBudgetSize returns the size of the budget a Server makes when
// AcceptOptions.Budget is nil: 1/256 of the machine's memory (the physical
// memory, or the memory limit of the process's cgroup where that is lower),
// at least 16 MiB and at most 1 GiB; 64 MiB where the memory cannot be read
// (systems other than Linux). That is 96 MiB on a 24 GiB machine: 200
// compression bombs at once cost it that, rather than their 1 MiB limit
// each. It is read once per process.
func DefaultBudgetSize() int64 { return defaultBudgetSize() }

var defaultBudgetSize = sync.OnceValue(func() int64 {
	mem := machineMemory()
	if mem <= 0 {
		return defaults.FallbackBudget
	}
	return min(max(mem/defaults.BudgetShare, defaults.MinBudget), defaults.MaxBudget)
})

// sharedBudget is the budget of Accept and Upgrade calls given none: one
// for the process, since each call resolves its options anew.
var sharedBudget = sync.OnceValue(func() *Budget { return NewBudget(DefaultBudgetSize(), 0) })

// machineMemory returns the memory the process may use: MemTotal of
// /proc/meminfo, or the cgroup's limit (v2 memory.max, v1
// memory.limit_in_bytes) where it is lower; 0 if none can be read.
func machineMemory() int64 {
	mem := memTotal()
	if lim := cgroupLimit(); lim > 0 && (mem <= 0 || lim < mem) {
		mem = lim
	}
	return mem
}

func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// cgroupLimit returns the memory limit of the process's cgroup, 0 for none.
func cgroupLimit() int64 {
	var files []string
	if b, err := os.ReadFile("/proc/self/cgroup"); err == nil {
		for line := range strings.Lines(string(b)) {
			// v2: "0::/path"; v1: "N:memory:/path" (or with other
			// controllers listed beside memory).
			parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
			if len(parts) != 3 {
				continue
			}
			if parts[0] == "0" && parts[1] == "" {
				files = append(files, "/sys/fs/cgroup"+parts[2]+"/memory.max")
			}
			for c := range strings.SplitSeq(parts[1], ",") {
				if c == "memory" {
					files = append(files, "/sys/fs/cgroup/memory"+parts[2]+"/memory.limit_in_bytes")
				}
			}
		}
	}
	files = append(files, "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
	var limit int64
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
		if err != nil || n <= 0 || n >= 1<<62 {
			continue // "max", or v1's "unlimited" (a huge number)
		}
		if limit == 0 || n < limit {
			limit = n
		}
	}
	return limit
}
