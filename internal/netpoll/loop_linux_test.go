//go:build linux

package netpoll

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rfc6455/websocket/internal/testutil"
)

// Unit tests of the event loops (Loops) and their sockets (Socket), over
// real loopback sockets. Where a test needs the kernel to hold little (so
// that what a peer does not read piles up in the socket, not in the
// kernel), it shrinks the buffers: SO_SNDBUF on the listener, which
// accepted sockets inherit, and SO_RCVBUF on the client before it
// connects, which also turns the kernel's autotuning off.

const smallBuf = 8 << 10

// newTestLoops starts n loops, closed at the end of the test.
func newTestLoops(t *testing.T, n int) *Loops {
	t.Helper()
	ls, err := newLoops(n)
	if err != nil {
		t.Fatalf("newLoops(%d): %v", n, err)
	}
	t.Cleanup(func() { ls.Close() })
	testLoopsOf.Store(t, ls)
	return ls
}

// testLoopsOf holds the Loops newTestLoops started for each test.
var testLoopsOf sync.Map

// listenTCP listens on 127.0.0.1; with small set, accepted sockets get a
// small send buffer.
func listenTCP(t *testing.T, small bool) *net.TCPListener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if small {
		setSockBuf(t, l.(syscall.Conn), syscall.SO_SNDBUF)
	}
	return l.(*net.TCPListener)
}

func setSockBuf(t *testing.T, c syscall.Conn, opt int) {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, opt, smallBuf)
	}); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Fatal(serr)
	}
}

// acceptPair connects a client to l and returns it with the socket the
// loops accepted for it (not started). With small set, the client's
// receive buffer is small. Both are closed at the end of the test.
func acceptPair(t *testing.T, ls *Loops, l net.Listener, small bool) (net.Conn, *Socket) {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if small {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, smallBuf)
			})
			return serr
		}
	}
	type dialed struct {
		c   net.Conn
		err error
	}
	ch := make(chan dialed, 1)
	go func() {
		c, err := d.Dial(l.Addr().Network(), l.Addr().String())
		ch <- dialed{c, err}
	}()
	s, err := ls.accept(l)
	dc := <-ch
	if dc.err != nil {
		t.Fatalf("dial: %v", dc.err)
	}
	t.Cleanup(func() { dc.c.Close() })
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return dc.c, s
}

// testHandler counts a socket's events and runs onReady on the loop.
type testHandler struct {
	onReady     func()
	ready       atomic.Int32
	closedCalls atomic.Int32
	afterClosed atomic.Int32 // Ready calls after Closed: never allowed
	closed      chan struct{}
}

func newTestHandler(onReady func()) *testHandler {
	return &testHandler{onReady: onReady, closed: make(chan struct{})}
}

func (h *testHandler) Ready() {
	if h.closedCalls.Load() > 0 {
		h.afterClosed.Add(1)
	}
	h.ready.Add(1)
	if h.onReady != nil {
		h.onReady()
	}
}

func (h *testHandler) Closed() {
	if h.closedCalls.Add(1) == 1 {
		close(h.closed)
	}
}

// waitClosed waits for Closed and checks, a moment later, that it ran
// exactly once and that no Ready followed it.
func (h *testHandler) waitClosed(t *testing.T) {
	t.Helper()
	waitClosed(t, h)
}

// waitClosed is waitClosed for several handlers, with one pause.
func waitClosed(t *testing.T, hs ...*testHandler) {
	t.Helper()
	for i, h := range hs {
		select {
		case <-h.closed:
		case <-time.After(5 * time.Second):
			t.Fatalf("handler %d: Closed not called within 5s", i)
		}
	}
	time.Sleep(20 * time.Millisecond)
	for i, h := range hs {
		if n := h.closedCalls.Load(); n != 1 {
			t.Errorf("handler %d: Closed called %d times, want 1", i, n)
		}
		if n := h.afterClosed.Load(); n != 0 {
			t.Errorf("handler %d: Ready called %d times after Closed", i, n)
		}
	}
}

// readEvent is one result of a Read the handler made on the loop.
type readEvent struct {
	data string
	err  error
}

// readAllReady returns an onReady that reads s until errWouldBlock,
// reporting every result to ch, and closes s at EOF or an error.
func readAllReady(s **Socket, ch chan<- readEvent) func() {
	buf := make([]byte, 64<<10)
	return func() {
		for {
			n, err := readOrBlock(*s, buf)
			if n > 0 {
				ch <- readEvent{data: string(buf[:n])}
				continue
			}
			ch <- readEvent{err: err}
			if err != errWouldBlock {
				(*s).Close()
			}
			return
		}
	}
}

// collect reads events until one with an error and returns the data before
// it and the error.
func collect(t *testing.T, ch <-chan readEvent) (string, error) {
	t.Helper()
	var data string
	for {
		select {
		case ev := <-ch:
			if ev.err != nil {
				return data, ev.err
			}
			data += ev.data
		case <-time.After(5 * time.Second):
			t.Fatalf("no read error within 5s (read %q so far)", data)
		}
	}
}

// collectUntil reads events until it has len(want) bytes and the read
// that found the socket empty after them, and checks the bytes. Reads may
// find the socket empty before all of want has arrived.
func collectUntil(t *testing.T, ch <-chan readEvent, want string) {
	t.Helper()
	var data string
	for {
		select {
		case ev := <-ch:
			switch {
			case ev.err == nil:
				data += ev.data
			case ev.err != errWouldBlock:
				t.Fatalf("after %d of %d bytes: %v", len(data), len(want), ev.err)
			case len(data) >= len(want):
				if data != want {
					t.Fatalf("read %d bytes, not the %d written", len(data), len(want))
				}
				return
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("read %d of %d bytes in 5s", len(data), len(want))
		}
	}
}

// startSynced starts s and returns once its loop has registered it, so
// that writes from this goroutine do not race the registration (see
// TestSocketWriteAroundStart): a timer set after another one ran cannot
// run in the same loop iteration as it, and every iteration registers
// the sockets started before it.
func startSynced(s *Socket, h Handler) {
	s.Start(h)
	loopRound(s)
}

// fill returns n bytes of a seeded pseudo-random sequence.
func fill(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := 0; i < n; i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], r.Uint64())
		copy(b[i:], w[:])
	}
	return b
}

