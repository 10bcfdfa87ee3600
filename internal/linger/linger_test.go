package linger

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/rfc6455/websocket/internal/testutil"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server *net.TCPConn) {
	t.Helper()
	c, s := testutil.LoopbackPair(t)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

// waitClosed waits until nc is closed (a socket option can no longer be
// set) and returns when that was seen.
func waitClosed(t *testing.T, nc *net.TCPConn) time.Time {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if err := nc.SetNoDelay(true); err != nil {
			return time.Now()
		}
	}
	t.Fatal("not closed within 5s")
	return time.Time{}
}

// TestCloseDrains: the peer reads what was written and then the end of
// the stream, its writes meanwhile succeed, and its end closes the
// connection long before the linger's bound.
func TestCloseDrains(t *testing.T) {
	client, server := tcpPair(t)
	server.Write([]byte("bye"))
	start := time.Now()
	if err := Close(server, time.Minute); err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for sent := 0; sent < 8<<20; sent += len(chunk) {
		if _, err := client.Write(chunk); err != nil {
			t.Fatalf("writing to a lingering connection, %d bytes in: %v", sent, err)
		}
	}
	got, err := io.ReadAll(client)
	if err != nil || string(got) != "bye" {
		t.Fatalf("peer read %q, %v; want \"bye\" and the end of the stream", got, err)
	}
	client.Close()
	if d := waitClosed(t, server).Sub(start); d > 30*time.Second {
		t.Errorf("closed %v after Close: the peer's end did not end the linger", d)
	}
}

// TestCloseBound: a peer that never ends its side holds the connection
// for the linger's bound, no longer.
func TestCloseBound(t *testing.T) {
	client, server := tcpPair(t)
	const d = 200 * time.Millisecond
	start := time.Now()
	Close(server, d)
	if got := waitClosed(t, server).Sub(start); got < d {
		t.Errorf("closed %v after Close, want the bound %v", got, d)
	}
	if n, err := client.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("peer's read: %d, %v, want io.EOF", n, err)
	}
}

// TestCloseAtOnce: a stream without CloseWrite, or no linger, is closed
// at once.
func TestCloseAtOnce(t *testing.T) {
	a, b := net.Pipe()
	if err := Close(a, time.Minute); err != nil {
		t.Fatal(err)
	}
	b.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := b.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("pipe's other end: %v, want io.EOF at once", err)
	}
	_, server := tcpPair(t)
	Close(server, 0)
	if err := server.SetNoDelay(true); !errors.Is(err, net.ErrClosed) {
		t.Errorf("after Close with no linger: %v, want net.ErrClosed", err)
	}
}
