//go:build linux

package netpoll

import (
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// TestSocketPauseRead: while a handler's pause lasts, it is not called
// although bytes arrive and the peer then resets the connection (the
// socket is out of the epoll set: nothing wakes the loop for it), and its
// reads say "would block"; once the pause is over it is called and reads
// what waited, and after a pause it is watched again as before.
func TestSocketPauseRead(t *testing.T) {
	ls := newTestLoops(t, 1)
	client, s := acceptPair(t, ls, listenTCP(t, false), false)
	const pause = 100 * time.Millisecond
	var pausedAt atomic.Int64
	// pausedReads carries, for each pausing call, whether its read said
	// would block; it is sent when the call is done with it, so the test
	// never looks before the handler has.
	pausedReads := make(chan bool, 2)
	reads := make(chan string, 8)
	var calls atomic.Int32
	h := newTestHandler(func() {
		switch calls.Add(1) {
		case 1, 3: // pause without reading
			pausedAt.Store(time.Now().UnixNano())
			s.PauseRead(pause)
			_, err := readOrBlock(s, make([]byte, 16))
			pausedReads <- err == errWouldBlock
			return
		}
		b := make([]byte, 64)
		n, err := readOrBlock(s, b)
		if err == errWouldBlock {
			return
		}
		report := func(what string) {
			select {
			case reads <- what:
			default:
			}
		}
		if d := time.Duration(time.Now().UnixNano() - pausedAt.Load()); d < pause {
			report("called after " + d.String() + ", within the pause")
		}
		if err != nil {
			s.Close()
			report("error")
			return
		}
		report(string(b[:n]))
	})
	s.Start(h)
	if _, err := client.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	waitCalls := func(n int32) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for calls.Load() < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d handler calls, want %d", calls.Load(), n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitPausedRead := func() {
		t.Helper()
		select {
		case blocked := <-pausedReads:
			if !blocked {
				t.Error("a read during the pause did not say would block")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the pausing call did not read")
		}
	}
	waitCalls(1)
	waitPausedRead()
	client.Write([]byte(" world")) // arrives during the pause: no call
	time.Sleep(pause / 2)
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d handler calls during the pause, want 1", n)
	}
	if got := <-reads; got != "hello world" {
		t.Fatalf("after the pause: %q, want hello world", got)
	}
	// Watched again: new bytes call the handler, which pauses (call 3).
	client.Write([]byte("x"))
	waitCalls(3)
	waitPausedRead()
	// A reset during the pause wakes nothing either.
	client.(*net.TCPConn).SetLinger(0)
	client.Close()
	time.Sleep(pause / 2)
	if n := calls.Load(); n != 3 {
		t.Fatalf("%d handler calls after a reset during the pause, want 3", n)
	}
	if got := <-reads; got != "x" && got != "error" {
		t.Fatalf("after the second pause: %q, want the byte or the reset", got)
	}
}

// TestSocketEndPause: EndPause, called from another goroutine, ends a
// long pause at once (the handler is called and reads what waited), and
// does nothing when no pause is under way.
func TestSocketEndPause(t *testing.T) {
	ls := newTestLoops(t, 1)
	client, s := acceptPair(t, ls, listenTCP(t, false), false)
	var calls atomic.Int32
	paused := make(chan struct{}, 1)
	reads := make(chan string, 4)
	h := newTestHandler(func() {
		if calls.Add(1) == 1 {
			s.PauseRead(time.Hour)
			paused <- struct{}{}
			return
		}
		b := make([]byte, 64)
		if n, err := readOrBlock(s, b); err == nil {
			reads <- string(b[:n])
		}
	})
	s.Start(h)
	if _, err := client.Write([]byte("waited")); err != nil {
		t.Fatal(err)
	}
	<-paused
	start := time.Now()
	go s.EndPause()
	select {
	case got := <-reads:
		if got != "waited" {
			t.Fatalf("read %q after EndPause, want waited", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("EndPause did not end an hour's pause")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the pause ended %v after EndPause", d)
	}
	n := calls.Load()
	s.EndPause() // no pause now: no call
	time.Sleep(50 * time.Millisecond)
	if got := calls.Load(); got != n {
		t.Errorf("%d handler calls after an EndPause without a pause, want %d", got, n)
	}
}
