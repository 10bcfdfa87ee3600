//go:build unix

package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
)

// exitBound is how long the example may take to exit after the signal:
// its close handshakes are done at once on loopback, and its own bound
// (shutdownTimeout) is 10 s.
const exitBound = 15 * time.Second

// TestSignalShutdown runs the example, connects a client, sends the
// process SIGTERM or SIGINT, and checks that the client gets a close
// frame with 1001 (going away) and that the process exits with status 0.
func TestSignalShutdown(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			p := startExample(ctx, t)
			c, err := websocket.Dial(ctx, "ws://"+p.addr+"/", nil)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer c.CloseNow()
			// One echo first: the handler is running, not merely the accept.
			if err := c.WriteMessage(ctx, websocket.TextMessage, []byte("before")); err != nil {
				t.Fatal(err)
			}
			if _, data, err := c.ReadMessage(ctx); err != nil || string(data) != "before" {
				t.Fatalf("echo: %q, %v", data, err)
			}

			if err := p.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			_, data, err := c.ReadMessage(ctx)
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.StatusGoingAway || ce.Reason != "server shutting down" {
				t.Errorf("after %v the client read %q, %v; want a close with 1001", sig, data, err)
			}
			p.checkExit(t, sig)
		})
	}
}

// example is a running example process.
type example struct {
	cmd    *exec.Cmd
	addr   string        // where it listens
	exited chan struct{} // closed when Wait has returned
	err    error         // Wait's, once exited is closed
	log    *logWatcher
}

// startExample runs the test binary as the example, listening on a port
// of its choice, and waits for the log line that says where.
func startExample(ctx context.Context, t *testing.T) *example {
	t.Helper()
	lw := &logWatcher{pattern: regexp.MustCompile(`serving ws://([^/\s]+)/`), found: make(chan string, 1)}
	cmd := exec.CommandContext(ctx, os.Args[0], "-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	cmd.Stdout, cmd.Stderr = lw, lw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &example{cmd: cmd, exited: make(chan struct{}), log: lw}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	// Whatever happens, the process is gone when the test ends.
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
	})
	select {
	case p.addr = <-lw.found:
	case <-p.exited:
		t.Fatalf("the example exited before listening: %v\n%s", p.err, lw.String())
	case <-ctx.Done():
		t.Fatalf("the example did not say where it listens\n%s", lw.String())
	}
	return p
}

// checkExit waits for the process to exit, at most exitBound, and checks
// that it exited with status 0.
func (p *example) checkExit(t *testing.T, sig syscall.Signal) {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(exitBound):
		t.Fatalf("the example did not exit within %v of %v\n%s", exitBound, sig, p.log.String())
	}
	if p.err != nil {
		t.Errorf("after %v the example exited with %v, want status 0\n%s", sig, p.err, p.log.String())
	}
}

// logWatcher collects the example's output and reports the first match
// of pattern's group on found.
type logWatcher struct {
	pattern *regexp.Regexp
	found   chan string

	mu   sync.Mutex
	buf  bytes.Buffer
	sent bool
}

func (w *logWatcher) Write(p []byte) (int, error) {
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

func (w *logWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
