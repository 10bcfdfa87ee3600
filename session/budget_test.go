package session

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/testutil"
)

// budgetPair is pair with the server's messages counted against b,
// handed to onMessage in push style.
func budgetPair(t *testing.T, b *Budget, onMessage func(*Session, frame.Opcode, []byte)) (client, server *Session) {
	return pair(t, nil, &Options{Budget: b, OnMessage: onMessage})
}

// bombPair is compressedPair with a message limit on the server.
func bombPair(t *testing.T, limit int64, so *Options) (client, server *Session) {
	a, b := testutil.LoopbackPair(t)
	cc := conn.New(a, conn.Client, &conn.Config{AllowedRsv: frame.Rsv1})
	sc := conn.New(b, conn.Server, &conn.Config{AllowedRsv: frame.Rsv1, MaxMessageSize: limit})
	cc.Open(nil)
	sc.Open(nil)
	comp := &Compression{Threshold: -1}
	so.Compression = comp
	client, server = New(cc, &Options{Compression: comp}), New(sc, so)
	t.Cleanup(func() { client.CloseNow(); server.CloseNow() })
	return client, server
}

// waitUsed waits until b holds want bytes, running collections meanwhile:
// the buffers sessions let go of count until one frees them.
func waitUsed(t *testing.T, b *Budget, want int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for b.Used() != want {
		if time.Now().After(deadline) {
			t.Fatalf("budget holds %d bytes (%d of them let go of), want %d", b.Used(), b.junk.held(), want)
		}
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
	}
}

// sessionsHold returns what the sessions of b hold: its used bytes but
// the junk.
func sessionsHold(b *Budget) int64 { return b.Used() - b.junk.held() }

