//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts node in a process group of its own and makes
// cancellation kill the whole group, so that the Chromium processes
// playwright started do not outlive a node that was killed.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}

// killGroup kills whatever is left of the group once node has exited.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // ESRCH when nothing is left
	}
}
