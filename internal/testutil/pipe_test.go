package testutil

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// within fails the test if f does not return within d, so a broken pipe
// cannot hang the run. The goroutine running f is waited for on success.
func within(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("still blocked after %v", d)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() && errors.Is(err, os.ErrDeadlineExceeded)
}

func mustWrite(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if n, err := c.Write([]byte(s)); n != len(s) || err != nil {
		t.Fatalf("Write(%q) = %d, %v", s, n, err)
	}
}

func mustRead(t *testing.T, c net.Conn, want string) {
	t.Helper()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
		t.Fatalf("read %q, %v; want %q", got, err, want)
	}
}

func TestPipeRoundTrip(t *testing.T) {
	a, b := Pipe()
	defer a.Close()
	defer b.Close()
	mustWrite(t, a, "ping")
	mustRead(t, b, "ping")
	mustWrite(t, b, "pong")
	mustRead(t, a, "pong")

	// Read returns what is there, no more than asked, and keeps the rest.
	mustWrite(t, a, "abcdef")
	buf := make([]byte, 4)
	if n, err := b.Read(buf); n != 4 || err != nil || string(buf) != "abcd" {
		t.Fatalf("Read = %d %q %v, want 4 \"abcd\"", n, buf[:n], err)
	}
	if n, err := b.Read(buf); n != 2 || err != nil || string(buf[:n]) != "ef" {
		t.Fatalf("Read = %d %q %v, want 2 \"ef\"", n, buf[:n], err)
	}

	// Zero-length calls succeed without blocking.
	within(t, 5*time.Second, func() {
		if n, err := b.Read(nil); n != 0 || err != nil {
			t.Errorf("Read(nil) = %d, %v", n, err)
		}
		if n, err := a.Write(nil); n != 0 || err != nil {
			t.Errorf("Write(nil) = %d, %v", n, err)
		}
	})
}

// Both ends write a large message before either reads: with net.Pipe this
// deadlocks, here it must not.
func TestPipeBothEndsWriteFirst(t *testing.T) {
	a, b := Pipe()
	defer a.Close()
	defer b.Close()
	ma := bytes.Repeat([]byte("a"), 1<<20)
	mb := bytes.Repeat([]byte("b"), 1<<20)
	within(t, 10*time.Second, func() {
		if _, err := a.Write(ma); err != nil {
			t.Error(err)
		}
		if _, err := b.Write(mb); err != nil {
			t.Error(err)
		}
	})
	got := make([]byte, 1<<20)
	if _, err := io.ReadFull(b, got); err != nil || !bytes.Equal(got, ma) {
		t.Fatalf("b read %v, content ok %v", err, bytes.Equal(got, ma))
	}
	if _, err := io.ReadFull(a, got); err != nil || !bytes.Equal(got, mb) {
		t.Fatalf("a read %v, content ok %v", err, bytes.Equal(got, mb))
	}
}

// Each direction holds 4 MiB; the write that does not fit blocks and, at
// its deadline, reports how much it buffered.
func TestPipeBufferLimit(t *testing.T) {
	a, b := Pipe()
	defer a.Close()
	defer b.Close()
	msg := make([]byte, pipeBufferSize+10)
	for i := range msg {
		msg[i] = byte(i % 251)
	}
	a.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	n, err := a.Write(msg)
	if n != pipeBufferSize || !isTimeout(err) {
		t.Fatalf("Write of buffer size + 10 = %d, %v; want %d and a timeout", n, err, pipeBufferSize)
	}
	// Reading makes room; the rest goes through.
	a.SetWriteDeadline(time.Time{})
	first := make([]byte, 100)
	if _, err := io.ReadFull(b, first); err != nil || !bytes.Equal(first, msg[:100]) {
		t.Fatalf("first 100 bytes: %v", err)
	}
	within(t, 5*time.Second, func() { mustWrite(t, a, string(msg[n:])) })
	rest := make([]byte, len(msg)-100)
	if _, err := io.ReadFull(b, rest); err != nil || !bytes.Equal(rest, msg[100:]) {
		t.Fatalf("rest: %v, content ok %v", err, bytes.Equal(rest, msg[100:]))
	}
}

// A write bigger than the buffer completes as the reader drains it.
func TestPipeLargeWriteBlocksUntilRead(t *testing.T) {
	a, b := Pipe()
	defer a.Close()
	defer b.Close()
	msg := make([]byte, pipeBufferSize+1<<20)
	for i := range msg {
		msg[i] = byte(i % 253)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if n, err := a.Write(msg); n != len(msg) || err != nil {
			t.Errorf("Write = %d, %v", n, err)
		}
	})
	b.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(b, got); err != nil || !bytes.Equal(got, msg) {
		t.Errorf("ReadFull: %v, content ok %v", err, bytes.Equal(got, msg))
	}
	wg.Wait()
}

