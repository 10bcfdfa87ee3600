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

func TestMeterPerCaseLines(t *testing.T) {
	var b strings.Builder
	clock := &fakeClock{t: time.Unix(0, 0)}
	m := newMeter(&b, selectCases(t, "1.1.1", "1.1.2"), 0, false, clock.now)
	m.result(ok("1.1.1"))
	m.result(failed("1.1.2"))
	m.finish()
	want := "srv              1.1.1    OK            OK                    0 ms\n" +
		"srv              1.1.2    FAILED        OK                    0 ms\n" +
		"  1.1.2: behavior FAILED, close OK: Actual events differ from any expected.\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
}

func TestMeterTerminal(t *testing.T) {
	var b strings.Builder
	clock := &fakeClock{t: time.Unix(0, 0)}
	// 2.1 and 5.1 have known costs: 185 and 203 ms by the figures.
	m := newMeter(&b, selectCases(t, "2.1", "5.1", "5.2"), 0, false, clock.now)
	m.line, m.rewrite = true, true
	clock.advance(10 * time.Second)
	m.result(ok("2.1"))
	if got := screen(b.String()); len(got) != 1 || got[0] != "1/3 cases, 0 failed, 10s elapsed, about 22s left" {
		t.Errorf("after one case the terminal shows %q", got)
	}
	clock.advance(10 * time.Second)
	m.result(failed("5.1"))
	clock.advance(5 * time.Second)
	m.result(ok("5.2"))
	m.finish()
	got := screen(b.String())
	want := []string{
		"srv 5.1: behavior FAILED, close OK: Actual events differ from any expected.",
		"3/3 cases, 1 failed, 25s elapsed",
		"",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the terminal shows\n%q\nwant\n%q", got, want)
	}
	if strings.Count(b.String(), "\n") != 2 {
		t.Errorf("progress was not rewritten in place: %q", b.String())
	}
}

func TestMeterLog(t *testing.T) {
	var b strings.Builder
	clock := &fakeClock{t: time.Unix(0, 0)}
	m := newMeter(&b, selectCases(t, "1.1.1", "1.1.2", "1.1.3", "1.1.4"), 0, false, clock.now)
	m.line, m.interval = true, 30*time.Second
	clock.advance(10 * time.Second)
	m.result(ok("1.1.1")) // too soon for a line
	clock.advance(25 * time.Second)
	m.result(ok("1.1.2")) // 35 s: a line
	clock.advance(5 * time.Second)
	m.result(failed("1.1.3")) // the failure, no progress line
	clock.advance(1 * time.Second)
	m.result(ok("1.1.4")) // the last case: a line
	m.finish()
	want := "2/4 cases, 0 failed, 35s elapsed, about 35s left\n" +
		"srv 1.1.3: behavior FAILED, close OK: Actual events differ from any expected.\n" +
		"4/4 cases, 1 failed, 41s elapsed\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	if strings.Contains(b.String(), "\r") {
		t.Error("a log got carriage returns")
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
