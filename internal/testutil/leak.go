// Package testutil holds helpers for the module's tests: goroutine leak
// checks, an in-memory buffered connection pair and a loopback TCP pair.
// It is imported by _test files only (make check-deps enforces that).
package testutil

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// leakWait is how long a leak check waits for goroutines to finish before
// it reports them: goroutines that were told to stop take a moment to get
// scheduled and return. Tests of this package shorten it.
var leakWait = 3 * time.Second

// VerifyNoLeaks runs the tests and then checks that they left no
// goroutines behind. Use it as the whole body of TestMain:
//
//	func TestMain(m *testing.M) { testutil.VerifyNoLeaks(m) }
//
// Goroutines of the testing framework, the runtime and os/signal are not
// counted. If others remain after a grace period of a few seconds, their
// stacks are printed to stderr and the process exits with status 1. When
// the tests themselves failed, it exits with their status without
// checking, since a failed test may well leave goroutines behind.
func VerifyNoLeaks(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaks := waitForLeaks(nil, leakWait); len(leaks) > 0 {
			fmt.Fprintf(os.Stderr, "testutil: %d goroutine(s) leaked by the tests:\n\n%s\n", len(leaks), formatGoroutines(leaks))
			code = 1
		}
	}
	os.Exit(code)
}

// CheckGoroutines snapshots the goroutines running now and returns a
// function that fails t if, by the time it is called, new ones are still
// running after a grace period of a few seconds. Use it first thing in a
// test:
//
//	defer testutil.CheckGoroutines(t)()
//
// It cannot tell a leak from the goroutines of tests running in parallel,
// so do not use it in tests that call t.Parallel or run next to them.
func CheckGoroutines(t testing.TB) func() {
	t.Helper()
	before := make(map[int]bool)
	for _, g := range interestingGoroutines() {
		before[g.id] = true
	}
	return func() {
		t.Helper()
		if leaks := waitForLeaks(before, leakWait); len(leaks) > 0 {
			t.Errorf("%d goroutine(s) leaked:\n\n%s", len(leaks), formatGoroutines(leaks))
		}
	}
}

// waitForLeaks polls until no goroutine outside known is left, or until
// wait has passed, and returns what is left.
func waitForLeaks(known map[int]bool, wait time.Duration) []goroutine {
	deadline := time.Now().Add(wait)
	for delay := time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		var leaks []goroutine
		for _, g := range interestingGoroutines() {
			if !known[g.id] {
				leaks = append(leaks, g)
			}
		}
		if len(leaks) == 0 || time.Now().After(deadline) {
			return leaks
		}
		time.Sleep(delay)
	}
}

// A goroutine is one record of a runtime.Stack(all) dump.
type goroutine struct {
	id    int
	state string // "chan receive", "IO wait, 2 minutes", ...
	// entry is the function the goroutine was started with: the last frame
	// above "created by", or the last frame shown when the stack was too
	// deep to print whole.
	entry string
	// createdBy is the function that started it ("" for the main goroutine).
	createdBy string
	stack     string // the whole record, for the report
}

// ignoredEntries are the goroutines that belong to the test binary rather
// than to the code under test: the testing framework's runners, timers
// and fuzzing workers, the runtime's helpers and the os/signal watcher.
var ignoredEntries = []string{
	"testing.",
	"runtime.",
	"os/signal.",
	"internal/testlog.",
	"internal/fuzz.", // go test -fuzz's coordinator and workers
}

// interestingGoroutines returns the goroutines that could have been
// leaked, all but the caller's own.
func interestingGoroutines() []goroutine {
	all := parseGoroutines(stacks())
	var gs []goroutine
	for i, g := range all {
		if i == 0 {
			continue // runtime.Stack puts the calling goroutine first
		}
		if g.ours() {
			gs = append(gs, g)
		}
	}
	return gs
}

// ours reports whether g could be a goroutine of the code under test:
// one that neither runs nor was started by the test binary's machinery.
func (g goroutine) ours() bool {
	return !isIgnored(g.entry) || (g.createdBy != "" && !isIgnored(g.createdBy))
}

// isIgnored reports whether fn belongs to a package whose goroutines are
// not ours. A goroutine started by our code, even one running a standard
// library function such as net/http's Serve, is ours.
func isIgnored(fn string) bool {
	for _, prefix := range ignoredEntries {
		if strings.HasPrefix(fn, prefix) {
			return true
		}
	}
	return false
}

// stacks returns runtime.Stack(all=true), however long it is.
func stacks() []byte {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return buf[:n]
		}
		buf = make([]byte, 2*len(buf))
	}
}

// parseGoroutines splits a runtime.Stack(all) dump into goroutines. The
// format is records separated by blank lines, each a header line
//
//	goroutine 7 [chan receive, 2 minutes]:
//
// then for each frame a function line ("pkg.fn(args...)") and an indented
// file line, and last, for all but the main goroutine, a line
// "created by pkg.fn in goroutine 1" with its file line.
func parseGoroutines(dump []byte) []goroutine {
	var gs []goroutine
	for record := range bytes.SplitSeq(bytes.TrimSpace(dump), []byte("\n\n")) {
		lines := strings.Split(string(record), "\n")
		g, ok := parseHeader(lines[0])
		if !ok {
			continue
		}
		g.stack = string(record)
		for _, line := range lines[1:] {
			switch {
			case strings.HasPrefix(line, "\t"), strings.HasPrefix(line, "..."):
				// a file:line, or "...additional frames elided..."
			case strings.HasPrefix(line, "created by "):
				fn := strings.TrimPrefix(line, "created by ")
				if i := strings.Index(fn, " in goroutine "); i >= 0 {
					fn = fn[:i]
				}
				g.createdBy = fn
			default:
				g.entry = funcName(line)
			}
		}
		gs = append(gs, g)
	}
	return gs
}

// parseHeader parses "goroutine 7 [chan receive]:". Debug settings may
// add fields between the id and the state ("goroutine 7 gp=0xc0 m=nil
// [running]:"), so only the first field and the bracketed part count.
func parseHeader(line string) (goroutine, bool) {
	rest, ok := strings.CutPrefix(line, "goroutine ")
	if !ok {
		return goroutine{}, false
	}
	idText, _, _ := strings.Cut(rest, " ")
	id, err := strconv.Atoi(idText)
	if err != nil {
		return goroutine{}, false
	}
	g := goroutine{id: id}
	if i, j := strings.Index(rest, "["), strings.LastIndex(rest, "]"); 0 <= i && i < j {
		g.state = rest[i+1 : j]
	}
	return g, true
}

// funcName strips the argument list from a frame's function line:
// "net/http.(*Server).Serve(0xc000132000, {0x7a1e20, 0xc0000a8018})"
// becomes "net/http.(*Server).Serve". The arguments never contain
// parentheses; the name may (method receivers), so cut at the last "(".
func funcName(line string) string {
	if strings.HasSuffix(line, ")") {
		if i := strings.LastIndex(line, "("); i > 0 {
			return line[:i]
		}
	}
	return line
}

// formatGoroutines renders leaked goroutines for a report, oldest first.
func formatGoroutines(gs []goroutine) string {
	gs = slices.Clone(gs)
	slices.SortFunc(gs, func(a, b goroutine) int { return a.id - b.id })
	var b strings.Builder
	for i, g := range gs {
		if i > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(g.stack)
	}
	return b.String()
}
