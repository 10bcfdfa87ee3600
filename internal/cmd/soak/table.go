//go:build linux

package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// result is one scenario against one server: its verdict, the server's
// figures from outside, and the scenario's own.
type result struct {
	Scenario, Mode string

	Known  bool     // listed in -known: a target the library does not meet yet
	Missed []string // the targets not met, one phrase each

	Base, Peak, After procStats
	Took              time.Duration
	Figures           []string

	// p99 is the well-behaved client's round trip under a flood, which
	// the event-loop mode's row compares with the goroutine mode's.
	p99 time.Duration
}

// Held reports whether every target was met.
func (r *result) Held() bool { return len(r.Missed) == 0 }

// Verdict is the table's verdict column.
func (r *result) Verdict() string {
	switch {
	case r.Held() && r.Known:
		return "held (listed known: drop it from -known)"
	case r.Held():
		return "held"
	case r.Known:
		return "NOT held (known)"
	}
	return "NOT held"
}

// Fails reports whether r makes the soak fail: not held and not known.
func (r *result) Fails() bool { return !r.Held() && !r.Known }

// check records target as missed unless ok. target says what should
// hold, with the figure that did not ("RSS growth 412 MiB < 256 MiB").
func (r *result) check(ok bool, format string, args ...any) {
	if !ok {
		r.Missed = append(r.Missed, fmt.Sprintf(format, args...))
	}
}

// fig adds a figure to the row.
func (r *result) fig(format string, args ...any) {
	r.Figures = append(r.Figures, fmt.Sprintf(format, args...))
}

// printTable writes the results as one Markdown table.
func printTable(w io.Writer, results []*result) {
	rows := [][]string{{"scenario", "mode", "verdict", "RSS MiB base/peak/after", "fds base/peak/after", "threads", "took", "figures", "targets missed"}}
	for _, r := range results {
		rows = append(rows, []string{
			r.Scenario, r.Mode, r.Verdict(),
			fmt.Sprintf("%s/%s/%s", mib(r.Base.RSS), mib(r.Peak.RSS), mib(r.After.RSS)),
			fmt.Sprintf("%d/%d/%d", r.Base.FDs, r.Peak.FDs, r.After.FDs),
			fmt.Sprint(r.Peak.Threads),
			fmtDur(r.Took),
			strings.Join(r.Figures, "; "),
			strings.Join(r.Missed, "; "),
		})
	}
	writeMarkdown(w, rows)
}

// writeMarkdown writes rows, the first being the header, as a Markdown
// table with its columns padded to line up in a terminal.
func writeMarkdown(w io.Writer, rows [][]string) {
	if len(rows) == 0 {
		return
	}
	width := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, cell := range row {
			width[i] = max(width[i], utf8.RuneCountInString(cell), 3)
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		b.WriteString("|")
		for i, cell := range cells {
			b.WriteString(" ")
			b.WriteString(cell)
			b.WriteString(strings.Repeat(" ", width[i]-utf8.RuneCountInString(cell)))
			b.WriteString(" |")
		}
		fmt.Fprintln(w, b.String())
	}
	line(rows[0])
	sep := make([]string, len(width))
	for i, n := range width {
		sep[i] = strings.Repeat("-", n)
	}
	line(sep)
	for _, row := range rows[1:] {
		line(row)
	}
}

// mib formats a byte count in MiB, with a decimal below 10.
func mib(b int64) string {
	m := float64(b) / (1 << 20)
	if m < 10 {
		return fmt.Sprintf("%.1f", m)
	}
	return fmt.Sprintf("%.0f", m)
}

// fmtDur formats a duration with three significant figures at most.
func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

// latencies collects durations from many goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// sorted returns the durations in increasing order.
func (l *latencies) sorted() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := slices.Clone(l.d)
	slices.Sort(s)
	return s
}

// quantile returns the q-quantile (0 <= q <= 1) of sorted by the nearest
// rank, 0 for none.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// spread formats the p50, p99 and max of sorted.
func spread(sorted []time.Duration) string {
	if len(sorted) == 0 {
		return "none"
	}
	return fmt.Sprintf("p50 %s p99 %s max %s", fmtDur(quantile(sorted, 0.5)), fmtDur(quantile(sorted, 0.99)), fmtDur(sorted[len(sorted)-1]))
}

// tally counts outcomes (close codes, statuses, socket errors) from many
// goroutines.
type tally struct {
	mu sync.Mutex
	n  map[string]int
}

func (t *tally) add(what string) {
	t.mu.Lock()
	if t.n == nil {
		t.n = make(map[string]int)
	}
	t.n[what]++
	t.mu.Unlock()
}

// count returns how many times what was added.
func (t *tally) count(what string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n[what]
}

// total returns how many outcomes were added.
func (t *tally) total() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, c := range t.n {
		n += c
	}
	return n
}

// String lists the outcomes, most frequent first: "1009×198 reset×2".
func (t *tally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := slices.Collect(maps.Keys(t.n))
	slices.SortFunc(keys, func(a, b string) int {
		if t.n[a] != t.n[b] {
			return t.n[b] - t.n[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, t.n[k])
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

// firstError keeps the first of many errors, and how many there were.
type firstError struct {
	mu  sync.Mutex
	err error
	n   int
}

func (f *firstError) add(err error) {
	if err == nil {
		return
	}
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.n++
	f.mu.Unlock()
}

func (f *firstError) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

func (f *firstError) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		return "none"
	}
	return fmt.Sprintf("%d (first: %v)", f.n, f.err)
}