func TestPipeReadDeadline(t *testing.T) {
	t.Parallel()
	a, b := Pipe()
	defer a.Close()
	defer b.Close()

	// A read that times out returns a timeout error after the deadline.
	start := time.Now()
	b.SetReadDeadline(start.Add(30 * time.Millisecond))
	if _, err := b.Read(make([]byte, 1)); !isTimeout(err) {
		t.Fatalf("Read past deadline: %v, want a timeout", err)
	}
	if elapsed := time.Since(start); elapsed < 30*time.Millisecond {
		t.Errorf("timed out after %v, before the deadline", elapsed)
	}

	// A passed deadline fails reads even when data is waiting...
	mustWrite(t, a, "data")
	if _, err := b.Read(make([]byte, 4)); !isTimeout(err) {
		t.Fatalf("Read with data and a passed deadline: %v, want a timeout", err)
	}
	// ...and the connection survives it: clear the deadline and read on.
	b.SetReadDeadline(time.Time{})
	mustRead(t, b, "data")

	// Moving the deadline into the past wakes a blocked Read.
	within(t, 5*time.Second, func() {
		go func() {
			time.Sleep(20 * time.Millisecond)
			b.SetReadDeadline(time.Now().Add(-time.Second))
		}()
		if _, err := b.Read(make([]byte, 1)); !isTimeout(err) {
			t.Errorf("Read after the deadline moved into the past: %v", err)
		}
	})

	// Extending the deadline while a Read is blocked keeps it blocked.
	b.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	b.SetReadDeadline(time.Now().Add(time.Hour))
	within(t, 5*time.Second, func() {
		go func() {
			time.Sleep(300 * time.Millisecond)
			a.Write([]byte("x"))
		}()
		buf := make([]byte, 1)
		if n, err := b.Read(buf); n != 1 || err != nil {
			t.Errorf("Read with an extended deadline = %d, %v; want the byte", n, err)
		}
	})

	// SetDeadline sets the read deadline too.
	b.SetDeadline(time.Now().Add(-time.Second))
	if _, err := b.Read(make([]byte, 1)); !isTimeout(err) {
		t.Errorf("Read after SetDeadline in the past: %v", err)
	}
}

func TestPipeWriteDeadline(t *testing.T) {
	a, b := Pipe()
	defer a.Close()
	defer b.Close()
	a.SetWriteDeadline(time.Now().Add(-time.Second))
	if n, err := a.Write([]byte("x")); n != 0 || !isTimeout(err) {
		t.Fatalf("Write past deadline = %d, %v; want 0 and a timeout", n, err)
	}
	a.SetDeadline(time.Time{})
	mustWrite(t, a, "x")
	mustRead(t, b, "x")

	// A write blocked on a full buffer wakes at its deadline.
	mustWrite(t, a, string(make([]byte, pipeBufferSize-1)))
	a.SetWriteDeadline(time.Now().Add(30 * time.Millisecond))
	within(t, 5*time.Second, func() {
		if n, err := a.Write([]byte("yz")); n != 1 || !isTimeout(err) {
			t.Errorf("Write into a full buffer = %d, %v; want 1 and a timeout", n, err)
		}
	})
}

func TestPipeClose(t *testing.T) {
	a, b := Pipe()
	defer b.Close()
	mustWrite(t, a, "bye")
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// The peer drains what was written, then reads io.EOF, every time.
	mustRead(t, b, "bye")
	for range 2 {
		if n, err := b.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Fatalf("Read after peer close = %d, %v; want io.EOF", n, err)
		}
	}
	// The peer cannot write to a closed end.
	if _, err := b.Write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("Write to a closed peer: %v, want io.ErrClosedPipe", err)
	}
	// The closed end itself refuses everything with net.ErrClosed.
	for name, err := range map[string]error{
		"Read":             func() error { _, err := a.Read(make([]byte, 1)); return err }(),
		"Write":            func() error { _, err := a.Write([]byte("x")); return err }(),
		"Close":            a.Close(),
		"SetDeadline":      a.SetDeadline(time.Now()),
		"SetReadDeadline":  a.SetReadDeadline(time.Now()),
		"SetWriteDeadline": a.SetWriteDeadline(time.Now()),
	} {
		var op *net.OpError
		if !errors.Is(err, net.ErrClosed) || !errors.As(err, &op) {
			t.Errorf("%s on a closed end: %v, want a *net.OpError wrapping net.ErrClosed", name, err)
		}
	}
}