// TestLoopsAccept: Accept takes sockets from TCP and Unix listeners,
// reports their addresses, and refuses any other listener with
// ErrListener; on a closed listener it fails instead of waiting.
func TestLoopsAccept(t *testing.T) {
	ls := newTestLoops(t, 2)
	t.Run("tcp", func(t *testing.T) {
		l := listenTCP(t, false)
		client, s := acceptPair(t, ls, l, false)
		if got, want := s.RemoteAddr().String(), client.LocalAddr().String(); got != want {
			t.Errorf("RemoteAddr = %s, want the client's %s", got, want)
		}
		if got, want := s.LocalAddr().String(), l.Addr().String(); got != want {
			t.Errorf("LocalAddr = %s, want the listener's %s", got, want)
		}
		echoThrough(t, client, s)
	})
	t.Run("unix", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "s")
		l, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		client, s := acceptPair(t, ls, l, false)
		if _, ok := s.RemoteAddr().(*net.UnixAddr); !ok {
			t.Errorf("RemoteAddr = %T, want *net.UnixAddr", s.RemoteAddr())
		}
		if a, ok := s.LocalAddr().(*net.UnixAddr); !ok || a.Name != path {
			t.Errorf("LocalAddr = %v, want unix %s", s.LocalAddr(), path)
		}
		echoThrough(t, client, s)
	})
	t.Run("other listeners", func(t *testing.T) {
		l := listenTCP(t, false)
		for _, other := range []net.Listener{
			tls.NewListener(l, &tls.Config{}),
			struct{ net.Listener }{l}, // a wrapper hides the *net.TCPListener
		} {
			if s, err := ls.accept(other); !errors.Is(err, ErrListener) || s != nil {
				t.Errorf("Accept(%T) = %v, %v; want ErrListener", other, s, err)
			}
		}
	})
	t.Run("closed listener", func(t *testing.T) {
		l := listenTCP(t, false)
		errc := make(chan error, 1)
		go func() {
			s, err := ls.accept(l)
			if s != nil {
				s.Close()
			}
			errc <- err
		}()
		time.Sleep(50 * time.Millisecond) // Accept is waiting for a client
		l.Close()
		select {
		case err := <-errc:
			if err == nil {
				t.Error("Accept on a closed listener returned no error")
			}
		case <-time.After(3 * time.Second):
			t.Fatal("Accept still waiting 3s after its listener closed")
		}
		if _, err := ls.accept(l); err == nil {
			t.Error("Accept on a listener closed before the call returned no error")
		}
	})
}

// echoThrough checks one exchange both ways between client and s.
func echoThrough(t *testing.T, client net.Conn, s *Socket) {
	t.Helper()
	ch := make(chan readEvent, 64)
	h := newTestHandler(readAllReady(&s, ch))
	s.Start(h)
	client.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := client.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if data, err := collect(t, ch); data != "ping" || err != errWouldBlock {
		t.Fatalf("socket read %q, %v; want \"ping\", errWouldBlock", data, err)
	}
	if n, err := s.Write([]byte("pong")); n != 4 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(client, buf); err != nil || string(buf) != "pong" {
		t.Fatalf("client read %q, %v", buf, err)
	}
	client.Close()
	if data, err := collect(t, ch); data != "" || err != io.EOF {
		t.Fatalf("after the client closed: read %q, %v; want io.EOF", data, err)
	}
	h.waitClosed(t)
}

// TestSocketReadWouldBlockAndEOF: a socket with nothing to read returns
// errWouldBlock, the loop calls Ready when bytes arrive and not otherwise,
// Read returns io.EOF after the peer closes, and a closed socket's
// methods return net.ErrClosed.
func TestSocketReadWouldBlockAndEOF(t *testing.T) {
	ls := newTestLoops(t, 1)
	client, s := acceptPair(t, ls, listenTCP(t, false), false)
	buf := make([]byte, 16)
	if n, err := readOrBlock(s, buf); n != 0 || err != errWouldBlock {
		t.Fatalf("Read on an empty socket = %d, %v; want errWouldBlock", n, err)
	}
	ch := make(chan readEvent, 64)
	h := newTestHandler(readAllReady(&s, ch))
	s.Start(h)
	time.Sleep(30 * time.Millisecond)
	if n := h.ready.Load(); n != 0 {
		t.Errorf("Ready called %d times with nothing to read", n)
	}
	for _, msg := range []string{"hello", " world", string(fill(200<<10, 9))} {
		if _, err := client.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		collectUntil(t, ch, msg)
	}
	calls := h.ready.Load()
	time.Sleep(30 * time.Millisecond)
	if n := h.ready.Load(); n != calls {
		t.Errorf("Ready called %d more times with nothing new to read", n-calls)
	}
	client.Close()
	if data, err := collect(t, ch); data != "" || err != io.EOF {
		t.Fatalf("after the peer closed: %q, %v; want io.EOF", data, err)
	}
	h.waitClosed(t) // the handler closed the socket at EOF
	if _, err := s.Read(buf); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Read after Close: %v, want net.ErrClosed", err)
	}
	if _, err := s.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after Close: %v, want net.ErrClosed", err)
	}
	if err := s.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close: %v, want net.ErrClosed", err)
	}
	if a := s.LocalAddr(); a != nil {
		t.Errorf("LocalAddr after Close = %v, want nil", a)
	}
}

