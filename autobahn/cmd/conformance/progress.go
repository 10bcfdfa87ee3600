package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rfc6455/websocket/autobahn/conformance"
)

// isTerminal reports whether f is a terminal (a character device), where
// a progress line can be rewritten in place.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// meter reports the run as cases finish. By default it prints a line per
// case, which is what a CI log wants. With line set it prints one progress
// line instead (cases done of total, failures so far, time left), either
// rewritten in place (rewrite, on a terminal) or, into a log, as a new
// line at most every interval. A failing case is always printed with
// its details, above the progress line.
type meter struct {
	w        io.Writer
	strict   bool
	line     bool
	rewrite  bool
	interval time.Duration
	now      func() time.Time

	total  int
	cost   map[string]time.Duration // expected time per case ID, to weigh progress
	all    time.Duration            // sum of cost
	start  time.Time
	last   time.Time // when the last progress line was printed
	done   int
	failed int
	spent  time.Duration // sum of cost over the cases done
	shown  int           // length of the line on the terminal, to blank it
}

func newMeter(w io.Writer, cases []*conformance.Case, compressionMessages int, strict bool, now func() time.Time) *meter {
	m := &meter{w: w, strict: strict, now: now, total: len(cases), cost: make(map[string]time.Duration, len(cases))}
	for _, c := range cases {
		d := caseCost(c, compressionMessages)
		m.cost[c.ID] = d
		m.all += d
	}
	m.start = now()
	m.last = m.start
	return m
}

// result records one finished case.
func (m *meter) result(r *conformance.Result) {
	m.done++
	m.spent += m.cost[r.ID]
	failed := r.Failed(m.strict)
	if failed {
		m.failed++
	}
	if !m.line {
		fmt.Fprintf(m.w, "%-16s %-8s %-13s %-16s %6d ms\n", r.Agent, r.ID, r.Behavior, r.BehaviorClose, r.DurationMS)
		if failed {
			fmt.Fprintf(m.w, "  %s\n", conformance.FailureDetail(r, m.strict))
		}
		return
	}
	if failed {
		m.clear()
		fmt.Fprintf(m.w, "%s %s\n", r.Agent, conformance.FailureDetail(r, m.strict))
	}
	now := m.now()
	switch {
	case m.rewrite:
		m.clear()
		s := m.status(now)
		fmt.Fprint(m.w, s)
		m.shown = len(s)
	case now.Sub(m.last) >= m.interval || m.done == m.total:
		fmt.Fprintln(m.w, m.status(now))
		m.last = now
	}
}

// clear blanks the progress line on a terminal.
func (m *meter) clear() {
	if m.shown > 0 {
		fmt.Fprintf(m.w, "\r%s\r", strings.Repeat(" ", m.shown))
		m.shown = 0
	}
}

// finish ends the progress line, so that what follows starts on a line
// of its own.
func (m *meter) finish() {
	if m.shown > 0 {
		fmt.Fprintln(m.w)
		m.shown = 0
	}
}

// status is the progress line. The time left is the time spent so far
// scaled by the expected cost of the cases left over that of the cases
// done, so it adapts to the machine's speed and knows that a compression
// case costs far more than a framing case.
func (m *meter) status(now time.Time) string {
	elapsed := now.Sub(m.start)
	s := fmt.Sprintf("%d/%d cases, %d failed, %s elapsed", m.done, m.total, m.failed, elapsed.Round(time.Second))
	if left, ok := m.left(elapsed); ok {
		s += fmt.Sprintf(", about %s left", left.Round(time.Second))
	}
	return s
}

func (m *meter) left(elapsed time.Duration) (time.Duration, bool) {
	if m.done >= m.total {
		return 0, false
	}
	if m.spent <= 0 || m.all <= m.spent {
		return 0, false
	}
	return time.Duration(float64(elapsed) * float64(m.all-m.spent) / float64(m.spent)), true
}
