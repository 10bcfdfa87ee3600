package session

import (
	"bytes"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/testutil"
)

// countingConn counts the writes that reach the socket.
type countingConn struct {
	net.Conn
	writes atomic.Int32
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// TestServeCorksBatch: messages that arrive together are echoed from
// OnMessage in one write, and a message arriving alone is answered at once.
func TestServeCorksBatch(t *testing.T) {
	a, b := testutil.LoopbackPair(t)
	cb := &countingConn{Conn: b}
	sc := conn.New(cb, conn.Server, nil)
	sc.Open(nil)
	server := New(sc, &Options{OnMessage: func(s *Session, typ frame.Opcode, data []byte) {
		s.WriteMessage(bg, typ, data)
	}})
	go server.Serve(bg)
	t.Cleanup(func() { server.CloseNow() })

	const n = 20
	var batch, want []byte
	for i := range n {
		p := fmt.Appendf(nil, "message %02d", i)
		batch = frame.AppendHeader(batch, frame.Header{Fin: true, Opcode: frame.OpText, Masked: true, Length: int64(len(p))})
		batch = append(batch, p...) // zero mask key: the payload reads as is
		want = frame.AppendHeader(want, frame.Header{Fin: true, Opcode: frame.OpText, Length: int64(len(p))})
		want = append(want, p...)
	}
	a.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := a.Write(batch); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(want))
	if _, err := readFull(a, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("echoes differ:\n got %q\nwant %q", got, want)
	}
	if w := cb.writes.Load(); w != 1 {
		t.Errorf("%d messages that arrived together were echoed in %d writes, want 1", n, w)
	}

	// A lone message is not held back.
	one := want[:len(want)/n]
	in := batch[:len(batch)/n]
	if _, err := a.Write(in); err != nil {
		t.Fatal(err)
	}
	if _, err := readFull(a, got[:len(one)]); err != nil || !bytes.Equal(got[:len(one)], one) {
		t.Fatalf("lone echo %q, %v", got[:len(one)], err)
	}
}

func readFull(c net.Conn, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := c.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// TestServeDetached: the detached loop answers messages across idle
// periods (each one a move to a fresh goroutine), and reports the end of
// the session once, with nil after a close handshake.
func TestServeDetached(t *testing.T) {
	client, server := pair(t, nil, &Options{OnMessage: func(s *Session, typ frame.Opcode, data []byte) {
		s.WriteMessage(bg, typ, data)
	}})
	ended := make(chan error, 2)
	server.ServeDetached(bg, func(err error) { ended <- err })
	for i := range 5 {
		msg := fmt.Sprintf("message %d", i)
		if err := client.WriteMessage(bg, frame.OpText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		typ, data, err := client.ReadMessage(bg)
		if err != nil || typ != frame.OpText || string(data) != msg {
			t.Fatalf("echo %d: %v %q %v", i, typ, data, err)
		}
		time.Sleep(5 * time.Millisecond) // let the server go idle
	}
	if err := client.Close(frame.StatusNormalClosure, "bye"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-ended:
		if err != nil {
			t.Errorf("done(%v), want nil after a close handshake", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("done was not called")
	}
	select {
	case err := <-ended:
		t.Errorf("done called twice (%v)", err)
	case <-time.After(20 * time.Millisecond):
	}
}

//go:noinline
func deepStack(n int) byte {
	var pad [256]byte
	pad[n%256] = byte(n)
	if n == 0 {
		return pad[0]
	}
	return deepStack(n-1) + pad[(n+1)%256]
}

// TestServeDetachedMovesIdleStacks: a detached session whose stack grew
// while handling a message moves to a fresh goroutine when it runs out of
// bytes, at most once per janitor tick while busy, and once it has been
// idle for a tick or two; it keeps working afterwards.
func TestServeDetachedMovesIdleStacks(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the janitor's one-second ticks")
	}
	client, server := pair(t, nil, &Options{OnMessage: func(s *Session, typ frame.Opcode, data []byte) {
		deepStack(32) // about 10 KiB of stack: it must grow
		s.WriteMessage(bg, typ, data)
	}})
	server.ServeDetached(bg, nil)
	echo := func(msg string) {
		t.Helper()
		if err := client.WriteMessage(bg, frame.OpText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		if _, data, err := client.ReadMessage(bg); err != nil || string(data) != msg {
			t.Fatalf("echo %q: %q %v", msg, data, err)
		}
	}
	// Busy: a message every 50 ms for 2.5 s, each followed by an idle
	// wait on a grown stack. A move each time would be 50.
	before := stackMoves.Load()
	for i := range 50 {
		echo(fmt.Sprint("busy ", i))
		time.Sleep(50 * time.Millisecond)
	}
	if n := stackMoves.Load() - before; n < 1 || n > 6 {
		t.Errorf("a session busy for 2.5 s moved its stack %d times, want one per tick", n)
	}
	// Two messages in quick succession: the second wait, on a grown stack
	// in the same tick, is left to the janitor, which moves it within two
	// ticks.
	echo("one")
	echo("two")
	before = stackMoves.Load()
	deadline := time.Now().Add(3*janitorTick + time.Second)
	for stackMoves.Load() == before && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if stackMoves.Load() == before {
		t.Fatal("an idle session on a grown stack was not moved by the janitor")
	}
	echo("after the moves")
}
