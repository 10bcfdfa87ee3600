package websocket_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
)

// TestClientHeartbeat: a client with DialOptions.PingInterval pings the
// server; the server's session answers while its handler reads, and the
// client measures a round-trip time. The heartbeat keeps running between
// messages without disturbing them.
func TestClientHeartbeat(t *testing.T) {
	addr := startServer(t, &websocket.Server{Handler: echoHandler})
	opts := &websocket.DialOptions{}
	opts.PingInterval = 20 * time.Millisecond
	opts.PongTimeout = 2 * time.Second
	ctx := testCtx(t)
	c, err := websocket.Dial(ctx, "ws://"+addr+"/", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if rtt := c.RTT(); rtt != 0 {
		t.Fatalf("RTT() = %v before any ping, want 0", rtt)
	}
	// The pongs are seen by the client's reader: keep one running.
	serveCtx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() {
		served <- c.Serve(serveCtx)
	}()
	waitFor(t, func() bool { return c.RTT() > 0 })
	if rtt := c.RTT(); rtt > time.Second {
		t.Errorf("RTT() = %v on loopback", rtt)
	}
	// Several intervals later the session is still up: pongs keep coming.
	time.Sleep(100 * time.Millisecond)
	if err := c.Err(); err != nil {
		t.Fatalf("session ended: %v", err)
	}
	stop()
	if err := <-served; !errors.Is(err, context.Canceled) {
		t.Fatalf("Serve: %v, want context.Canceled", err)
	}
	// A cancelled read leaves the session usable.
	echoOnce(t, c, "after the heartbeat")
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
}
