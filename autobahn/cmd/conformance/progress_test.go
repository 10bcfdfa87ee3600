package main

import (
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/websocket/autobahn/conformance"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func selectCases(t *testing.T, ids ...string) []*conformance.Case {
	t.Helper()
	cs, err := conformance.Select(conformance.Cases(), ids, nil)
	if err != nil || len(cs) != len(ids) {
		t.Fatalf("selecting %v: %v (%d cases)", ids, err, len(cs))
	}
	return cs
}

func ok(id string) *conformance.Result {
	return &conformance.Result{Agent: "srv", ID: id, Behavior: conformance.OK, BehaviorClose: conformance.OK}
}

func failed(id string) *conformance.Result {
	return &conformance.Result{Agent: "srv", ID: id, Behavior: conformance.Failed, BehaviorClose: conformance.OK,
		Result: "Actual events differ from any expected."}
}

// screen replays terminal output: \r returns to the start of the line,
// later characters overwrite earlier ones.
func screen(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		var cur []rune
		pos := 0
		for _, r := range l {
			if r == '\r' {
				pos = 0
				continue
			}
			if pos < len(cur) {
				cur[pos] = r
			} else {
				cur = append(cur, r)
			}
			pos++
		}
		lines = append(lines, strings.TrimRight(string(cur), " "))
	}
	return lines
}

// A meterStep moves the clock by after, then records r. If shows is set,
// the terminal must show exactly that once r is recorded.
type meterStep struct {
	after time.Duration
	r     *conformance.Result
	shows string
}

func TestMeter(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cases    []string
		line     bool          // one progress line instead of a line per case
		rewrite  bool          // on a terminal: the line rewritten in place
		interval time.Duration // into a log: at most a progress line this often
		steps    []meterStep
		want     string // the output; on a terminal, what the screen shows in the end
		lines    int    // on a terminal: the newlines written in all
	}{{
		name:  "a line per case",
		cases: []string{"1.1.1", "1.1.2"},
		steps: []meterStep{{r: ok("1.1.1")}, {r: failed("1.1.2")}},
		want: "srv              1.1.1    OK            OK                    0 ms\n" +
			"srv              1.1.2    FAILED        OK                    0 ms\n" +
			"  1.1.2: behavior FAILED, close OK: Actual events differ from any expected.\n",
	}, {
		// 2.1 and 5.1 have known costs: 185 and 203 ms by the figures.
		name:  "terminal",
		cases: []string{"2.1", "5.1", "5.2"},
		line:  true, rewrite: true,
		steps: []meterStep{
			{after: 10 * time.Second, r: ok("2.1"), shows: "1/3 cases, 0 failed, 10s elapsed, about 22s left"},
			{after: 10 * time.Second, r: failed("5.1")},
			{after: 5 * time.Second, r: ok("5.2")},
		},
		want: "srv 5.1: behavior FAILED, close OK: Actual events differ from any expected.\n" +
			"3/3 cases, 1 failed, 25s elapsed\n",
		lines: 2, // the failure and the end: the progress itself was rewritten in place
	}, {
		name:  "log",
		cases: []string{"1.1.1", "1.1.2", "1.1.3", "1.1.4"},
		line:  true, interval: 30 * time.Second,
		steps: []meterStep{
			{after: 10 * time.Second, r: ok("1.1.1")},    // too soon for a line
			{after: 25 * time.Second, r: ok("1.1.2")},    // 35 s: a line
			{after: 5 * time.Second, r: failed("1.1.3")}, // the failure, no progress line
			{after: 1 * time.Second, r: ok("1.1.4")},     // the last case: a line
		},
		want: "2/4 cases, 0 failed, 35s elapsed, about 35s left\n" +
			"srv 1.1.3: behavior FAILED, close OK: Actual events differ from any expected.\n" +
			"4/4 cases, 1 failed, 41s elapsed\n",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			clock := &fakeClock{t: time.Unix(0, 0)}
			m := newMeter(&b, selectCases(t, tc.cases...), 0, false, clock.now)
			m.line, m.rewrite, m.interval = tc.line, tc.rewrite, tc.interval
			for _, s := range tc.steps {
				clock.advance(s.after)
				m.result(s.r)
				if got := strings.Join(screen(b.String()), "\n"); s.shows != "" && got != s.shows {
					t.Errorf("after %s the terminal shows %q, want %q", s.r.ID, got, s.shows)
				}
			}
			m.finish()
			got := b.String()
			if tc.rewrite {
				if n := strings.Count(got, "\n"); n != tc.lines {
					t.Errorf("%d lines written, want %d: progress was not rewritten in place: %q", n, tc.lines, got)
				}
				got = strings.Join(screen(got), "\n")
			} else if strings.Contains(got, "\r") {
				t.Errorf("a log got carriage returns: %q", got)
			}
			if got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestEstimate(t *testing.T) {
	cs := selectCases(t, "1.1.1", "2.1", "12.1.1", "13.1.1")
	// 2 ms overhead each; 2.1: 183 ms; 12.1.1: 3.2 ms and 13.1.1: 2.7 ms
	// per message.
	if got, want := estimate(cs, 0), (8+183+3200+2700)*time.Millisecond; got != want {
		t.Errorf("estimate of the full cases = %v, want %v", got, want)
	}
	if got, want := estimate(cs, 50), (8+183+160+135)*time.Millisecond; got != want {
		t.Errorf("estimate with 50 messages = %v, want %v", got, want)
	}
	all := estimate(conformance.Cases(), 0)
	if all < 9*time.Minute || all > 13*time.Minute {
		t.Errorf("a full role is estimated at %v; the measured figures say about 11 minutes", all)
	}
}