// TestSocketReadDeadline: the read deadline calls Ready when it passes,
// and reads then return os.ErrDeadlineExceeded; a cleared deadline does not
// fire, and a new one makes reads work again.
func TestSocketReadDeadline(t *testing.T) {
	ls := newTestLoops(t, 1)
	client, s := acceptPair(t, ls, listenTCP(t, false), false)
	ch := make(chan readEvent, 64)
	h := newTestHandler(func() {
		n, err := readOrBlock(s, make([]byte, 16))
		ch <- readEvent{err: err}
		_ = n
	})
	s.Start(h)

	start := time.Now()
	s.SetReadDeadline(start.Add(60 * time.Millisecond))
	select {
	case ev := <-ch:
		if !errors.Is(ev.err, os.ErrDeadlineExceeded) {
			t.Fatalf("Read at the deadline: %v, want os.ErrDeadlineExceeded", ev.err)
		}
		if d := time.Since(start); d < 55*time.Millisecond {
			t.Errorf("Ready came %v after setting a 60ms deadline", d)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the read deadline did not call Ready")
	}

	s.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	s.SetReadDeadline(time.Time{}) // cleared before it passes
	select {
	case ev := <-ch:
		t.Fatalf("a cleared deadline called Ready (read: %v)", ev.err)
	case <-time.After(250 * time.Millisecond):
	}
	client.Write([]byte("abc"))
	select {
	case ev := <-ch:
		if ev.err != nil {
			t.Fatalf("Read after clearing the deadline: %v", ev.err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no Ready for bytes after the deadline was cleared")
	}
}

// TestSocketWriteKeepsOrder: a peer that does not read lets 8 MiB pile up
// in the socket: Write never waits, and once the peer reads, every byte
// arrives in order.
func TestSocketWriteKeepsOrder(t *testing.T) {
	ls := newTestLoops(t, 1)
	client, s := acceptPair(t, ls, listenTCP(t, true), true)
	startSynced(s, newTestHandler(nil))

	want := fill(8<<20, 1)
	r := rand.New(rand.NewPCG(2, 3))
	start := time.Now()
	for p := want; len(p) > 0; {
		n := min(len(p), 1+r.IntN(100_000))
		if k, err := s.Write(p[:n]); k != n || err != nil {
			t.Fatalf("Write(%d bytes) = %d, %v", n, k, err)
		}
		p = p[n:]
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("8 MiB of writes to a peer that does not read took %v: Write waited", d)
	}
	// Nearly all of it is in the socket: a writer not on the loop would
	// wait for room.
	if err := s.WaitRoom(30 * time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("WaitRoom with 8 MiB kept: %v, want os.ErrDeadlineExceeded", err)
	}

	client.SetReadDeadline(time.Now().Add(20 * time.Second))
	got := make([]byte, len(want))
	if _, err := io.ReadFull(client, got); err != nil {
		t.Fatalf("reading the 8 MiB: %v", err)
	}
	if i := firstDiff(got, want); i >= 0 {
		t.Fatalf("byte %d differs: the kept bytes were reordered or lost", i)
	}
	if err := s.WaitRoom(time.Second); err != nil {
		t.Errorf("WaitRoom once all was read: %v", err)
	}
}

// TestSocketWriteAroundStart: bytes written before the loop has registered
// the socket (before Start, or from another goroutine right after it) are
// delivered like any others. (It caught loop.add overwriting, without
// s.mu, the EPOLLOUT that such a Write had put in the interest set: the
// kept bytes were never sent.)
func TestSocketWriteAroundStart(t *testing.T) {
	for _, before := range []bool{true, false} {
		name := "right after Start"
		if before {
			name = "before Start"
		}
		t.Run(name, func(t *testing.T) {
			ls := newTestLoops(t, 1)
			client, s := acceptPair(t, ls, listenTCP(t, true), true)
			want := fill(1<<20, 11)
			if !before {
				s.Start(newTestHandler(nil))
			}
			if _, err := s.Write(want); err != nil {
				t.Fatal(err)
			}
			if before {
				s.Start(newTestHandler(nil))
			}
			client.SetReadDeadline(time.Now().Add(5 * time.Second))
			got := make([]byte, len(want))
			n, err := io.ReadFull(client, got)
			if err != nil {
				t.Fatalf("the peer read %d of %d bytes: %v", n, len(want), err)
			}
			if i := firstDiff(got, want); i >= 0 {
				t.Fatalf("byte %d differs", i)
			}
		})
	}
}

// TestSocketCloseBeforeStart: a socket closed before Start (as
// Server.Shutdown closes the handshakes it tracks, which may not have been
// started yet) gets one Closed once started, its peer sees the end, and
// the descriptor number, which a newer socket may have taken meanwhile, is
// not touched again. It runs in a child process, since what it caught
// crashed the loop: loop.remove indexed l.socks[s.fd] for a socket the
// loop never registered, out of range when the descriptor was above every
// registered one; and Start would then register the closed descriptor's
// number, by then perhaps a newer socket's.
func TestSocketCloseBeforeStart(t *testing.T) {
	if runInChild(t) {
		return
	}
	ls := newTestLoops(t, 1)
	l := listenTCP(t, false)
	client, s := acceptPair(t, ls, l, false)
	s.Close()
	loopRound(s) // the loop takes the close
	// A newer socket, probably on the same descriptor number.
	client2, s2 := acceptPair(t, ls, l, false)
	ch := make(chan readEvent, 64)
	s2.Start(newTestHandler(readAllReady(&s2, ch)))
	h := newTestHandler(nil)
	s.Start(h)
	h.waitClosed(t)
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := client.Read(make([]byte, 1)); err != io.EOF && !isConnReset(err) {
		t.Errorf("peer of a socket closed before Start: %v, want EOF", err)
	}
	client2.SetDeadline(time.Now().Add(5 * time.Second))
	client2.Write([]byte("still mine"))
	collectUntil(t, ch, "still mine")
	if _, err := s2.Write([]byte("ok")); err != nil {
		t.Fatalf("the newer socket: %v", err)
	}
	b := make([]byte, 2)
	if _, err := io.ReadFull(client2, b); err != nil {
		t.Fatalf("the newer socket's peer: %v", err)
	}
}

// loopRound returns once s's loop has gone round once after the call.
func loopRound(s *Socket) {
	for range 2 {
		done := make(chan struct{})
		s.AfterFunc(0, func() { close(done) })
		<-done
	}
}

// runInChild runs the calling test in a child process: see
// testutil.RunInChild.
func runInChild(t *testing.T) bool {
	t.Helper()
	return testutil.RunInChild(t, 60*time.Second)
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// TestSocketConcurrentWriters: writers on goroutines that wait for room
// before each write (as conn.Conn does) never interleave within a write
// and keep their own order, through a peer that starts reading late.
func TestSocketConcurrentWriters(t *testing.T) {
	ls := newTestLoops(t, 1)
	client, s := acceptPair(t, ls, listenTCP(t, true), true)
	startSynced(s, newTestHandler(nil))
	const writers, records, size = 4, 800, 997 // ~3 MiB in all
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			rec := make([]byte, size)
			for seq := range records {
				binary.BigEndian.PutUint32(rec[0:], uint32(w))
				binary.BigEndian.PutUint32(rec[4:], uint32(seq))
				for i := 8; i < size; i++ {
					rec[i] = byte(w*31 + seq + i)
				}
				if err := s.WaitRoom(10 * time.Second); err != nil {
					t.Errorf("writer %d record %d: WaitRoom: %v", w, seq, err)
					return
				}
				if n, err := s.Write(rec); n != size || err != nil {
					t.Errorf("writer %d record %d: Write = %d, %v", w, seq, n, err)
					return
				}
			}
		})
	}
	time.Sleep(100 * time.Millisecond) // let the socket fill up
	client.SetReadDeadline(time.Now().Add(20 * time.Second))
	next := make([]int, writers)
	rec := make([]byte, size)
	for i := range writers * records {
		if _, err := io.ReadFull(client, rec); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		w, seq := int(binary.BigEndian.Uint32(rec)), int(binary.BigEndian.Uint32(rec[4:]))
		if w >= writers || seq != next[w] {
			t.Fatalf("record %d: writer %d record %d, want record %v", i, w, seq, next)
		}
		for j := 8; j < size; j++ {
			if rec[j] != byte(w*31+seq+j) {
				t.Fatalf("writer %d record %d: byte %d garbled: writes interleaved", w, seq, j)
			}
		}
		next[w]++
	}
	wg.Wait()
}

// TestSocketSlowConsumer: past 64 MiB kept, a write fails with
// ErrSlowConsumer, and so does every write after it; writers waiting for
// room are let go.
func TestSocketSlowConsumer(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 64 MiB")
	}
	ls := newTestLoops(t, 1)
	_, s := acceptPair(t, ls, listenTCP(t, true), true)
	startSynced(s, newTestHandler(nil))
	chunk := make([]byte, 1<<20)
	total := 0
	var err error
	for total < 80<<20 {
		var n int
		if n, err = s.Write(chunk); err != nil {
			break
		}
		total += n
	}
	if !errors.Is(err, ErrSlowConsumer) {
		t.Fatalf("after %d MiB written to a peer that reads nothing: %v, want ErrSlowConsumer", total>>20, err)
	}
	if total < maxPending {
		t.Errorf("ErrSlowConsumer after %d bytes, before the %d limit", total, maxPending)
	}
	if _, err := s.Write([]byte("x")); !errors.Is(err, ErrSlowConsumer) {
		t.Errorf("the next write: %v, want ErrSlowConsumer again", err)
	}
	if err := s.WaitRoom(time.Second); err != nil {
		t.Errorf("WaitRoom after the write side failed: %v, want nil (the write reports it)", err)
	}
}

