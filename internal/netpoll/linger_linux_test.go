package netpoll

import (
	"io"
	"net"
	"testing"
	"time"
)

// lingerPeer checks the client's side of a lingering close: what the
// socket wrote before it, then the end of the stream (FIN, not a reset),
// while the client's writes of n bytes all succeed (the loop reads and
// drops them).
func lingerPeer(t *testing.T, client net.Conn, want string, n int) {
	t.Helper()
	client.SetDeadline(time.Now().Add(10 * time.Second))
	chunk := make([]byte, 64<<10)
	for sent := 0; sent < n; sent += len(chunk) {
		if _, err := client.Write(chunk); err != nil {
			t.Fatalf("writing to a lingering socket, %d bytes in: %v", sent, err)
		}
	}
	got, err := io.ReadAll(client)
	if err != nil {
		t.Fatalf("reading a lingering socket: %v after %d bytes, want the end of the stream", err, len(got))
	}
	if string(got) != want {
		t.Fatalf("read %d bytes, not the %d written before CloseLingering", len(got), len(want))
	}
}

// closeUntilPeerEnds closes s lingering, checks the peer's side with
// lingerPeer (want, n), ends the peer's side, and checks that this, not
// closeLinger, ended the linger.
func closeUntilPeerEnds(t *testing.T, client net.Conn, s *Socket, h *testHandler, want string, n int) {
	t.Helper()
	start := time.Now()
	if err := s.CloseLingering(); err != nil {
		t.Fatal(err)
	}
	lingerPeer(t, client, want, n)
	if h.closedCalls.Load() != 0 {
		t.Fatal("Closed before the peer ended its side")
	}
	client.Close()
	h.waitClosed(t)
	if d := time.Since(start); d >= closeLinger {
		t.Errorf("Closed %v after CloseLingering: the peer's end did not end the linger", d)
	}
}

// TestSocketCloseLingering: CloseLingering sends what was written, then
// FIN, and reads and drops what the peer still sends; the descriptor is
// closed (and Closed called) once the peer ends its side, or closeLinger
// after the call if it never does. A socket paused for PauseRead lingers
// too, and one reset with SetLinger(0) does not.
func TestSocketCloseLingering(t *testing.T) {
	ls := newTestLoops(t, 1)
	t.Run("peer ends", func(t *testing.T) {
		client, s := acceptPair(t, ls, listenTCP(t, false), false)
		h := newTestHandler(nil)
		startSynced(s, h)
		s.Write([]byte("bye"))
		closeUntilPeerEnds(t, client, s, h, "bye", 8<<20)
		if err := s.CloseLingering(); err != net.ErrClosed {
			t.Errorf("second CloseLingering: %v, want net.ErrClosed", err)
		}
	})
	t.Run("peer stays", func(t *testing.T) {
		client, s := acceptPair(t, ls, listenTCP(t, false), false)
		h := newTestHandler(nil)
		startSynced(s, h)
		start := time.Now()
		s.CloseLingering()
		h.waitClosed(t)
		if d := time.Since(start); d < closeLinger {
			t.Errorf("Closed %v after CloseLingering, want closeLinger (%v) for a peer that stays", d, closeLinger)
		}
		client.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, err := client.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("peer's read: %d, %v, want io.EOF", n, err)
		}
	})
	t.Run("pending", func(t *testing.T) {
		// A peer with a small receive buffer: most of 2 MiB waits in the
		// socket when CloseLingering is called, and goes out before FIN.
		client, s := acceptPair(t, ls, listenTCP(t, true), true)
		h := newTestHandler(nil)
		startSynced(s, h)
		want := string(fill(2<<20, 7))
		s.Write([]byte(want))
		closeUntilPeerEnds(t, client, s, h, want, 1<<20)
	})
	t.Run("paused", func(t *testing.T) {
		// The handler pauses reading with the peer's bytes unread, as a
		// session waiting for memory does, and the socket is closed
		// during the pause: it goes back into the epoll set to drain.
		client, s := acceptPair(t, ls, listenTCP(t, false), false)
		paused := make(chan struct{}, 1)
		h := newTestHandler(func() {
			s.PauseRead(time.Minute)
			select {
			case paused <- struct{}{}:
			default:
			}
		})
		startSynced(s, h)
		client.Write([]byte("unread"))
		select {
		case <-paused:
		case <-time.After(5 * time.Second):
			t.Fatal("no Ready for the peer's bytes")
		}
		closeUntilPeerEnds(t, client, s, h, "", 8<<20)
	})
	t.Run("reset", func(t *testing.T) {
		client, s := acceptPair(t, ls, listenTCP(t, false), false)
		h := newTestHandler(nil)
		startSynced(s, h)
		s.SetLinger(0)
		s.CloseLingering()
		h.waitClosed(t)
		client.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := client.Read(make([]byte, 1)); !isConnReset(err) {
			t.Errorf("peer of a reset socket closed lingering: %v, want a reset", err)
		}
	})
}
