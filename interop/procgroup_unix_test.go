//go:build unix

package interop

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the peer in a process group of its own and makes
// cancellation kill the whole group: playwright's Chromium and its helpers
// must not outlive a node process that was killed.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// killGroup kills what is left of the peer's process group once the peer
// has exited: helpers it started and did not reap.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // ESRCH when nothing is left
	}
}