// TestSocketWaitRoom: WaitRoom waits while more than the high-water mark is
// kept, until the write deadline (or its own timeout), or until the peer
// reads enough; a new deadline set meanwhile counts; on the loop it never
// waits.
func TestSocketWaitRoom(t *testing.T) {
	ls := newTestLoops(t, 1)
	client, s := acceptPair(t, ls, listenTCP(t, true), true)
	startSynced(s, newTestHandler(nil))
	if err := s.WaitRoom(0); err != nil {
		t.Fatalf("WaitRoom with nothing kept: %v", err)
	}
	big := fill(2<<20, 4)
	if _, err := s.Write(big); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	s.SetWriteDeadline(start.Add(80 * time.Millisecond))
	if err := s.WaitRoom(0); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("WaitRoom past the write deadline: %v", err)
	}
	if d := time.Since(start); d < 70*time.Millisecond || d > 2*time.Second {
		t.Errorf("WaitRoom returned after %v with an 80ms write deadline", d)
	}

	start = time.Now()
	if err := s.WaitRoom(50 * time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("WaitRoom(50ms): %v", err)
	}
	if d := time.Since(start); d < 45*time.Millisecond || d > 2*time.Second {
		t.Errorf("WaitRoom(50ms) returned after %v", d)
	}

	// A deadline moved into the past wakes a writer waiting without one.
	s.SetWriteDeadline(time.Time{})
	errc := make(chan error, 1)
	go func() { errc <- s.WaitRoom(0) }()
	time.Sleep(50 * time.Millisecond)
	select {
	case err := <-errc:
		t.Fatalf("WaitRoom without a deadline returned %v while 2 MiB were kept", err)
	default:
	}
	s.SetWriteDeadline(time.Unix(1, 0))
	select {
	case err := <-errc:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("WaitRoom after the deadline moved to the past: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("WaitRoom did not notice the new write deadline")
	}

	// On the loop it does not wait: the loop pauses reading instead.
	onLoopErr := make(chan error, 1)
	var took time.Duration
	s.AfterFunc(0, func() {
		start := time.Now()
		err := s.WaitRoom(time.Second)
		took = time.Since(start)
		onLoopErr <- err
	})
	if err := <-onLoopErr; err != nil || took > 500*time.Millisecond {
		t.Errorf("WaitRoom on the loop: %v after %v, want nil at once", err, took)
	}

	// The peer reads: a writer waiting without a deadline is let go.
	s.SetWriteDeadline(time.Time{})
	go func() { errc <- s.WaitRoom(0) }()
	time.Sleep(20 * time.Millisecond)
	client.SetReadDeadline(time.Now().Add(20 * time.Second))
	got := make([]byte, len(big))
	if _, err := io.ReadFull(client, got); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("WaitRoom once the peer read: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("WaitRoom still waiting after the peer read everything")
	}
	if !bytes.Equal(got, big) {
		t.Error("the 2 MiB arrived changed")
	}
}