func TestPipeCloseWakesBlockedCalls(t *testing.T) {
	t.Run("own Read", func(t *testing.T) {
		a, b := Pipe()
		defer b.Close()
		within(t, 5*time.Second, func() {
			go func() {
				time.Sleep(20 * time.Millisecond)
				a.Close()
			}()
			if _, err := a.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
				t.Errorf("blocked Read when its end closed: %v, want net.ErrClosed", err)
			}
		})
	})
	t.Run("peer Read", func(t *testing.T) {
		a, b := Pipe()
		defer b.Close()
		within(t, 5*time.Second, func() {
			go func() {
				time.Sleep(20 * time.Millisecond)
				a.Close()
			}()
			if _, err := b.Read(make([]byte, 1)); err != io.EOF {
				t.Errorf("blocked Read when the peer closed: %v, want io.EOF", err)
			}
		})
	})
	t.Run("Write on a full buffer", func(t *testing.T) {
		a, b := Pipe()
		defer a.Close()
		mustWrite(t, a, string(make([]byte, pipeBufferSize)))
		within(t, 5*time.Second, func() {
			go func() {
				time.Sleep(20 * time.Millisecond)
				b.Close()
			}()
			if _, err := a.Write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
				t.Errorf("blocked Write when the peer closed: %v, want io.ErrClosedPipe", err)
			}
		})
	})
}

func TestPipeCloseWrite(t *testing.T) {
	a, b := Pipe()
	defer a.Close()
	defer b.Close()
	cw, ok := a.(interface{ CloseWrite() error })
	if !ok {
		t.Fatal("Pipe end has no CloseWrite")
	}
	mustWrite(t, a, "last")
	if err := cw.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	mustRead(t, b, "last")
	if _, err := b.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("Read after peer CloseWrite: %v, want io.EOF", err)
	}
	if _, err := a.Write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("Write after CloseWrite: %v, want io.ErrClosedPipe", err)
	}
	// The other direction still works.
	mustWrite(t, b, "reply")
	mustRead(t, a, "reply")
}

func TestPipeAddrs(t *testing.T) {
	a, b := Pipe()
	defer a.Close()
	defer b.Close()
	if a.LocalAddr().String() != b.RemoteAddr().String() || b.LocalAddr().String() != a.RemoteAddr().String() {
		t.Errorf("addresses do not mirror: a %v->%v, b %v->%v", a.LocalAddr(), a.RemoteAddr(), b.LocalAddr(), b.RemoteAddr())
	}
	if a.LocalAddr().String() == b.LocalAddr().String() {
		t.Errorf("both ends have address %v", a.LocalAddr())
	}
	if a.LocalAddr().Network() != "pipe" {
		t.Errorf("Network() = %q", a.LocalAddr().Network())
	}
}

// Full duplex under load: each end writes 8 MiB in random-sized chunks
// while reading the other's 8 MiB in random-sized reads; both streams must
// arrive intact and in order.
func TestPipeFullDuplexStress(t *testing.T) {
	t.Parallel()
	a, b := Pipe()
	defer a.Close()
	defer b.Close()
	const size = 8 << 20
	payload := func(seed uint64) []byte {
		p := make([]byte, size)
		r := rand.New(rand.NewPCG(seed, seed))
		for i := range p {
			p[i] = byte(r.Uint32())
		}
		return p
	}
	pa, pb := payload(1), payload(2)
	var wg sync.WaitGroup
	send := func(c net.Conn, p []byte, seed uint64) {
		r := rand.New(rand.NewPCG(seed, 0))
		for len(p) > 0 {
			n := min(len(p), 1+r.IntN(100_000))
			if _, err := c.Write(p[:n]); err != nil {
				t.Errorf("Write: %v", err)
				return
			}
			p = p[n:]
		}
	}
	receive := func(c net.Conn, want []byte, seed uint64) {
		r := rand.New(rand.NewPCG(seed, 1))
		got := make([]byte, 0, size)
		buf := make([]byte, 200_000)
		for len(got) < size {
			n, err := c.Read(buf[:1+r.IntN(len(buf)-1)])
			if err != nil {
				t.Errorf("Read after %d bytes: %v", len(got), err)
				return
			}
			got = append(got, buf[:n]...)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("stream corrupted")
		}
	}
	a.SetDeadline(time.Now().Add(20 * time.Second))
	b.SetDeadline(time.Now().Add(20 * time.Second))
	wg.Go(func() { send(a, pa, 3) })
	wg.Go(func() { send(b, pb, 4) })
	wg.Go(func() { receive(b, pa, 5) })
	wg.Go(func() { receive(a, pb, 6) })
	wg.Wait()
}

var _ net.Conn = (*pipeConn)(nil)
