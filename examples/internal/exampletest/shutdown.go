package exampletest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
)

// ExitBound is how long an example may take to exit after the signal: its
// close handshakes are done at once on loopback, and its own bound
// (graceful.Timeout) is 10 s.
const ExitBound = 15 * time.Second

// A Program is an example's main, as SignalShutdown runs it.
type Program struct {
	// Env is the environment variable that makes the test binary run
	// main (RunMain in the example's TestMain), and Args its command line.
	Env  string
	Args []string

	// Listening matches the log line that says where the program
	// listens; its first group is the host:port to dial.
	Listening *regexp.Regexp

	// Path is the WebSocket endpoint's path, from "/".
	Path string

	// Ready checks that the program serves a new connection (an echo, a
	// first message), so that the signal comes once a handler runs, not
	// merely after the accept.
	Ready func(ctx context.Context, c *websocket.Conn) error
}

// SignalShutdown runs p once for SIGTERM and once for SIGINT, as subtests:
// it connects a client, sends the process the signal, and checks that the
// client gets a close frame with 1001 (going away), "server shutting
// down", and that the process exits with status 0 within ExitBound.
func SignalShutdown(t *testing.T, p Program) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			proc := StartMain(ctx, t, p.Env, p.Listening, p.Args...)
			c, err := websocket.Dial(ctx, "ws://"+proc.Found+p.Path, nil)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer c.CloseNow()
			if err := p.Ready(ctx, c); err != nil {
				t.Fatalf("before the signal: %v", err)
			}

			if err := proc.Cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			_, data, err := c.ReadMessage(ctx)
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.StatusGoingAway || ce.Reason != "server shutting down" {
				t.Errorf("after %v the client read %q, %v; want a close with 1001", sig, data, err)
			}
			proc.WaitExit(t, ExitBound, sig.String())
		})
	}
}

// Echoes is a Program.Ready for an echo server: a message sent on c comes
// back.
func Echoes(ctx context.Context, c *websocket.Conn) error {
	if err := c.WriteMessage(ctx, websocket.TextMessage, []byte("before")); err != nil {
		return err
	}
	if _, data, err := c.ReadMessage(ctx); err != nil || string(data) != "before" {
		return fmt.Errorf("echo: %q, %v", data, err)
	}
	return nil
}