// TestBudgetWaitsForRelease: while one session holds most of a shared
// budget (a large message that its OnMessage has not returned from), a
// second session's large message waits for memory, its socket unread,
// and arrives whole as soon as the first gives the memory back. Small
// messages cost the budget nothing meanwhile.
func TestBudgetWaitsForRelease(t *testing.T) {
	const size = 100 << 10
	b := NewBudget(150<<10, 5*time.Second)
	msg := bytes.Repeat([]byte("0123456789"), size/10)

	// The first session holds the message in OnMessage until told.
	hold, held := make(chan struct{}), make(chan struct{})
	c1, s1 := budgetPair(t, b, func(_ *Session, _ frame.Opcode, data []byte) {
		if len(data) == size {
			close(held)
			<-hold
		}
	})
	served := make(chan error, 1)
	go func() { served <- s1.Serve(bg) }()
	if err := c1.WriteMessage(bg, frame.OpBinary, msg); err != nil {
		t.Fatal(err)
	}
	<-held
	if got := b.Used(); got < size-budgetFree {
		t.Fatalf("budget holds %d bytes during OnMessage, want at least %d", got, size-budgetFree)
	}

	c2, s2 := budgetPair(t, b, nil)
	// A small message needs no budget.
	go c2.WriteMessage(bg, frame.OpText, []byte("small"))
	if _, data, err := s2.ReadMessage(bg); err != nil || string(data) != "small" {
		t.Fatalf("small message: %q, %v", data, err)
	}
	go c2.WriteMessage(bg, frame.OpBinary, msg)
	got := make(chan error, 1)
	go func() {
		_, data, err := s2.ReadMessage(bg)
		if err == nil && !bytes.Equal(data, msg) {
			err = errors.New("message corrupted")
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("the second message was read while the budget was exhausted: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(hold) // s1's driver gives its buffer back once it waits for bytes
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second message never arrived after the budget was released")
	}
	if p := b.Peak(); p > b.Size() {
		t.Errorf("peak %d past the budget's %d bytes", p, b.Size())
	}
	c1.Close(frame.StatusNormalClosure, "")
	c2.Close(frame.StatusNormalClosure, "")
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	s2.CloseNow()
	waitUsed(t, b, 0)
}

// TestBudgetStarved: a session that waits longer than the budget's Wait
// is closed with 1013 (try again later), wrapping ErrBudget, and the peer
// is told so.
func TestBudgetStarved(t *testing.T) {
	b := NewBudget(64<<10, 100*time.Millisecond)
	if !b.tryAcquire(b.Size()) { // someone else holds it all
		t.Fatal("tryAcquire on an empty budget failed")
	}
	client, server := budgetPair(t, b, nil)
	go client.WriteMessage(bg, frame.OpBinary, make([]byte, 32<<10))
	start := time.Now()
	_, _, err := server.ReadMessage(bg)
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != frame.StatusTryAgainLater || !errors.Is(err, ErrBudget) {
		t.Fatalf("ReadMessage: %v, want 1013 wrapping ErrBudget", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("refused after %v, before the budget's wait", d)
	}
	_, _, err = client.ReadMessage(bg)
	if !errors.As(err, &ce) || ce.Code != frame.StatusTryAgainLater {
		t.Fatalf("client: %v, want the server's 1013", err)
	}
	server.CloseNow()
	waitUsed(t, b, b.Size()) // what the session held went back; ours is still out
	b.release(b.Size())
}

// TestBudgetBomb: a compression bomb is inflated against the budget and
// refused with 1009 at its message limit, or at once when its growth could
// never fit the budget; either way the budget's peak never passes its size,
// and everything goes back.
func TestBudgetBomb(t *testing.T) {
	bomb := make([]byte, 4<<20) // zeros: about 4 KiB compressed
	for _, tt := range []struct {
		name  string
		limit int64
	}{
		{"message limit", 1 << 20},
		{"budget size", 64 << 20},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBudget(2<<20, time.Second)
			client, server := bombPair(t, tt.limit, &Options{Budget: b})
			go client.WriteMessage(bg, frame.OpBinary, bomb)
			_, _, err := server.ReadMessage(bg)
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Code != frame.StatusMessageTooBig {
				t.Fatalf("ReadMessage: %v, want 1009", err)
			}
			if p := b.Peak(); p > b.Size() || p == 0 {
				t.Errorf("peak %d, want inflation counted and at most %d", p, b.Size())
			}
			server.CloseNow()
			waitUsed(t, b, 0)
		})
	}
}

// TestBudgetCompressed: compressed messages larger than the budget's free
// bytes pass through a budget that has room, in both read paths, and the
// budget is empty again once they have been read.
func TestBudgetCompressed(t *testing.T) {
	b := NewBudget(4<<20, time.Second)
	got := make(chan []byte, 1)
	client, server := bombPair(t, 0, &Options{Budget: b, OnMessage: func(_ *Session, _ frame.Opcode, data []byte) {
		got <- bytes.Clone(data)
	}})
	msg := bytes.Repeat([]byte("a compressed message, repeated; "), 20000)
	for range 3 {
		go client.WriteMessage(bg, frame.OpText, msg)
		_, data, err := server.ReadMessage(bg)
		if err != nil || !bytes.Equal(data, msg) {
			t.Fatalf("ReadMessage: %d bytes, %v", len(data), err)
		}
		if u := sessionsHold(b); u != 0 {
			t.Errorf("the session holds %d bytes of the budget after ReadMessage returned", u)
		}
	}
	done := make(chan error, 1)
	go func() { done <- server.Serve(bg) }()
	for range 3 {
		client.WriteMessage(bg, frame.OpText, msg)
		if data := <-got; !bytes.Equal(data, msg) {
			t.Fatalf("OnMessage: %d bytes, want %d", len(data), len(msg))
		}
	}
	client.Close(frame.StatusNormalClosure, "")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	waitUsed(t, b, 0)
	if p := b.Peak(); p == 0 || p > b.Size() {
		t.Errorf("peak %d, want some and at most %d", p, b.Size())
	}
}

// TestBudgetCountsJunk: a message that grows past bigBuffer leaves its
// outgrown buffers behind, and the budget counts them until a collection
// frees them; then it holds nothing. What the session holds goes back as
// soon as ReadMessage returns.
func TestBudgetCountsJunk(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // collections only when asked
	b := NewBudget(4<<20, time.Second)
	client, server := budgetPair(t, b, nil)
	msg := bytes.Repeat([]byte{7}, 1<<20)
	go client.WriteMessage(bg, frame.OpBinary, msg)
	_, data, err := server.ReadMessage(bg)
	if err != nil || !bytes.Equal(data, msg) {
		t.Fatalf("ReadMessage: %d bytes, %v", len(data), err)
	}
	if u := sessionsHold(b); u != 0 {
		t.Errorf("the session holds %d bytes after ReadMessage returned", u)
	}
	// Grown by doubling: 128 KiB, 256 KiB and 512 KiB were let go of.
	if j := b.junk.held(); j < 512<<10 {
		t.Errorf("junk %d bytes after a 1 MiB message grew, want at least 512 KiB", j)
	}
	if p := b.Peak(); p > b.Size() {
		t.Errorf("peak %d past the budget's %d", p, b.Size())
	}
	waitUsed(t, b, 0)
}

// TestBudgetCollectsForWaiter: a session the budget refuses while junk
// fills it has a collection run, and reads its message once the junk is
// freed, long before its Wait runs out. Without the collection (none would
// come by itself here) it would be closed with 1013. (An event loop's
// starved session asks for the collection each time it tries again:
// reserve, TestServerBudgetBombs.)
func TestBudgetCollectsForWaiter(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	b := NewBudget(2<<20, 3*time.Second)
	for b.junk.held() < b.Size()*3/4 { // buffers let go of fill three quarters
		if !b.tryAcquire(256 << 10) {
			t.Fatal("tryAcquire on a budget without sessions failed")
		}
		b.addJunk(256 << 10)
	}
	msg := bytes.Repeat([]byte{1}, 1<<20) // needs more than is left
	client, server := budgetPair(t, b, nil)
	go client.WriteMessage(bg, frame.OpBinary, msg)
	_, data, err := server.ReadMessage(bg)
	if err != nil || !bytes.Equal(data, msg) {
		t.Fatalf("read %d bytes, %v; want the message, read once the junk was collected", len(data), err)
	}
	waitUsed(t, b, 0)
}

// TestBudgetStalemate: three sessions each half way through a message,
// every byte of the budget held by one of them and each waiting to grow:
// nobody would give anything back before the budget's Wait. The one that
// holds the least gives way at once, with 1013, and the others' messages
// arrive whole, long before the Wait runs out.
func TestBudgetStalemate(t *testing.T) {
	const sessions = 3
	half := cost(64 << 10) // what each holds once its first fragment is in
	b := NewBudget(sessions*half+12<<10, 10*time.Second)
	msg := bytes.Repeat([]byte("0123456789abcdef"), 100<<10/16)
	type result struct {
		data []byte
		err  error
	}
	results := make(chan result, sessions)
	var writers []io.WriteCloser
	for range sessions {
		client, server := pair(t, &Options{FragmentSize: 40 << 10}, &Options{Budget: b})
		go func() {
			_, data, err := server.ReadMessage(bg)
			results <- result{data, err}
		}()
		w, err := client.NextWriter(bg, frame.OpBinary)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(msg[:40<<10+1]); err != nil { // one fragment goes out
			t.Fatal(err)
		}
		writers = append(writers, w)
	}
	deadline := time.Now().Add(5 * time.Second)
	for sessionsHold(b) != sessions*half {
		if time.Now().After(deadline) {
			t.Fatalf("the sessions hold %d bytes of their first fragments, want %d", sessionsHold(b), sessions*half)
		}
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	for _, w := range writers {
		go func() {
			w.Write(msg[40<<10+1:])
			w.Close()
		}()
	}
	var whole, gaveWay int
	for range sessions {
		select {
		case r := <-results:
			var ce *CloseError
			switch {
			case r.err == nil && bytes.Equal(r.data, msg):
				whole++
			case errors.As(r.err, &ce) && ce.Code == frame.StatusTryAgainLater && errors.Is(r.err, ErrBudget):
				gaveWay++
			default:
				t.Errorf("ReadMessage: %d bytes, %v; want the message or 1013", len(r.data), r.err)
			}
		case <-time.After(b.Wait() / 2):
			t.Fatalf("sessions still waiting after %v: a stalemate until the budget's Wait", time.Since(start))
		}
	}
	if whole == 0 || gaveWay == 0 {
		t.Errorf("%d messages whole, %d sessions gave way; want some of each", whole, gaveWay)
	}
	if p := b.Peak(); p > b.Size() {
		t.Errorf("peak %d past the budget's %d", p, b.Size())
	}
	b.mu.Lock()
	left, evicting := len(b.stalls.m), b.stalls.evicting
	b.mu.Unlock()
	if left != 0 || evicting != 0 {
		t.Errorf("the budget still keeps %d refused sessions (%d chosen to give way)", left, evicting)
	}
}
