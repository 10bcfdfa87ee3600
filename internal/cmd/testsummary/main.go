// Command testsummary reads the output of go test -json and prints what
// plain go test would, followed by a summary of the skipped tests grouped
// by package and reason. make test uses it so that the interop pairs it
// skipped, for want of a peer, say so without -v:
//
//	go test -json ./... | go run ./internal/cmd/testsummary
//
// Like go test in package list mode, it prints the "ok" line of a package
// that passed and everything of one that failed: the output of each
// failed test as the test ends, then the package's own. Build errors and
// lines that are not JSON pass through as they are. It exits with status
// 1 when a test, a package or a build failed, so that a pipeline without
// pipefail still fails, and 2 when its input cannot be read.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
)

func main() {
	failed, err := summarize(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(2)
	}
	if failed {
		os.Exit(1)
	}
}

// event is one line of go test -json (see go doc test2json).
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	ImportPath string // build-output and build-fail
}

// testKey names a test within the run.
type testKey struct{ pkg, test string }

// skip is a skipped test and the reason it gave.
type skip struct {
	test, reason string
}

// summarizer holds the state of one run.
type summarizer struct {
	w      io.Writer
	output map[testKey][]string // buffered output of tests not yet ended
	pkgOut map[string][]string  // buffered package-level output
	skips  map[string][]skip    // by package
	failed bool
}

func summarize(r io.Reader, w io.Writer) (bool, error) {
	s := &summarizer{w: w, output: map[testKey][]string{}, pkgOut: map[string][]string{}, skips: map[string][]skip{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(w, "%s\n", line) // not go test -json: pass it on
			continue
		}
		s.event(e)
	}
	if err := sc.Err(); err != nil {
		return true, err
	}
	s.summary()
	return s.failed, nil
}

func (s *summarizer) event(e event) {
	switch e.Action {
	case "build-output":
		fmt.Fprint(s.w, e.Output)
		return
	case "build-fail":
		s.failed = true
		return
	}
	if e.Test == "" {
		s.packageEvent(e)
		return
	}
	k := testKey{e.Package, e.Test}
	switch e.Action {
	case "output":
		if !framing(e.Output) {
			s.output[k] = append(s.output[k], e.Output)
		}
	case "pass":
		delete(s.output, k)
	case "skip":
		s.skips[e.Package] = append(s.skips[e.Package], skip{e.Test, skipReason(s.output[k])})
		delete(s.output, k)
	case "fail":
		s.failed = true
		fmt.Fprint(s.w, strings.Join(s.output[k], ""))
		delete(s.output, k)
	}
}

// packageEvent handles the events of a package itself.
func (s *summarizer) packageEvent(e event) {
	switch e.Action {
	case "output":
		s.pkgOut[e.Package] = append(s.pkgOut[e.Package], e.Output)
	case "pass", "skip":
		// The "ok" or "?   ... [no test files]" line is the package's last.
		if out := s.pkgOut[e.Package]; len(out) > 0 {
			fmt.Fprint(s.w, out[len(out)-1])
		}
		delete(s.pkgOut, e.Package)
	case "fail":
		s.failed = true
		// Tests that never ended (a panic, a timeout) say what they had.
		var open []testKey
		for k := range s.output {
			if k.pkg == e.Package {
				open = append(open, k)
			}
		}
		slices.SortFunc(open, func(a, b testKey) int { return strings.Compare(a.test, b.test) })
		for _, k := range open {
			fmt.Fprint(s.w, strings.Join(s.output[k], ""))
			delete(s.output, k)
		}
		fmt.Fprint(s.w, strings.Join(s.pkgOut[e.Package], ""))
		delete(s.pkgOut, e.Package)
	}
}

// framing reports whether a line of a test's output is go test -v's
// framing, which plain go test does not print.
func framing(line string) bool {
	for _, p := range []string{"=== RUN ", "=== PAUSE ", "=== CONT ", "=== NAME "} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

// logStart matches the first line of a t.Log entry: "    file_test.go:12: ".
var logStart = regexp.MustCompile(`^\s*[^\s:]+\.go:\d+: `)

// skipReason is the last log entry of a skipped test (t.Skip logs its
// arguments as one), without its file:line prefix; continuation lines of a
// multi-line message are joined with spaces.
func skipReason(out []string) string {
	lines := strings.Split(strings.Join(out, ""), "\n")
	start := -1
	for i, l := range lines {
		if logStart.MatchString(l) {
			start = i
		}
	}
	if start < 0 {
		return "(no reason given)"
	}
	parts := []string{logStart.ReplaceAllString(lines[start], "")}
	for _, l := range lines[start+1:] {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "--- ") {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " ")
}

// summary prints the skipped tests: per package, per reason, the number
// of tests and their names, subtests counted under their top-level test.
func (s *summarizer) summary() {
	total := 0
	for _, sk := range s.skips {
		total += len(sk)
	}
	if total == 0 {
		return
	}
	fmt.Fprintf(s.w, "\nskipped: %d test(s) in %d package(s)\n", total, len(s.skips))
	for _, pkg := range slices.Sorted(maps.Keys(s.skips)) {
		byReason := map[string][]string{}
		for _, sk := range s.skips[pkg] {
			byReason[sk.reason] = append(byReason[sk.reason], sk.test)
		}
		fmt.Fprintf(s.w, "  %s\n", pkg)
		for _, reason := range slices.Sorted(maps.Keys(byReason)) {
			tests := byReason[reason]
			fmt.Fprintf(s.w, "    %d: %s\n      %s\n", len(tests), reason, testList(tests))
		}
	}
}

// testList names tests compactly: a top-level test with skipped subtests
// appears once, with their number.
func testList(tests []string) string {
	subtests := map[string]int{}
	var order []string
	for _, t := range tests {
		top, _, sub := strings.Cut(t, "/")
		if _, seen := subtests[top]; !seen {
			order = append(order, top)
			subtests[top] = 0
		}
		if sub {
			subtests[top]++
		}
	}
	slices.Sort(order)
	names := make([]string, len(order))
	for i, top := range order {
		names[i] = top
		switch n := subtests[top]; n {
		case 0:
		case 1:
			names[i] = top + " (1 subtest)"
		default:
			names[i] = fmt.Sprintf("%s (%d subtests)", top, n)
		}
	}
	return strings.Join(names, ", ")
}
