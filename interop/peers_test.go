package interop

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testTimeout bounds one pair: the peer's start (Chromium's included), the
// exchange and the peer's exit. The peers give up by themselves after 20 s.
const testTimeout = 40 * time.Second

// missing handles a peer that is not installed: a skip on a developer's
// machine, a failure in CI (CI=true), where every pair must run.
func missing(t *testing.T, peer, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s: not installed: %s (CI=true: run interop/install.sh)", peer, what)
	}
	t.Skipf("%s: not installed: %s (run interop/install.sh)", peer, what)
}

// peersDir returns the absolute path of peers/.
func peersDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("peers")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// needNode returns the node binary, after checking that the npm packages
// the peer imports are installed in peers/node_modules.
func needNode(t *testing.T, peer string, packages ...string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		missing(t, peer, "node")
	}
	for _, p := range packages {
		if _, err := os.Stat(filepath.Join(peersDir(t), "node_modules", p, "package.json")); err != nil {
			missing(t, peer, "npm package "+p+" in interop/peers/node_modules")
		}
	}
	return node
}

// needChromium returns the Chromium binary: $CHROMIUM, or Debian's.
func needChromium(t *testing.T) string {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		missing(t, "chromium", path)
	}
	return path
}

var (
	pythonMu    sync.Mutex
	pythonFound = map[string]string{} // module -> interpreter, "" for none
)

// needPython returns a Python interpreter that can import module. Debian's
// packages go to /usr/bin/python3, which need not be the python3 first on
// PATH (pyenv, a virtualenv), so that one is tried first; $INTEROP_PYTHON
// overrides both.
func needPython(t *testing.T, peer, module string) string {
	t.Helper()
	pythonMu.Lock()
	defer pythonMu.Unlock()
	py, ok := pythonFound[module]
	if !ok {
		py = findPython(module)
		pythonFound[module] = py
	}
	if py == "" {
		missing(t, peer, "a python3 that can import "+module)
	}
	return py
}

func findPython(module string) string {
	var candidates []string
	if p := os.Getenv("INTEROP_PYTHON"); p != "" {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, "/usr/bin/python3")
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	for _, py := range candidates {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := exec.CommandContext(ctx, py, "-c", "import "+module).Run()
		cancel()
		if err == nil {
			return py
		}
	}
	return ""
}

// A peer is a running peer script. Its output is kept for the verdict and
// for the log; a line "LISTEN port" is also handed to listenAddr.
type peer struct {
	name   string
	cmd    *exec.Cmd
	out    *lineWriter
	exited chan struct{}
	err    error // from Wait, once exited is closed
}

// startPeer starts argv in peers/, bound by ctx; it is killed (with its
// children: Chromium under playwright) when ctx ends or the test does.
func startPeer(ctx context.Context, t *testing.T, name string, argv ...string) *peer {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = peersDir(t)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1")
	setProcessGroup(cmd)
	cmd.WaitDelay = 2 * time.Second
	p := &peer{name: name, cmd: cmd, out: newLineWriter(), exited: make(chan struct{})}
	cmd.Stdout = p.out
	cmd.Stderr = p.out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("%s: start %v: %v", name, argv, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		cancel()
		<-p.exited
		killGroup(cmd)
	})
	return p
}

// listenAddr waits for the peer's "LISTEN port" line and returns the address.
func (p *peer) listenAddr(ctx context.Context, t *testing.T) string {
	t.Helper()
	select {
	case port := <-p.out.listen:
		return "127.0.0.1:" + port
	case <-p.exited:
		t.Fatalf("%s exited before listening (%v):\n%s", p.name, p.err, p.out)
	case <-ctx.Done():
		t.Fatalf("%s: no LISTEN line: %v\n%s", p.name, ctx.Err(), p.out)
	}
	return ""
}

// verdict waits for the peer to exit and fails the test unless it printed
// PASS and exited 0. The peer's output goes to the test log either way.
func (p *peer) verdict(ctx context.Context, t *testing.T) {
	t.Helper()
	select {
	case <-p.exited:
	case <-ctx.Done():
		t.Errorf("%s did not finish: %v", p.name, ctx.Err())
		return
	}
	out := p.out.String()
	if p.err != nil || !hasLine(out, "PASS") {
		t.Errorf("%s failed (exit: %v); it said:\n%s", p.name, p.err, out)
		return
	}
	t.Logf("%s said:\n%s", p.name, out)
}

func hasLine(out, line string) bool {
	for l := range strings.Lines(out) {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}

// lineWriter collects a process's output and spots its LISTEN line.
type lineWriter struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	partial []byte // the last line, until its newline arrives
	listen  chan string
}

func newLineWriter() *lineWriter { return &lineWriter{listen: make(chan string, 1)} }

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	w.partial = append(w.partial, p...)
	for {
		line, rest, ok := bytes.Cut(w.partial, []byte("\n"))
		if !ok {
			break
		}
		if port, ok := bytes.CutPrefix(line, []byte("LISTEN ")); ok {
			select {
			case w.listen <- string(bytes.TrimSpace(port)):
			default:
			}
		}
		w.partial = rest
	}
	w.partial = append(w.partial[:0:0], w.partial...) // do not pin the old array
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// report fails the test with each of our side's failures.
func report(t *testing.T, side string, failures []string) {
	t.Helper()
	for _, f := range failures {
		t.Errorf("%s: %s", side, f)
	}
}
