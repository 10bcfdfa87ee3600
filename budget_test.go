package websocket_test

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
)

// holder starts a goroutine-mode Server on budget b whose OnMessage holds
// each message of n bytes (and so its share of b) until release is
// closed, and sends it one: when holder returns, b holds about n bytes.
func holder(t *testing.T, b *websocket.Budget, n int) (release func()) {
	t.Helper()
	hold, held := make(chan struct{}), make(chan struct{})
	_, addr := startPush(t, websocket.IOGoroutine, func(s *websocket.Server) {
		s.Options.Budget = b
		s.Options.OnMessage = func(c *websocket.Conn, _ websocket.MessageType, data []byte) {
			if len(data) == n {
				held <- struct{}{}
				<-hold
			}
		}
	})
	ctx := testCtx(t)
	c, err := websocket.Dial(ctx, "ws://"+addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	if err := c.WriteMessage(ctx, websocket.BinaryMessage, make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	<-held
	var once bool
	release = func() {
		if !once {
			once = true
			close(hold)
		}
	}
	t.Cleanup(release)
	return release
}

// waitBudget waits until b holds at most want bytes, running collections.
func waitBudget(t *testing.T, b *websocket.Budget, want int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for b.Used() > want {
		if time.Now().After(deadline) {
			t.Fatalf("budget holds %d bytes, want at most %d", b.Used(), want)
		}
		runtime.GC() // buffers let go of count until a collection frees them
		time.Sleep(5 * time.Millisecond)
	}
}

// TestServerBudgetWaits: a connection whose message finds the server's
// budget exhausted (another server sharing it holds a message in
// OnMessage) is not read until the memory comes back, then echoes its
// message whole; in both I/O modes (on a loop: the socket is paused and
// retried, the loop goes on serving).
func TestServerBudgetWaits(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		const n = 100 << 10
		b := websocket.NewBudget(150<<10, 5*time.Second)
		release := holder(t, b, n)
		_, addr := startPush(t, mode, func(s *websocket.Server) { s.Options.Budget = b })
		ctx := testCtx(t)
		c, err := websocket.Dial(ctx, "ws://"+addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		// Small messages need no budget.
		if err := c.WriteMessage(ctx, websocket.TextMessage, []byte("small")); err != nil {
			t.Fatal(err)
		}
		if _, got, err := c.ReadMessage(ctx); err != nil || string(got) != "small" {
			t.Fatalf("small message: %q, %v", got, err)
		}
		msg := seqPayload(n, 1)
		if err := c.WriteMessage(ctx, websocket.BinaryMessage, msg); err != nil {
			t.Fatal(err)
		}
		echoed := make(chan error, 1)
		go func() {
			_, got, err := c.ReadMessage(ctx)
			if err == nil && !bytes.Equal(got, msg) {
				err = errors.New("echo corrupted")
			}
			echoed <- err
		}()
		select {
		case err := <-echoed:
			t.Fatalf("echoed while the budget was exhausted: %v", err)
		case <-time.After(300 * time.Millisecond):
		}
		release()
		if err := <-echoed; err != nil {
			t.Fatal(err)
		}
		if p := b.Peak(); p > b.Size() {
			t.Errorf("peak %d past the budget's %d bytes", p, b.Size())
		}
		c.Close(websocket.StatusNormalClosure, "")
	})
}

// TestServerBudgetStarved: a connection refused memory for longer than
// the budget's Wait is closed with 1013, and its server's OnClose sees
// ErrMemoryBudget; in both I/O modes.
func TestServerBudgetStarved(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		const n = 100 << 10
		b := websocket.NewBudget(150<<10, 200*time.Millisecond)
		holder(t, b, n)
		closed, onClose := closeCh()
		_, addr := startPush(t, mode, func(s *websocket.Server) {
			s.Options.Budget = b
			s.Options.OnClose = onClose
		})
		ctx := testCtx(t)
		c, err := websocket.Dial(ctx, "ws://"+addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		start := time.Now()
		if err := c.WriteMessage(ctx, websocket.BinaryMessage, make([]byte, n)); err != nil {
			t.Fatal(err)
		}
		var ce *websocket.CloseError
		if _, _, err := c.ReadMessage(ctx); !errors.As(err, &ce) || ce.Code != websocket.StatusTryAgainLater {
			t.Fatalf("client read: %v, want a close with 1013", err)
		}
		if d := time.Since(start); d < 200*time.Millisecond {
			t.Errorf("closed after %v, before the budget's wait", d)
		}
		if err := recvErr(t, closed, "OnClose"); !errors.Is(err, websocket.ErrMemoryBudget) {
			t.Errorf("server OnClose: %v, want ErrMemoryBudget", err)
		}
		if p := b.Peak(); p > b.Size() {
			t.Errorf("peak %d past the budget's %d bytes", p, b.Size())
		}
	})
}