// TestSocketCloseDuringWrites: Close from another goroutine while writers
// wait for room and write: all of them return net.ErrClosed promptly,
// Closed runs once, and the peer sees the end of the stream.
func TestSocketCloseDuringWrites(t *testing.T) {
	ls := newTestLoops(t, 2)
	client, s := acceptPair(t, ls, listenTCP(t, true), true)
	h := newTestHandler(nil)
	startSynced(s, h)
	const writers = 4
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			chunk := bytes.Repeat([]byte{byte('a' + w)}, 32<<10)
			for {
				if err := s.WaitRoom(0); err != nil {
					errs <- fmt.Errorf("WaitRoom: %w", err)
					return
				}
				if _, err := s.Write(chunk); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	time.Sleep(100 * time.Millisecond) // the writers fill the socket and wait
	closeErrs := make(chan error, 3)
	for range 3 {
		go func() { closeErrs <- s.Close() }()
	}
	nils := 0
	for range 3 {
		if err := <-closeErrs; err == nil {
			nils++
		} else if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	}
	if nils != 1 {
		t.Errorf("%d of 3 concurrent Close calls returned nil, want 1", nils)
	}
	closedAt := time.Now()
	for range writers {
		select {
		case err := <-errs:
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("writer ended with %v, want net.ErrClosed", err)
			}
		case <-time.After(time.Second):
			t.Fatal("a writer still running 1s after Close")
		}
	}
	// What was kept waits for the peer, which reads nothing, for
	// closeFlushTime; then the descriptor is closed.
	h.waitClosed(t)
	if d := time.Since(closedAt); d < closeFlushTime*3/4 || d > closeFlushTime+2*time.Second {
		t.Errorf("Closed %v after Close with bytes kept for a peer that reads nothing, want about %v", d, closeFlushTime)
	}
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, client); err != nil && !isConnReset(err) {
		t.Errorf("the peer's read after Close: %v, want EOF", err)
	}
}

// TestSocketCloseFlushes: Close with bytes kept lets them go out before the
// descriptor is closed (as a blocking socket's Close would), unless
// SetLinger(0) asked for a reset; writes after Close fail at once.
func TestSocketCloseFlushes(t *testing.T) {
	t.Run("peer reads later", func(t *testing.T) {
		ls := newTestLoops(t, 1)
		client, s := acceptPair(t, ls, listenTCP(t, true), true)
		h := newTestHandler(nil)
		startSynced(s, h)
		want := fill(1<<20, 12)
		if _, err := s.Write(want); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Write([]byte("late")); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Write after Close: %v, want net.ErrClosed", err)
		}
		time.Sleep(50 * time.Millisecond)
		select {
		case <-h.closed:
			t.Fatal("Closed before the kept bytes went out")
		default:
		}
		client.SetReadDeadline(time.Now().Add(10 * time.Second))
		got, err := io.ReadAll(client)
		if err != nil {
			t.Fatalf("after %d bytes: %v, want EOF", len(got), err)
		}
		if i := firstDiff(got, want); i >= 0 {
			t.Fatalf("the peer got %d bytes, differing at %d, of the %d written before Close", len(got), i, len(want))
		}
		h.waitClosed(t)
	})
	t.Run("SetLinger(0)", func(t *testing.T) {
		ls := newTestLoops(t, 1)
		client, s := acceptPair(t, ls, listenTCP(t, true), true)
		h := newTestHandler(nil)
		startSynced(s, h)
		if _, err := s.Write(make([]byte, 1<<20)); err != nil {
			t.Fatal(err)
		}
		if err := s.SetLinger(0); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		s.Close()
		h.waitClosed(t)
		if d := time.Since(start); d > time.Second {
			t.Errorf("Closed %v after a Close that was to reset the connection", d)
		}
		client.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := io.Copy(io.Discard, client)
		if err == nil && n >= 1<<20 {
			t.Errorf("the peer got all %d bytes and a clean end despite SetLinger(0)", n)
		}
	})
}

func isConnReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }

// TestSocketClosedOnce: Closed runs once whatever closes the socket: the
// handler at EOF, other goroutines, the loops' Close, all at once.
func TestSocketClosedOnce(t *testing.T) {
	ls := newTestLoops(t, 2)
	l := listenTCP(t, false)
	var handlers []*testHandler
	for i := range 20 {
		client, s := acceptPair(t, ls, l, false)
		ch := make(chan readEvent, 1024)
		h := newTestHandler(readAllReady(&s, ch))
		handlers = append(handlers, h)
		s.Start(h)
		var wg sync.WaitGroup
		wg.Go(func() { client.Close() })
		for range 1 + i%3 {
			wg.Go(func() { s.Close() })
		}
		wg.Wait()
	}
	waitClosed(t, handlers...)
}

