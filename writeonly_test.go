package websocket_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
)

// A pull-style client that only writes, with PingInterval: its heartbeat
// reads the pongs itself. And the errors every call returns once a
// connection has ended.

// dialWriteOnly dials addr with a heartbeat of ping and pong.
func dialWriteOnly(t *testing.T, addr string, ping, pong time.Duration) *websocket.Conn {
	t.Helper()
	opts := &websocket.DialOptions{}
	opts.PingInterval = ping
	opts.PongTimeout = pong
	c, err := websocket.Dial(testCtx(t), "ws://"+addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// writeUntilError writes a message every 5 ms until a write fails, at most
// for 10 s, and returns the error.
func writeUntilError(t *testing.T, c *websocket.Conn) error {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if err := c.SendText(context.Background(), "anyone there?"); err != nil {
			return err
		}
	}
	t.Fatal("writes still succeed 10 s on")
	return nil
}

// TestWriteOnlyClientKeepsHeartbeat: against a push-style Server in either
// I/O mode, a client that never reads stays up through many pong
// timeouts, measures an RTT, and closes with a clean handshake.
func TestWriteOnlyClientKeepsHeartbeat(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		var got atomic.Int64
		_, addr := startPush(t, mode, func(srv *websocket.Server) {
			srv.Options.OnMessage = func(*websocket.Conn, websocket.MessageType, []byte) { got.Add(1) }
		})
		c := dialWriteOnly(t, addr, 20*time.Millisecond, 200*time.Millisecond)
		const n = 100 // 10 ms apart: five pong timeouts
		ctx := testCtx(t)
		for i := range n {
			if err := c.SendText(ctx, "only writing"); err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := c.Err(); err != nil {
			t.Fatalf("the connection ended: %v", err)
		}
		if c.RTT() == 0 {
			t.Error("RTT() = 0: the heartbeat saw no pong")
		}
		if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
			t.Fatal(err)
		}
		var ce *websocket.CloseError
		if !errors.As(c.Err(), &ce) || ce.Code != websocket.StatusNormalClosure {
			t.Fatalf("Err() = %v, want 1000", c.Err())
		}
		waitFor(t, func() bool { return got.Load() == n })
	})
}

// TestWriteOnlyClientDeadPeer: a peer that answers nothing after the
// handshake, whether it drains what it gets or has stalled, is still
// detected: the writes end with the *CloseError of the pong timeout.
func TestWriteOnlyClientDeadPeer(t *testing.T) {
	for _, peer := range []string{"silent", "stalled"} {
		t.Run(peer, func(t *testing.T) {
			stop := make(chan struct{})
			rs := newRawServer(t, func(p *rawPeer) {
				if peer == "silent" {
					io.Copy(io.Discard, p.nc)
					return
				}
				<-stop
			})
			t.Cleanup(func() { close(stop) }) // before the raw server's
			c := dialWriteOnly(t, rs.addr, 10*time.Millisecond, 50*time.Millisecond)
			err := writeUntilError(t, c)
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.StatusAbnormalClosure {
				t.Fatalf("write = %v, want a 1006 *CloseError", err)
			}
			if err != c.Err() {
				t.Errorf("write = %v, want Err() = %v", err, c.Err())
			}
			if !errors.Is(err, websocket.ErrPongTimeout) || !errors.Is(err, net.ErrClosed) {
				t.Errorf("write = %v: want it to match ErrPongTimeout and net.ErrClosed", err)
			}
			if _, _, err := c.ReadMessage(context.Background()); err != c.Err() {
				t.Errorf("ReadMessage = %v, want Err() = %v", err, c.Err())
			}
		})
	}
}

// TestWriteOnlyClientUnreadMessage: the server sends a message the client
// never reads; it hides the pongs behind it, and the connection ends with
// an ErrPongTimeout that says a message waits unread.
func TestWriteOnlyClientUnreadMessage(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		_, addr := startPush(t, mode, nil) // echoes
		c := dialWriteOnly(t, addr, 10*time.Millisecond, 50*time.Millisecond)
		err := writeUntilError(t, c)
		if !errors.Is(err, websocket.ErrPongTimeout) || !strings.Contains(err.Error(), "unread") {
			t.Fatalf("write = %v, want an ErrPongTimeout that names the unread message", err)
		}
	})
}

// TestWriteAfterPeerClosed: in either I/O mode, once the client has closed
// with 1001, the server's writes return that *CloseError, code and
// reason, which also matches net.ErrClosed.
func TestWriteAfterPeerClosed(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		conns := make(chan *websocket.Conn, 1)
		_, addr := startPush(t, mode, func(srv *websocket.Server) {
			srv.OnConnect = func(c *websocket.Conn) { conns <- c }
		})
		c, err := websocket.Dial(testCtx(t), "ws://"+addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		var sc *websocket.Conn
		select {
		case sc = <-conns:
		case <-time.After(5 * time.Second):
			t.Fatal("OnConnect was not called")
		}
		if err := c.Close(websocket.StatusGoingAway, "leaving"); err != nil {
			t.Fatal(err)
		}
		select {
		case <-sc.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("the server's connection did not end")
		}
		for what, err := range map[string]error{
			"WriteMessage": sc.WriteMessage(context.Background(), websocket.TextMessage, []byte("late")),
			"Enqueue":      sc.Enqueue(websocket.BinaryMessage, []byte("late")),
			"Ping":         sc.Ping(context.Background(), nil),
		} {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.StatusGoingAway || ce.Reason != "leaving" {
				t.Errorf("%s after the peer's close = %v, want its 1001 \"leaving\"", what, err)
			}
			if err != sc.Err() || !errors.Is(err, net.ErrClosed) {
				t.Errorf("%s = %v, want Err() (%v), matching net.ErrClosed", what, err, sc.Err())
			}
		}
	})
}
