//go:build unix

package netpoll

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/rfc6455/websocket/internal/testutil"
)

// countingLender lends one buffer and counts what it is asked.
type countingLender struct {
	buf            []byte
	held           bool
	lends, return_ int
}

func (l *countingLender) Lend() []byte {
	l.lends++
	l.held = true
	return l.buf
}

func (l *countingLender) Return() { l.return_++; l.held = false }

// TestStreamReadLazy: a Stream waiting for an idle socket holds no
// buffer (what it borrowed to find the socket empty it gave back before
// parking), and reads into the lent buffer once bytes are there.
func TestStreamReadLazy(t *testing.T) {
	a, b := testutil.LoopbackPair(t)
	s, ok := NewStream(b)
	if !ok {
		t.Fatalf("NewStream(%T) = false", b)
	}
	lend := &countingLender{buf: make([]byte, 64)}
	s.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, err := s.ReadLazy(lend); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ReadLazy on an idle socket = %d, %v; want a timeout", n, err)
	}
	if lend.held {
		t.Errorf("an idle Stream kept the buffer while it waited (%d lends, %d returns)", lend.lends, lend.return_)
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		a.Write([]byte("hello"))
	}()
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := s.ReadLazy(lend)
	if err != nil || string(lend.buf[:n]) != "hello" || !lend.held {
		t.Fatalf("ReadLazy = %q, %v (buffer held: %v); want \"hello\" in the lent buffer", lend.buf[:n], err, lend.held)
	}
	a.Close()
	lend.held = false
	if n, err := s.ReadLazy(lend); n != 0 || err == nil {
		t.Fatalf("ReadLazy after the peer closed = %d, %v; want EOF", n, err)
	}
}
