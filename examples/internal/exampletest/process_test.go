package exampletest

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rfc6455/websocket/internal/testutil"
)

// processEnv makes this test binary play the program of TestStartMain.
const processEnv = "EXAMPLETEST_PROCESS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(processEnv) != "" {
		os.Exit(processMain())
	}
	testutil.VerifyNoLeaks(m)
}

// processMain is that program: it says where it "listens", as the
// examples do, and exits with status 0 on SIGTERM.
func processMain() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	fmt.Println("starting")
	fmt.Fprintln(os.Stderr, "listening on 127.0.0.1:4242")
	select {
	case <-ctx.Done():
		fmt.Println("stopped")
		return 0
	case <-time.After(time.Minute): // the test is gone
		return 3
	}
}

func TestStartMain(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM to send on Windows")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	p := StartMain(ctx, t, processEnv, regexp.MustCompile(`listening on (\S+)`))
	if p.Found != "127.0.0.1:4242" {
		t.Errorf("Found = %q, want the address the program printed on stderr", p.Found)
	}
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.WaitExit(t, 20*time.Second, "SIGTERM")
	if out := p.Output(); !strings.Contains(out, "starting\n") || !strings.Contains(out, "stopped\n") {
		t.Errorf("the program's output, both streams, was %q", out)
	}
}
