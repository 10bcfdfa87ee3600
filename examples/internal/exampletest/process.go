// Package exampletest runs an example's main as the program it is, for the
// examples' tests: StartMain starts it in a child process, and
// SignalShutdown checks that it stops cleanly on SIGTERM and SIGINT. It
// is for _test files (it imports package testing), as internal/testutil
// is, and lives here because it uses the root package, which testutil, a
// leaf, may not.
package exampletest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"testing"
	"time"
)

// A Process is a program's main running in a child process: the test
// binary again, which its TestMain turns into the program when an
// environment variable says so (see StartMain). The program is then built
// as go test built it, with the race detector under make test, and needs
// no go build of its own.
type Process struct {
	Cmd *exec.Cmd

	// Found is the first group of the pattern StartMain waited for in the
	// program's output: where it listens, say.
	Found string

	exited chan struct{} // closed when Wait has returned
	err    error         // Wait's, once exited is closed
	out    *outputWatcher
}

// StartMain runs the test binary with args and the environment variable
// env set, which the binary's TestMain answers by running main (RunMain),
// and waits until the program's output (stdout and stderr) matches
// pattern, whose first group becomes p.Found. It fails the test if the
// program exits first or ctx ends. Whatever happens, the process is killed
// and waited for when the test ends.
func StartMain(ctx context.Context, t *testing.T, env string, pattern *regexp.Regexp, args ...string) *Process {
	t.Helper()
	w := &outputWatcher{pattern: pattern, found: make(chan string, 1)}
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), env+"=1")
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Process{Cmd: cmd, exited: make(chan struct{}), out: w}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
	})
	select {
	case p.Found = <-w.found:
	case <-p.exited:
		t.Fatalf("the program exited before its output matched %q: %v\n%s", pattern, p.err, w.String())
	case <-ctx.Done():
		t.Fatalf("the program's output did not match %q\n%s", pattern, w.String())
	}
	return p
}

// RunMain makes a test binary the program whose main it holds: called
// first in TestMain, it runs main and exits with status 0 if the
// environment variable env is set (as StartMain sets it), and returns at
// once otherwise, for the tests to run.
func RunMain(env string, main func()) {
	if os.Getenv(env) != "" {
		main()
		os.Exit(0)
	}
}

// WaitExit waits at most bound for the program to exit, and fails the test
// unless it exited with status 0. after names what the program was
// expected to exit after (a signal), for the messages.
func (p *Process) WaitExit(t *testing.T, bound time.Duration, after string) {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(bound):
		t.Fatalf("the program did not exit within %v of %s\n%s", bound, after, p.out.String())
	}
	if p.err != nil {
		t.Errorf("after %s the program exited with %v, want status 0\n%s", after, p.err, p.out.String())
	}
}

// Output returns what the program has written so far.
func (p *Process) Output() string { return p.out.String() }

// outputWatcher collects a program's output and sends the first match of
// pattern's first group on found.
type outputWatcher struct {
	pattern *regexp.Regexp
	found   chan string

	mu   sync.Mutex
	buf  bytes.Buffer
	sent bool
}

func (w *outputWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.sent {
		if m := w.pattern.FindSubmatch(w.buf.Bytes()); m != nil {
			w.found <- string(m[1])
			w.sent = true
		}
	}
	return len(p), nil
}

func (w *outputWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
