//go:build !unix

package interop

import "os/exec"

// setProcessGroup does nothing here: cancellation kills the peer itself.
func setProcessGroup(*exec.Cmd) {}

// killGroup does nothing here.
func killGroup(*exec.Cmd) {}
