package testutil

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// childEnv selects a mode of TestLeakChild when this test binary runs
// itself in a child process.
const childEnv = "TESTUTIL_LEAK_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		leakWait = 300 * time.Millisecond // the child leaks on purpose
	}
	VerifyNoLeaks(m)
}

// parkedForTest blocks until release is closed: a goroutine that a test
// leaks on purpose, findable by name in a stack dump.
func parkedForTest(release <-chan struct{}) { <-release }

// A dump in the format of runtime.Stack(buf, true). Legend: each record is
// a header "goroutine ID [STATE]:", frames as a function line and an
// indented file line, innermost first, then "created by FUNC in goroutine
// N" for every goroutine but main.
const sampleDump = `goroutine 1 [running]:
main.main()
	/src/main.go:10 +0x1d

goroutine 7 [chan receive, 2 minutes]:
runtime.gopark(0x0?, 0x0?, 0x0?, 0x0?, 0x0?)
	/go/src/runtime/proc.go:435 +0xce
runtime.chanrecv1(0xc000010000?, 0x0?)
	/go/src/runtime/chan.go:489 +0x12
example.com/ws/session.(*Session).loop(0xc000010000, {0x4a5b20, 0xc0000a8018})
	/src/session/loop.go:20 +0x25
created by example.com/ws/session.New in goroutine 1
	/src/session/session.go:12 +0x7a

goroutine 9 gp=0xc000003340 m=nil [select, locked to thread]:
os/signal.signal_recv()
	/go/src/runtime/sigqueue.go:152 +0x29
os/signal.loop()
	/go/src/os/signal/signal_unix.go:23 +0x13
created by os/signal.Notify.func1.1 in goroutine 1
	/go/src/os/signal/signal.go:151 +0x1f

goroutine 12 [chan receive]:
testing.(*T).Run(0xc000102fc0, {0x5a0e1c?, 0x0?}, 0x5b2e48)
	/go/src/testing/testing.go:1859 +0x431
testing.runTests.func1(0xc000102fc0)
	/go/src/testing/testing.go:2279 +0x37
testing.tRunner(0xc000102fc0, 0xc00012fc70)
	/go/src/testing/testing.go:1792 +0xf4
created by testing.runTests in goroutine 1
	/go/src/testing/testing.go:2277 +0x4b5

goroutine 15 [IO wait]:
internal/poll.runtime_pollWait(0x7f3a5c1e8e00, 0x72)
	/go/src/runtime/netpoll.go:351 +0x85
net/http.(*Server).Serve(0xc0001a2000, {0x6f1e20, 0xc00011e048})
	/go/src/net/http/server.go:3424 +0x30c
created by example.com/ws.TestServer in goroutine 12
	/src/server_test.go:31 +0x1aa

goroutine 21 [select]:
time.goFunc({0x5a1f00?, 0xc00001e0c0?})
	/go/src/time/sleep.go:215 +0x2d
created by time.goFunc
	/go/src/time/sleep.go:215 +0x2d
`

func TestParseGoroutines(t *testing.T) {
	want := []struct {
		id                     int
		state, entry, creation string
		ours                   bool
	}{
		{1, "running", "main.main", "", true},
		{7, "chan receive, 2 minutes", "example.com/ws/session.(*Session).loop", "example.com/ws/session.New", true},
		{9, "select, locked to thread", "os/signal.loop", "os/signal.Notify.func1.1", false},
		{12, "chan receive", "testing.tRunner", "testing.runTests", false},
		// A standard library function started by our code is ours.
		{15, "IO wait", "net/http.(*Server).Serve", "example.com/ws.TestServer", true},
		{21, "select", "time.goFunc", "time.goFunc", true},
	}
	got := parseGoroutines([]byte(sampleDump))
	if len(got) != len(want) {
		t.Fatalf("parsed %d goroutines, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.id != w.id || g.state != w.state || g.entry != w.entry || g.createdBy != w.creation || g.ours() != w.ours {
			t.Errorf("goroutine %d: got id=%d state=%q entry=%q createdBy=%q ours=%v\nwant id=%d state=%q entry=%q createdBy=%q ours=%v",
				i, g.id, g.state, g.entry, g.createdBy, g.ours(), w.id, w.state, w.entry, w.creation, w.ours)
		}
		if !strings.HasPrefix(g.stack, fmt.Sprintf("goroutine %d ", w.id)) {
			t.Errorf("goroutine %d: stack starts %.30q", i, g.stack)
		}
	}
}