// TestServerBudgetBombs: compression bombs sent at once over several
// connections are each refused with 1009 at the message limit while the
// budget's peak stays within its size, and everything they held goes
// back; in both I/O modes, with the server's own default budget counting.
func TestServerBudgetBombs(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		b := websocket.NewBudget(3<<20, time.Second)
		srv, addr := startPush(t, mode, func(s *websocket.Server) {
			s.Options.Budget = b
			s.Options.Compression = &websocket.CompressionOptions{}
		})
		if srv.Budget() != b {
			t.Fatal("Server.Budget is not Options.Budget")
		}
		ctx := testCtx(t)
		bomb := make([]byte, 8<<20) // zeros: about 8 KiB compressed, 8 times the limit
		const conns = 8
		codes := make(chan error, conns)
		for range conns {
			c, err := websocket.Dial(ctx, "ws://"+addr, &websocket.DialOptions{Options: websocket.Options{Compression: &websocket.CompressionOptions{}}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			go func() {
				if err := c.WriteMessage(ctx, websocket.BinaryMessage, bomb); err != nil {
					codes <- err
					return
				}
				_, _, err := c.ReadMessage(ctx)
				codes <- err
			}()
		}
		for range conns {
			var ce *websocket.CloseError
			// 1013 where the budget made a bomb wait too long.
			if err := <-codes; !errors.As(err, &ce) || ce.Code != websocket.StatusMessageTooBig && ce.Code != websocket.StatusTryAgainLater {
				t.Errorf("bomber: %v, want a close with 1009 or 1013", err)
			}
		}
		if p := b.Peak(); p > b.Size() || p < 1<<19 {
			t.Errorf("peak %d, want inflation counted (a bomb's 1 MiB limit) and at most %d", p, b.Size())
		}
		waitBudget(t, b, 0)
	})
}

// TestDefaultBudget: a Server without a budget gets one sized from the
// machine, within the documented bounds, and NewBudget(0, 0) bounds
// nothing.
func TestDefaultBudget(t *testing.T) {
	n := websocket.DefaultBudgetSize()
	if n < 16<<20 || n > 1<<30 {
		t.Errorf("DefaultBudgetSize() = %d, want 16 MiB to 1 GiB", n)
	}
	var srv websocket.Server
	if b := srv.Budget(); b == nil || b.Size() != n || b.Wait() != 2*time.Second {
		t.Errorf("a Server's own budget: %v, want %d bytes and 2 s", b, n)
	}
	if b := websocket.NewBudget(0, 0); b.Size() != 0 {
		t.Errorf("NewBudget(0, 0).Size() = %d", b.Size())
	}
}

// TestServerBudgetStalemate: connections each part way through a message
// that hold the whole budget between them, each waiting to grow, are not
// left to wait out the budget's Wait together: the ones that hold the
// least are closed with 1013 (ErrMemoryBudget) at once, and the others'
// messages come back whole; in both I/O modes (on a loop, the paused
// sockets chosen are woken to give way).
func TestServerBudgetStalemate(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		const conns, first = 3, 40 << 10
		held := int64(conns * (64<<10 - 4<<10)) // each first fragment's buffer, past its free 4 KiB
		b := websocket.NewBudget(held+12<<10, 10*time.Second)
		var budgetCloses atomic.Int32
		_, addr := startPush(t, mode, func(s *websocket.Server) {
			s.Options.Budget = b
			s.Options.OnClose = func(_ *websocket.Conn, err error) {
				if errors.Is(err, websocket.ErrMemoryBudget) {
					budgetCloses.Add(1)
				}
			}
		})
		ctx := testCtx(t)
		msg := seqPayload(100<<10, 3)
		var writers []io.WriteCloser
		var clients []*websocket.Conn
		for range conns {
			c, err := websocket.Dial(ctx, "ws://"+addr, &websocket.DialOptions{Options: websocket.Options{FragmentSize: first}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			w, err := c.NextWriter(ctx, websocket.BinaryMessage)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(msg[:first+1]); err != nil { // the first fragment goes out
				t.Fatal(err)
			}
			clients, writers = append(clients, c), append(writers, w)
		}
		waitFor(t, func() bool { return b.Used() == held })
		start := time.Now()
		type result struct {
			data []byte
			err  error
		}
		results := make(chan result, conns)
		for i, c := range clients {
			go func() {
				writers[i].Write(msg[first+1:])
				writers[i].Close()
				_, data, err := c.ReadMessage(ctx)
				results <- result{data, err}
			}()
		}
		var whole int
		for range conns {
			select {
			case r := <-results:
				if r.err == nil && !bytes.Equal(r.data, msg) {
					t.Errorf("echo of %d bytes, not the message", len(r.data))
				}
				if r.err == nil {
					whole++
				}
			case <-time.After(b.Wait() / 2):
				t.Fatalf("connections still waiting after %v: a stalemate until the budget's Wait", time.Since(start))
			}
		}
		waitFor(t, func() bool { return int(budgetCloses.Load()) == conns-whole })
		if whole == 0 || whole == conns {
			t.Errorf("%d of %d messages echoed, want some, and the others closed for the budget", whole, conns)
		}
		if p := b.Peak(); p > b.Size() {
			t.Errorf("peak %d past the budget's %d bytes", p, b.Size())
		}
	})
}