// TestLoopTimers: many timers with random deadlines fire in deadline order,
// none early, on the loop, on the goroutine that calls the handlers;
// stopped ones never fire; Reset moves them; Stop and Reset report whether
// the timer was active.
func TestLoopTimers(t *testing.T) {
	ls := newTestLoops(t, 1)
	client, s := acceptPair(t, ls, listenTCP(t, false), false)
	readyG := make(chan uint64, 1)
	s.Start(newTestHandler(func() {
		select {
		case readyG <- goid():
		default:
		}
		s.Read(make([]byte, 16))
	}))
	client.Write([]byte("x"))
	loopG := <-readyG

	const n = 200
	type fired struct {
		i      int
		at     time.Time
		g      uint64
		onLoop bool
	}
	fires := make(chan fired, n)
	when := make([]time.Time, n)
	timers := make([]timer, n)
	r := rand.New(rand.NewPCG(5, 6))
	// Deadlines 3ms apart at least, in random order, so that the order
	// they fire in is not blurred by the time it takes to set them.
	perm := r.Perm(n)
	base := time.Now().Add(50 * time.Millisecond)
	for i := range n {
		when[i] = base.Add(time.Duration(perm[i]) * 3 * time.Millisecond)
		timers[i] = s.AfterFunc(time.Until(when[i]), func() {
			fires <- fired{i, time.Now(), goid(), s.l.runningCallbacks()}
		})
	}
	stopped := map[int]bool{}
	for i := 0; i < n; i += 5 {
		if !timers[i].Stop() {
			t.Errorf("Stop of pending timer %d reported it inactive", i)
		}
		if timers[i].Stop() {
			t.Errorf("second Stop of timer %d reported it active", i)
		}
		stopped[i] = true
	}
	// Move some: to the front, or past the others.
	for i := 1; i < n; i += 7 {
		if stopped[i] {
			continue
		}
		if i%2 == 0 {
			when[i] = base.Add(-20 * time.Millisecond).Add(time.Duration(i) * 10 * time.Microsecond)
		} else {
			when[i] = base.Add(time.Duration(3*n+i) * time.Millisecond)
		}
		if !timers[i].Reset(time.Until(when[i])) {
			t.Errorf("Reset of pending timer %d reported it inactive", i)
		}
	}
	// A stopped timer can be started again.
	when[0] = base.Add(time.Duration(4*n) * time.Millisecond)
	if timers[0].Reset(time.Until(when[0])) {
		t.Error("Reset of a stopped timer reported it active")
	}
	delete(stopped, 0)

	var order []fired
	deadline := time.After(10 * time.Second)
	for len(order) < n-len(stopped) {
		select {
		case f := <-fires:
			order = append(order, f)
		case <-deadline:
			t.Fatalf("%d of %d timers fired in 10s", len(order), n-len(stopped))
		}
	}
	select {
	case f := <-fires:
		t.Errorf("stopped timer %d fired", f.i)
	case <-time.After(50 * time.Millisecond):
	}
	for k, f := range order {
		if f.at.Before(when[f.i]) {
			t.Errorf("timer %d fired %v early", f.i, when[f.i].Sub(f.at))
		}
		if !f.onLoop || f.g != loopG {
			t.Errorf("timer %d ran on goroutine %d (on a loop: %v), the handler on %d", f.i, f.g, f.onLoop, loopG)
		}
		if k > 0 {
			prev := order[k-1]
			if when[f.i].Before(when[prev.i].Add(-time.Millisecond)) {
				t.Errorf("timer %d (due %v) fired after timer %d (due %v later)", f.i, when[f.i].Sub(base), prev.i, when[prev.i].Sub(when[f.i]))
			}
		}
		if stopped[f.i] {
			t.Errorf("stopped timer %d fired", f.i)
		}
	}
	if timers[3].Stop() {
		t.Error("Stop of a timer that fired reported it active")
	}
}

