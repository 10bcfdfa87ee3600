package websocket_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/pool"
)

// TestServerPushStyle: with no Handler, the server reads each connection
// and hands messages to Options.OnMessage.
func TestServerPushStyle(t *testing.T) {
	srv := &websocket.Server{}
	srv.Options.OnMessage = func(c *websocket.Conn, typ websocket.MessageType, data []byte) {
		c.WriteMessage(context.Background(), typ, append([]byte("echo: "), data...))
	}
	addr := startServer(t, srv)
	ctx := testTimeout(t)
	c, err := websocket.Dial(ctx, "ws://"+addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.SendText(ctx, "hi")
	if _, data, err := c.ReadMessage(ctx); err != nil || string(data) != "echo: hi" {
		t.Fatalf("got %q %v", data, err)
	}
	waitFor(t, func() bool { return srv.Len() == 1 })
	c.Close(websocket.StatusNormalClosure, "")
	waitFor(t, func() bool { return srv.Len() == 0 })
}

// TestServerWorkers: OnMessage runs on the worker pool, each connection's
// messages in order and one at a time, while connections run in parallel.
func TestServerWorkers(t *testing.T) {
	w := pool.NewWorkers(pool.WorkersConfig{Workers: 4, QueueSize: 16})
	w.Start()
	defer w.Shutdown(context.Background())

	var inFlight sync.Map // session ID -> *atomic.Int32: handlers running now
	var overlap atomic.Bool
	srv := &websocket.Server{Workers: w}
	srv.Options.OnMessage = func(c *websocket.Conn, typ websocket.MessageType, data []byte) {
		n, _ := inFlight.LoadOrStore(c.ID(), new(atomic.Int32))
		if n.(*atomic.Int32).Add(1) > 1 {
			overlap.Store(true)
		}
		time.Sleep(time.Duration(len(data)%3) * time.Millisecond) // uneven task times invite stealing
		c.WriteMessage(context.Background(), typ, data)
		n.(*atomic.Int32).Add(-1)
	}
	addr := startServer(t, srv)
	ctx := testTimeout(t)
	const clients, each = 6, 40
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := websocket.Dial(ctx, "ws://"+addr, nil)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close(websocket.StatusNormalClosure, "")
			for seq := 0; seq < each; seq++ {
				c.SendText(ctx, fmt.Sprintf("%d-%d", i, seq))
			}
			for seq := 0; seq < each; seq++ {
				_, data, err := c.ReadMessage(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				if want := fmt.Sprintf("%d-%d", i, seq); string(data) != want {
					t.Errorf("client %d: got %q, want %q", i, data, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	if overlap.Load() {
		t.Error("two messages of one connection were handled at once")
	}
	// The pool counts a task once it has returned, just after its reply
	// reached the client: wait for the count rather than read it once.
	waitFor(t, func() bool { return w.Stats().Completed >= clients*each })
}

// TestServerBroadcast: one message reaches every open connection.
func TestServerBroadcast(t *testing.T) {
	srv := &websocket.Server{Handler: func(c *websocket.Conn, _ *websocket.Request) { c.Serve(context.Background()) }}
	srv.Options.SendQueueSize = 8
	srv.Options.SlowPolicy = websocket.PolicyClose
	addr := startServer(t, srv)
	ctx := testTimeout(t)
	var conns []*websocket.Conn
	for i := 0; i < 5; i++ {
		c, err := websocket.Dial(ctx, "ws://"+addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		conns = append(conns, c)
	}
	waitFor(t, func() bool { return srv.Len() == len(conns) })
	if res := srv.Broadcast(websocket.TextMessage, []byte("news")); res.Sent != len(conns) {
		t.Fatalf("Broadcast: %+v, want %d sent", res, len(conns))
	}
	for i, c := range conns {
		if _, data, err := c.ReadMessage(ctx); err != nil || string(data) != "news" {
			t.Fatalf("client %d: %q %v", i, data, err)
		}
	}
}

func testTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
