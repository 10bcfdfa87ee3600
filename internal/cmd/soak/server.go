//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// echoserverPkg is the server under test, built from this module.
const echoserverPkg = "github.com/rfc6455/websocket/autobahn/cmd/echoserver"

// buildServer builds the echo server into dir and returns its path.
func buildServer(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "echoserver")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, echoserverPkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", echoserverPkg, err, out)
	}
	return bin, nil
}

// server is one echo server process, started for one scenario in one
// I/O mode.
type server struct {
	cmd  *exec.Cmd
	pid  int
	addr string
	out  tailBuffer

	exited  chan struct{} // closed once the process has been waited for
	waitErr error

	capped atomic.Int64 // the RSS at which the sampler killed it, if it did
}

// startServer starts bin in mode on a free loopback port and waits until
// it accepts connections.
func startServer(ctx context.Context, bin, mode string, deflate bool) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{"-addr", addr, "-io", mode}
	if deflate {
		args = append(args, "-deflate")
	}
	s := &server{addr: addr, exited: make(chan struct{})}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdout = &s.out
	s.cmd.Stderr = &s.out
	// The server dies with the soak, whatever ends it.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	s.pid = s.cmd.Process.Pid
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return s, nil
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("echoserver %s exited at start: %v\n%s", mode, s.waitErr, s.out.String())
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("echoserver %s: not accepting on %s after 10s: %v", mode, addr, err)
		}
	}
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// alive reports whether the process is still running.
func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// kill ends the process at once.
func (s *server) kill() {
	s.cmd.Process.Kill()
	<-s.exited
}

// stop asks the server to shut down (SIGTERM: 1001 to its clients), and
// kills it if it has not within 3 s.
func (s *server) stop() {
	if !s.alive() {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(3 * time.Second):
		s.kill()
	}
}

// crashed describes an exit nobody asked for, or "".
func (s *server) crashed() string {
	if s.alive() || s.capped.Load() != 0 {
		return ""
	}
	msg := fmt.Sprint(s.waitErr)
	if tail := strings.TrimSpace(s.out.String()); tail != "" {
		lines := strings.Split(tail, "\n")
		msg += ": " + lines[len(lines)-1]
	}
	return msg
}

// sample reads the server's figures now.
func (s *server) sample() (procStats, error) {
	if !s.alive() {
		return procStats{}, errors.New("server exited")
	}
	return readProc(s.pid)
}

// tailBuffer keeps the last 16 KiB written to it: the server's log.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if over := t.buf.Len() - 16<<10; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}

// raiseFileLimit raises the soft limit on open files to the hard one. Go
// does it for the process at start too (and puts the old limit back for
// children); doing it here says so, and lets the child inherit it.
func raiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	return lim.Cur, nil
}