// checkTimerWake checks that a timer reset to fire sooner than the wait of
// s's loop wakes the loop, and fires no sooner than asked.
func checkTimerWake(t *testing.T, s *Socket) {
	t.Helper()
	far := s.AfterFunc(time.Hour, func() {})
	defer far.Stop()
	time.Sleep(20 * time.Millisecond) // the loop waits for an hour now
	done := make(chan time.Time, 1)
	tm := s.AfterFunc(time.Hour, func() { done <- time.Now() })
	time.Sleep(20 * time.Millisecond)
	start := time.Now()
	tm.Reset(10 * time.Millisecond)
	select {
	case at := <-done:
		if d := at.Sub(start); d < 10*time.Millisecond || d > time.Second {
			t.Errorf("a timer reset to 10ms fired after %v", d)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("a timer reset to fire sooner did not wake the loop")
	}
}

// TestLoopTimerWake: a timer reset to fire sooner than the loop's current
// wait wakes the loop, and a timer may re-arm itself from its function.
func TestLoopTimerWake(t *testing.T) {
	ls := newTestLoops(t, 1)
	_, s := acceptPair(t, ls, listenTCP(t, false), false)
	s.Start(newTestHandler(nil))
	checkTimerWake(t, s)

	ticks := make(chan time.Time, 10)
	var self timer
	count := 0
	var mu sync.Mutex // self is set after AfterFunc returns, read on the loop
	mu.Lock()
	self = s.AfterFunc(5*time.Millisecond, func() {
		mu.Lock()
		defer mu.Unlock()
		count++
		ticks <- time.Now()
		if count < 5 {
			self.Reset(5 * time.Millisecond)
		}
	})
	mu.Unlock()
	for i := range 5 {
		select {
		case <-ticks:
		case <-time.After(3 * time.Second):
			t.Fatalf("a self-resetting timer ticked %d times, want 5", i)
		}
	}
	select {
	case <-ticks:
		t.Error("the timer ticked after it stopped re-arming")
	case <-time.After(30 * time.Millisecond):
	}
}

// TestSocketDescriptorReuse: sockets closed and accepted quickly reuse
// descriptor numbers; no event of an old socket reaches the new one's
// handler (each handler reads only its own client's bytes, and nothing
// after its Closed), and each gets one Closed.
func TestSocketDescriptorReuse(t *testing.T) {
	ls := newTestLoops(t, 2)
	l := listenTCP(t, false)
	const rounds = 300
	var (
		seenFD   = map[int32]bool{}
		reused   int
		handlers []*testHandler
		foreign  atomic.Int32
		clients  []net.Conn
	)
	ended := make(chan int, rounds)
	for id := range rounds {
		client, s := acceptPair(t, ls, l, false)
		clients = append(clients, client)
		if seenFD[s.fd] {
			reused++
		}
		seenFD[s.fd] = true
		want := fmt.Sprintf("client %04d", id)
		var buf []byte // the loop's only
		sock := s
		h := newTestHandler(func() {
			b := make([]byte, 64)
			for {
				n, err := readOrBlock(sock, b)
				buf = append(buf, b[:n]...)
				if !strings.HasPrefix(want, string(buf)) {
					foreign.Add(1)
					t.Errorf("handler %d read %q", id, buf)
				}
				if err == errWouldBlock {
					return
				}
				if err != nil {
					if string(buf) != want {
						t.Errorf("handler %d read %q before %v, want %q", id, buf, err, want)
					}
					ended <- id
					sock.Close()
					return
				}
			}
		})
		handlers = append(handlers, h)
		s.Start(h)
		io.WriteString(client, want)
		// Close from either side; sometimes the client writes again after
		// the server closed: events for a socket that is gone.
		switch id % 3 {
		case 0:
			client.Close()
		case 1:
			client.(*net.TCPConn).CloseWrite()
		case 2:
			time.Sleep(time.Millisecond)
			s.Close()
			client.Write([]byte(" more"))
			client.Close()
		}
	}
	for n := 0; n < rounds-rounds/3; n++ {
		select {
		case <-ended:
		case <-time.After(10 * time.Second):
			t.Fatalf("%d handlers saw their client's end within 10s, want %d", n, rounds-rounds/3)
		}
	}
	for _, c := range clients {
		c.Close()
	}
	waitClosed(t, handlers...)
	t.Logf("%d sockets, %d on a reused descriptor", rounds, reused)
	if reused == 0 {
		t.Error("no descriptor was reused: the test did not test reuse")
	}
}

// TestLoopsClose: Loops.Close closes every socket still open (handlers get
// Closed once, peers see the end, writers waiting for room are let go),
// a socket started afterwards is closed at once, and no descriptor or
// goroutine is left.
func TestLoopsClose(t *testing.T) {
	l := listenTCP(t, true) // first: the runtime's poller opens its descriptors once
	fdsBefore := openFDs(t)
	ls, err := newLoops(2)
	if err != nil {
		t.Fatal(err)
	}
	var (
		clients  []net.Conn
		sockets  []*Socket
		handlers []*testHandler
	)
	for range 6 {
		client, s := acceptPair(t, ls, l, true)
		h := newTestHandler(func() {})
		startSynced(s, h)
		clients, sockets, handlers = append(clients, client), append(sockets, s), append(handlers, h)
	}
	// One socket has 4 MiB kept for a peer that does not read, and a
	// writer waiting for room.
	if _, err := sockets[0].Write(make([]byte, 4<<20)); err != nil {
		t.Fatal(err)
	}
	waiting := make(chan error, 1)
	go func() {
		if err := sockets[0].WaitRoom(0); err != nil {
			waiting <- err
			return
		}
		_, err := sockets[0].Write([]byte("x"))
		waiting <- err
	}()
	time.Sleep(20 * time.Millisecond)

	if err := ls.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for i, h := range handlers {
		select {
		case <-h.closed:
		default:
			t.Errorf("socket %d: Closed not called by the time Loops.Close returned", i)
		}
	}
	waitClosed(t, handlers...)
	select {
	case err := <-waiting:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("the waiting writer got %v, want net.ErrClosed", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("a writer waiting for room was not let go by Loops.Close")
	}
	for i, c := range clients {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.Copy(io.Discard, c); err != nil && !isConnReset(err) {
			t.Errorf("client %d: %v, want EOF", i, err)
		}
		c.Close()
	}
	if err := ls.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	// Accepted after Close: Start closes it at once.
	client, s := acceptPair(t, ls, l, false)
	h := newTestHandler(nil)
	s.Start(h)
	select {
	case <-h.closed:
	default:
		t.Error("Start on closed loops did not close the socket at once")
	}
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := client.Read(make([]byte, 1)); n != 0 || (err != io.EOF && !isConnReset(err)) {
		t.Errorf("client of a socket started on closed loops: %d, %v; want EOF", n, err)
	}
	client.Close()
	if fds := openFDs(t); fds > fdsBefore {
		t.Errorf("%d descriptors open before, %d after", fdsBefore, fds)
	}
}

// openFDs counts the process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count descriptors: %v", err)
	}
	return len(ents)
}

