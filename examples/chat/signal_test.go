//go:build unix

package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/examples/internal/exampletest"
)

// TestSignalShutdown runs the example (the test binary, see TestMain),
// sends it SIGTERM and SIGINT, and checks that its client gets 1001 and
// that it exits with status 0. (TestChatCloseAll tests the closing
// itself with several clients.)
func TestSignalShutdown(t *testing.T) {
	exampletest.SignalShutdown(t, exampletest.Program{
		Env:       runMainEnv,
		Args:      []string{"-addr", "127.0.0.1:0"},
		Listening: regexp.MustCompile(`open http://([^/\s]+)/`),
		Path:      "/ws",
		Ready:     present,
	})
}

// present checks that the first message on c is a presence count: the
// server counts this client.
func present(ctx context.Context, c *websocket.Conn) error {
	typ, data, err := c.ReadMessage(ctx)
	if err != nil || typ != websocket.TextMessage || !strings.Contains(string(data), `"presence"`) {
		return fmt.Errorf("first message: %v %q, %v; want presence", typ, data, err)
	}
	return nil
}
