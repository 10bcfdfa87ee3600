package testutil

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// runInChildEnv names the test a child process of RunInChild runs.
const runInChildEnv = "WEBSOCKET_TESTUTIL_CHILD"

// RunInChild runs the calling test again in a child process (the same
// test binary) and reports whether the caller is the parent, which must
// then return. A panic on a goroutine the test cannot recover (an event
// loop's, say) then fails this test alone instead of ending the whole run.
// The child's output is reported when it fails; it gets timeout.
func RunInChild(t *testing.T, timeout time.Duration) bool {
	t.Helper()
	if os.Getenv(runInChildEnv) == t.Name() {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), runInChildEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("in a child process: %v\n%s", err, out)
	}
	return true
}