// TestSocketPausesReading: a handler that echoes on the loop to a peer
// that does not read stops being given bytes once more than the high-water
// mark is kept (so what the socket keeps stays bounded), another socket on
// the same loop is served meanwhile, and once the peer reads, reading
// resumes and every byte comes back in order.
func TestSocketPausesReading(t *testing.T) {
	ls := newTestLoops(t, 1) // one loop: both sockets share it
	l := listenTCP(t, true)
	client, s := acceptPair(t, ls, l, true)
	var serverRead atomic.Int64
	echo := func(sk **Socket, counter *atomic.Int64) func() {
		buf := make([]byte, 16<<10)
		return func() {
			for {
				n, err := readOrBlock(*sk, buf)
				if n > 0 {
					if counter != nil {
						counter.Add(int64(n))
					}
					if _, err := (*sk).Write(buf[:n]); err != nil {
						(*sk).Close()
						return
					}
					continue
				}
				if err != errWouldBlock {
					(*sk).Close()
				}
				return
			}
		}
	}
	s.Start(newTestHandler(echo(&s, &serverRead)))

	const total = 4 << 20
	want := fill(total, 7)
	writeErr := make(chan error, 1)
	go func() {
		client.SetWriteDeadline(time.Now().Add(30 * time.Second))
		_, err := client.Write(want)
		writeErr <- err
	}()
	// The client reads nothing for a while: the server must stop reading.
	time.Sleep(200 * time.Millisecond)
	r1 := serverRead.Load()
	time.Sleep(100 * time.Millisecond)
	r2 := serverRead.Load()
	// Kept in the socket: what was read minus what the kernel's small
	// buffers took. Allow a read's worth past the mark and the kernel's
	// buffers (a few times smallBuf each way, and the loopback's
	// in-flight segments).
	const bound = highWater + 16<<10 + 512<<10
	if r2 > bound {
		t.Errorf("the loop read %d bytes from a peer that reads none of the replies, want at most %d", r2, bound)
	}
	if r2 != r1 {
		t.Errorf("the loop kept reading (%d then %d bytes) past the high-water mark", r1, r2)
	}
	if r2 < highWater {
		t.Errorf("the loop read only %d bytes: the test did not reach the high-water mark", r2)
	}

	// Another socket on the same loop is served meanwhile.
	other, s2 := acceptPair(t, ls, l, false)
	s2.Start(newTestHandler(echo(&s2, nil)))
	other.SetDeadline(time.Now().Add(5 * time.Second))
	other.Write([]byte("still here"))
	buf := make([]byte, 10)
	if _, err := io.ReadFull(other, buf); err != nil || string(buf) != "still here" {
		t.Fatalf("another socket on the paused socket's loop: %q, %v", buf, err)
	}

	client.SetReadDeadline(time.Now().Add(30 * time.Second))
	got := make([]byte, total)
	if _, err := io.ReadFull(client, got); err != nil {
		t.Fatalf("reading the echo after %d bytes: %v", serverRead.Load(), err)
	}
	if i := firstDiff(got, want); i >= 0 {
		t.Fatalf("echo differs at byte %d", i)
	}
	if err := <-writeErr; err != nil {
		t.Fatalf("client write: %v", err)
	}
}

// TestWakeAccept: an Accept waiting in poll(2) returns as soon as
// WakeAccept and Close are called, not at its next look half a second
// later, and with an error.
func TestWakeAccept(t *testing.T) {
	ls := newTestLoops(t, 1)
	l := listenTCP(t, false)
	done := make(chan error, 1)
	go func() {
		s, err := ls.accept(l)
		if s != nil {
			s.Close()
		}
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // let it reach poll
	start := time.Now()
	wakeAccept(l)
	l.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Accept on a listener shut down and closed returned no error")
		}
		if d := time.Since(start); d > 250*time.Millisecond {
			t.Errorf("Accept returned %v after WakeAccept; want well under the 500 ms poll timeout", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Accept did not return after WakeAccept and Close")
	}
}

// TestLoopsWaitModes: loops wait in the runtime's poller, and loops pinned
// to a CPU (Affinity) in epoll_wait on a thread of their own; both carry
// bytes, wake for a timer reset to fire sooner, and close their
// descriptors.
func TestLoopsWaitModes(t *testing.T) {
	for _, affinity := range []bool{false, true} {
		t.Run(fmt.Sprintf("affinity=%v", affinity), func(t *testing.T) {
			l := listenTCP(t, false) // first: the runtime's poller opens its descriptors once
			fdsBefore := openFDs(t)
			ls := &Loops{N: 1, Affinity: affinity}
			if err := ls.Start(); err != nil {
				t.Fatal(err)
			}
			defer ls.Close()
			if parked := ls.loops[0].wf != nil; parked == affinity {
				t.Fatalf("Affinity %v: loop waits in the poller: %v", affinity, parked)
			}
			client, s := acceptPair(t, ls, l, false)
			echoThrough(t, client, s)

			idle, s := acceptPair(t, ls, l, false)
			defer idle.Close()
			s.Start(newTestHandler(nil))
			checkTimerWake(t, s)

			// A socket with a linger time takes the other way to close
			// (through Syscall: close may block then); its peer still gets
			// a clean end. Which way was taken cannot be seen from here.
			client, s = acceptPair(t, ls, l, false)
			h := newTestHandler(nil)
			s.Start(h)
			if err := s.SetLinger(1); err != nil {
				t.Fatal(err)
			}
			s.Close()
			h.waitClosed(t)
			client.SetReadDeadline(time.Now().Add(5 * time.Second))
			if n, err := client.Read(make([]byte, 1)); n != 0 || err != io.EOF {
				t.Errorf("client of a socket closed with a linger time: %d, %v; want EOF", n, err)
			}
			client.Close()
			idle.Close()

			if err := ls.Close(); err != nil {
				t.Fatal(err)
			}
			if fds := openFDs(t); fds > fdsBefore {
				t.Errorf("%d descriptors open before the loops, %d after Close", fdsBefore, fds)
			}
		})
	}
}
