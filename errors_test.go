package websocket_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/endpoint"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/netpoll"
	"github.com/rfc6455/websocket/pool"
	"github.com/rfc6455/websocket/session"
)

// TestErrorsAreOneValue: each meaning has one value, whichever package
// names it, so that errors.Is matches it whichever layer raised it.
func TestErrorsAreOneValue(t *testing.T) {
	same := []struct {
		name        string
		root, other error
	}{
		{"ErrSlowConsumer = session's", websocket.ErrSlowConsumer, session.ErrSlowConsumer},
		{"ErrMemoryBudget = session's", websocket.ErrMemoryBudget, session.ErrBudget},
		{"ErrSlowConsumer = the poller's", websocket.ErrSlowConsumer, netpoll.ErrSlowConsumer},
		{"ErrQueueFull = session's", websocket.ErrQueueFull, session.ErrQueueFull},
		{"ErrQueueFull = the worker pool's", websocket.ErrQueueFull, pool.ErrQueueFull},
		{"ErrBadURL = endpoint's", websocket.ErrBadURL, endpoint.ErrBadURL},
		{"ErrEventLoop = session's", websocket.ErrEventLoop, session.ErrEventLoop},
		{"ErrPongTimeout = session's", websocket.ErrPongTimeout, session.ErrPongTimeout},
		{"ErrIdleTimeout = session's", websocket.ErrIdleTimeout, session.ErrIdleTimeout},
	}
	for _, tt := range same {
		if tt.root != tt.other {
			t.Errorf("%s: %q and %q are two values", tt.name, tt.root, tt.other)
		}
	}
	for _, err := range []error{websocket.ErrSlowConsumer, websocket.ErrQueueFull, websocket.ErrBadURL, websocket.ErrEventLoop,
		websocket.ErrPongTimeout, websocket.ErrIdleTimeout, websocket.ErrNotConnected, websocket.ErrMaxAttempts, websocket.ErrServerClosed} {
		if msg := err.Error(); len(msg) < 11 || msg[:11] != "websocket: " {
			t.Errorf("%q lacks the websocket: prefix", msg)
		}
	}
}

// TestLoopSlowConsumerEndsWithErrSlowConsumer: on an event loop, a
// callback that writes more than the socket may hold for a peer that reads
// nothing gets the poller's slow-consumer error, and the connection ends
// with a CloseError wrapping it: both match websocket.ErrSlowConsumer.
func TestLoopSlowConsumerEndsWithErrSlowConsumer(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 64 MiB")
	}
	if err := loopsProbe(); err != nil {
		t.Skipf("no event loops here (%v)", err)
	}
	wrote := make(chan error, 1)
	closed, onClose := closeCh()
	_, addr := startPushOn(t, websocket.IOEventLoop, listenSmall(t), func(s *websocket.Server) {
		s.Options.OnClose = onClose
		s.Options.OnMessage = func(c *websocket.Conn, _ websocket.MessageType, _ []byte) {
			// On the loop, a write never waits for room: it queues, up to
			// the poller's bound.
			msg := make([]byte, 1<<20)
			var err error
			for range 80 {
				if err = c.WriteMessage(context.Background(), websocket.BinaryMessage, msg); err != nil {
					break
				}
			}
			wrote <- err
		}
	})
	p := dialRawSmall(t, addr) // reads nothing
	p.send(true, 0, frame.OpBinary, []byte("flood me"))
	if err := recvErr(t, wrote, "the flood"); !errors.Is(err, websocket.ErrSlowConsumer) {
		t.Fatalf("80 MiB written on the loop to a peer that reads nothing: %v, want ErrSlowConsumer", err)
	}
	err := recvErr(t, closed, "OnClose")
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || !errors.Is(err, websocket.ErrSlowConsumer) {
		t.Fatalf("OnClose: %v, want a CloseError wrapping ErrSlowConsumer", err)
	}
}

// TestEnqueueBlockTimeoutIsErrQueueFull: in both I/O modes, a message that
// PolicyBlock drops after SlowTimeout matches websocket.ErrQueueFull (and
// the worker pool's value), the connection stays up, and Broadcast counts
// such a drop as Dropped.
func TestEnqueueBlockTimeoutIsErrQueueFull(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		const slow = 100 * time.Millisecond
		srv, addr := startPushOn(t, mode, listenSmall(t), func(s *websocket.Server) {
			s.Options.SendQueueSize = 2
			s.Options.SlowPolicy = websocket.PolicyBlock
			s.Options.SlowTimeout = slow
		})
		dialRawSmall(t, addr) // reads nothing
		c := serverConn(t, srv)
		msg := make([]byte, 64<<10)
		var err error
		for i := 0; i < 1000 && err == nil; i++ {
			err = c.Enqueue(websocket.BinaryMessage, msg)
		}
		if !errors.Is(err, websocket.ErrQueueFull) || !errors.Is(err, pool.ErrQueueFull) {
			t.Fatalf("Enqueue to a peer that reads nothing: %v, want an ErrQueueFull", err)
		}
		if err := c.Err(); err != nil {
			t.Fatalf("the connection ended after a dropped message: %v", err)
		}
		if res := srv.Broadcast(websocket.BinaryMessage, msg); res.Dropped != 1 {
			t.Errorf("Broadcast to the full queue: %+v, want 1 dropped", res)
		}
	})
}