func TestParseGoroutinesLive(t *testing.T) {
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		parkedForTest(release)
	}()
	defer func() { close(release); <-done }()

	// The goroutine may not have reached parkedForTest yet: poll.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		for _, g := range interestingGoroutines() {
			if strings.Contains(g.stack, "parkedForTest") {
				if !strings.Contains(g.entry, "TestParseGoroutinesLive") || !strings.Contains(g.createdBy, "TestParseGoroutinesLive") {
					t.Errorf("entry %q, created by %q; want the test's closure", g.entry, g.createdBy)
				}
				return
			}
		}
	}
	t.Fatalf("the parked goroutine is not among the interesting ones:\n%s", stacks())
}

// recorder is a testing.TB that keeps errors instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestCheckGoroutines(t *testing.T) {
	defer func(w time.Duration) { leakWait = w }(leakWait)
	leakWait = 500 * time.Millisecond

	// A goroutine started after the snapshot and still running is a leak.
	rec := &recorder{TB: t}
	check := CheckGoroutines(rec)
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		parkedForTest(release)
	}()
	check()
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "parkedForTest") || !strings.Contains(rec.errs[0], "1 goroutine(s) leaked") {
		t.Errorf("leak not reported as expected; got %q", rec.errs)
	}

	// One that was already running at the snapshot is not.
	rec = &recorder{TB: t}
	check = CheckGoroutines(rec)
	check()
	if len(rec.errs) != 0 {
		t.Errorf("an older goroutine was reported: %q", rec.errs)
	}
	close(release)
	<-done

	// One that finishes within the grace period is not either.
	rec = &recorder{TB: t}
	check = CheckGoroutines(rec)
	go time.Sleep(50 * time.Millisecond)
	check()
	if len(rec.errs) != 0 {
		t.Errorf("a goroutine that ended in the grace period was reported: %q", rec.errs)
	}
}

// TestLeakChild is run by TestVerifyNoLeaks in a child process.
func TestLeakChild(t *testing.T) {
	switch os.Getenv(childEnv) {
	case "":
		t.Skip("runs only as a child of TestVerifyNoLeaks")
	case "leak":
		go parkedForTest(make(chan struct{})) // never released
	case "fail":
		go parkedForTest(make(chan struct{}))
		t.Error("failing on purpose")
	case "clean":
		done := make(chan struct{})
		go func() { close(done) }()
		<-done
	}
}

func TestVerifyNoLeaks(t *testing.T) {
	tests := []struct {
		mode     string
		exit     int
		report   bool // whether the leak report is printed
		failText string
	}{
		{"clean", 0, false, ""},
		{"leak", 1, true, ""},
		// The tests' own failure wins, without a leak report.
		{"fail", 1, false, "failing on purpose"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestLeakChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), childEnv+"="+tt.mode)
			out, err := cmd.CombinedOutput()
			exit := 0
			if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
				exit = ee.ExitCode()
			} else if err != nil {
				t.Fatalf("running the child: %v", err)
			}
			if exit != tt.exit {
				t.Errorf("exit status %d, want %d; output:\n%s", exit, tt.exit, out)
			}
			report := strings.Contains(string(out), "goroutine(s) leaked by the tests")
			if report != tt.report {
				t.Errorf("leak report printed: %v, want %v; output:\n%s", report, tt.report, out)
			}
			if report && !strings.Contains(string(out), "parkedForTest") {
				t.Errorf("leak report lacks the leaked goroutine's stack:\n%s", out)
			}
			if !strings.Contains(string(out), tt.failText) {
				t.Errorf("output lacks %q:\n%s", tt.failText, out)
			}
		})
	}
}
