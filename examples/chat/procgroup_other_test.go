//go:build !unix

package main

import "os/exec"

// setProcessGroup does nothing here: cancellation kills node itself.
func setProcessGroup(*exec.Cmd) {}

// killGroup does nothing here.
func killGroup(*exec.Cmd) {}
