//go:build unix

package main

import (
	"regexp"
	"testing"

	"github.com/rfc6455/websocket/examples/internal/exampletest"
)

// TestSignalShutdown runs the example (the test binary, see TestMain),
// sends it SIGTERM and SIGINT, and checks that its client gets 1001 and
// that it exits with status 0.
func TestSignalShutdown(t *testing.T) {
	exampletest.SignalShutdown(t, exampletest.Program{
		Env:       runMainEnv,
		Args:      []string{"-addr", "127.0.0.1:0"},
		Listening: regexp.MustCompile(`serving ws://([^/\s]+)/`),
		Path:      "/",
		Ready:     exampletest.Echoes,
	})
}
