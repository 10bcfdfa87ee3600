//go:build linux

package main

import (
	"strings"
	"testing"
	"time"
)

func TestPrintTable(t *testing.T) {
	held := &result{Scenario: "churn", Mode: "goroutine",
		Base: procStats{RSS: 6 << 20, FDs: 8}, Peak: procStats{RSS: 20 << 20, FDs: 70, Threads: 9}, After: procStats{RSS: 12 << 20, FDs: 8},
		Took: 12500 * time.Millisecond}
	held.fig("%d connections", 40000)
	known := &result{Scenario: "bomb", Mode: "goroutine", Known: true, Base: procStats{RSS: 6 << 20}}
	known.check(false, "RSS growth %s MiB < 256 MiB", "3900")
	failed := &result{Scenario: "garbage", Mode: "eventloop"}
	failed.check(true, "never shown")
	failed.check(false, "answer p99 %s < 500ms", "2.1s")
	knownHeld := &result{Scenario: "ping", Mode: "eventloop", Known: true}

	var b strings.Builder
	printTable(&b, []*result{held, known, failed, knownHeld})
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d lines, want a header, a separator and 4 rows:\n%s", len(lines), b.String())
	}
	for i, l := range lines {
		if len([]rune(l)) != len([]rune(lines[0])) || !strings.HasPrefix(l, "| ") || !strings.HasSuffix(l, " |") {
			t.Errorf("line %d not aligned with the header:\n%s\n%s", i, lines[0], l)
		}
	}
	for i, want := range []string{
		"| churn ", "| bomb ", "| garbage ", "| ping ",
	} {
		if !strings.HasPrefix(lines[i+2], want) {
			t.Errorf("row %d = %q, want it to start %q", i, lines[i+2], want)
		}
	}
	for _, want := range []struct {
		row int
		has string
	}{
		{2, "| held "}, {2, "6.0/20/12"}, {2, "8/70/8"}, {2, "12.5s"}, {2, "40000 connections"},
		{3, "NOT held (known)"}, {3, "RSS growth 3900 MiB < 256 MiB"},
		{4, "| NOT held "}, {4, "answer p99 2.1s < 500ms"},
		{5, "held (listed known"},
	} {
		if !strings.Contains(lines[want.row], want.has) {
			t.Errorf("row %q lacks %q", lines[want.row], want.has)
		}
	}
	if strings.Contains(b.String(), "never shown") {
		t.Error("a target that held is listed as missed")
	}
	if held.Fails() || !failed.Fails() || known.Fails() || knownHeld.Fails() {
		t.Error("Fails: only a row not held and not known fails the run")
	}
}

func TestQuantile(t *testing.T) {
	var s []time.Duration
	for i := 1; i <= 100; i++ {
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0, time.Millisecond}, {0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}} {
		if got := quantile(s, c.q); got != c.want {
			t.Errorf("quantile(1..100ms, %v) = %v, want %v", c.q, got, c.want)
		}
	}
	if got := quantile(nil, 0.99); got != 0 {
		t.Errorf("quantile(nil) = %v", got)
	}
	if got := quantile(s[:1], 0.99); got != time.Millisecond {
		t.Errorf("quantile of one = %v", got)
	}
}

func TestTally(t *testing.T) {
	var tl tally
	if tl.String() != "none" {
		t.Errorf("empty tally = %q", tl.String())
	}
	for _, w := range []string{"1009", "reset", "1009", "1013", "1009"} {
		tl.add(w)
	}
	if got, want := tl.String(), "1009×3 1013×1 reset×1"; got != want {
		t.Errorf("tally = %q, want %q", got, want)
	}
	if tl.count("1009") != 3 || tl.total() != 5 {
		t.Errorf("count %d total %d", tl.count("1009"), tl.total())
	}
}

func TestParsePairs(t *testing.T) {
	set, err := parsePairs("bomb/goroutine, pipeline/eventloop,")
	if err != nil || len(set) != 2 || !set["bomb/goroutine"] || !set["pipeline/eventloop"] {
		t.Errorf("parsePairs = %v, %v", set, err)
	}
	for _, bad := range []string{"bomb", "bomb/threads", "boom/goroutine"} {
		if _, err := parsePairs(bad); err == nil {
			t.Errorf("parsePairs(%q): no error", bad)
		}
	}
}
