//go:build linux

package netpoll

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Unit tests of Loops.Listen: listeners whose connections the loops accept
// themselves. The helpers of loop_linux_test.go (newTestLoops, listenTCP,
// testHandler, waitClosed, loopRound, openFDs, runInChild) are used here.

// acceptRecorder is the accepted function of a Listening under test. It
// gives every socket an echo handler (or nil, for the connections reject
// picks) and records, in the order each loop made them, the accepted calls
// and every socket's first Ready, with the goroutine that made them.
type acceptRecorder struct {
	reject   func(i int) bool // nil: keep all
	onAccept func(i int)      // called on the loop before the handler is returned

	mu    sync.Mutex
	next  int             // the index of the next accepted call
	socks []*acceptedSock // in the order the calls returned
	log   []loopEvent

	notify chan int // the index of every accepted call
}

// acceptedSock is what the recorder knows of one accepted connection.
type acceptedSock struct {
	i        int // the order of its accepted call
	s        *Socket
	h        *testHandler // nil when rejected
	remote   string
	g        uint64 // the goroutine accepted ran on
	readyG   uint64 // the goroutine of the first Ready (0 before it)
	firstN   int    // bytes the first Ready read
	firstErr error  // the error that ended the first Ready's reads
}

// loopEvent is one call the recorder saw: an accepted call ("accept") or a
// socket's first Ready ("ready"), on goroutine g.
type loopEvent struct {
	g    uint64
	kind string
	i    int
}

func newAcceptRecorder() *acceptRecorder {
	return &acceptRecorder{notify: make(chan int, 4096)}
}

func (r *acceptRecorder) accepted(s *Socket) Handler {
	r.mu.Lock()
	i := r.next
	r.next++
	r.mu.Unlock()
	as := &acceptedSock{i: i, s: s, remote: s.RemoteAddr().String(), g: goid()}
	if r.onAccept != nil {
		r.onAccept(i)
	}
	if r.reject == nil || !r.reject(i) {
		buf := make([]byte, 4<<10)
		first := true
		as.h = newTestHandler(func() {
			total, err := echoReads(s, buf)
			if first {
				first = false
				r.mu.Lock()
				as.readyG, as.firstN, as.firstErr = goid(), total, err
				r.log = append(r.log, loopEvent{as.readyG, "ready", i})
				r.mu.Unlock()
			}
		})
	}
	r.mu.Lock()
	r.socks = append(r.socks, as)
	r.log = append(r.log, loopEvent{as.g, "accept", i})
	r.mu.Unlock()
	r.notify <- i
	if as.h == nil {
		return nil // not a nil *testHandler in a Handler
	}
	return as.h
}

// settle returns once every loop that accepted a socket has gone round
// after the call: what its handlers did before (the bytes a client has
// read back are written before the handler records its Ready) is then
// recorded.
func (r *acceptRecorder) settle() {
	seen := map[*loop]bool{}
	for _, as := range r.sockets() {
		if !seen[as.s.l] {
			seen[as.s.l] = true
			loopRound(as.s)
		}
	}
}

// echoReads reads s until it would block and writes back what it read; at
// the end of the stream or an error it closes s. It returns the number of
// bytes read and the error that ended the reads.
func echoReads(s *Socket, buf []byte) (int, error) {
	total := 0
	for {
		n, err := readOrBlock(s, buf)
		if n > 0 {
			total += n
			if _, werr := s.Write(buf[:n]); werr != nil {
				s.Close()
				return total, werr
			}
			continue
		}
		if err != errWouldBlock {
			s.Close()
		}
		return total, err
	}
}

// waitAccepted waits until n accepted calls have been made in all.
func (r *acceptRecorder) waitAccepted(t *testing.T, n int, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for r.count() < n {
		select {
		case <-r.notify:
		case <-deadline:
			t.Fatalf("%d connections accepted within %v, want %d", r.count(), within, n)
		}
	}
}

func (r *acceptRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.socks)
}

func (r *acceptRecorder) sockets() []*acceptedSock {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.socks)
}

func (r *acceptRecorder) handlers() []*testHandler {
	var hs []*testHandler
	for _, as := range r.sockets() {
		if as.h != nil {
			hs = append(hs, as.h)
		}
	}
	return hs
}

// checkOnLoops checks that every accepted call ran on a loop, that each
// kept socket's first Ready came on the goroutine of the loop that serves
// it, and that a loop that serves a socket it accepted called its Ready
// right after accepting it (before it accepted another), whether or not
// bytes had come: in each goroutine's sequence of events, "accept i" of
// such a socket is followed by "ready i".
func (r *acceptRecorder) checkOnLoops(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	byIndex := map[int]*acceptedSock{}
	for _, as := range r.socks {
		byIndex[as.i] = as
	}
	loopGs := map[uint64]bool{}
	if ls, ok := testLoopsOf.Load(t); ok {
		for _, l := range ls.(*Loops).loops {
			loopGs[loopID(l)] = true
		}
	}
	for _, as := range r.socks {
		i := as.i
		if !loopGs[as.g] {
			t.Errorf("socket %d: accepted called off the loops (goroutine %d)", i, as.g)
		}
		if as.h != nil && as.readyG != loopID(as.s.l) {
			t.Errorf("socket %d: served by the loop on goroutine %d, first Ready on %d", i, loopID(as.s.l), as.readyG)
		}
	}
	byG := map[uint64][]loopEvent{}
	for _, ev := range r.log {
		byG[ev.g] = append(byG[ev.g], ev)
	}
	for g, evs := range byG {
		for k, ev := range evs {
			if as := byIndex[ev.i]; ev.kind != "accept" || as.h == nil || loopID(as.s.l) != g {
				continue
			}
			if k+1 >= len(evs) || evs[k+1] != (loopEvent{g, "ready", ev.i}) {
				next := "nothing"
				if k+1 < len(evs) {
					next = fmt.Sprintf("%s %d", evs[k+1].kind, evs[k+1].i)
				}
				t.Errorf("loop goroutine %d: accept %d followed by %s, want its Ready at once", g, ev.i, next)
			}
		}
	}
}

// dialN connects n clients to l; they are closed at the end of the test.
func dialN(t *testing.T, l net.Listener, n int) []net.Conn {
	t.Helper()
	cs := make([]net.Conn, 0, n)
	for range n {
		c, err := net.DialTimeout(l.Addr().Network(), l.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", len(cs), err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(10 * time.Second))
		cs = append(cs, c)
	}
	return cs
}

// readEcho reads msg back from c.
func readEcho(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != msg {
		t.Fatalf("client %v: echo %q, %v; want %q", c.LocalAddr(), got, err, msg)
	}
}

func writeMsg(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatalf("client %v: write: %v", c.LocalAddr(), err)
	}
}

func clientMsg(i int) string { return "hello from client " + strconv.Itoa(i) }

// readsEnd checks that c reads the end of the stream (EOF, or a reset when
// the server closed with bytes unread) within its deadline, and nothing
// else.
func readsEnd(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Read(make([]byte, 64))
	if n != 0 || (err != io.EOF && !isConnReset(err)) {
		t.Errorf("client %v: read %d bytes, %v; want EOF or a reset", c.LocalAddr(), n, err)
	}
}

func isDone(ln *Listening) bool {
	select {
	case <-ln.Done():
		return true
	default:
		return false
	}
}

// waitDone waits for ln to stop and reports whether it did within d.
func waitDone(ln *Listening, d time.Duration) bool {
	select {
	case <-ln.Done():
		return true
	case <-time.After(d):
		return false
	}
}

// noTemporary is a temporary function that fails the test if called.
func noTemporary(t *testing.T) func(error) {
	return func(err error) { t.Errorf("temporary called: %v", err) }
}

// mustListen starts a Listening on l, closed at the end of the test.
func mustListen(t *testing.T, ls *Loops, l net.Listener, accepted func(*Socket) Handler, temporary func(error)) *Listening {
	t.Helper()
	ln, err := ls.Listen(l, accepted, temporary)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	if ln == nil {
		t.Fatal("Listen returned a nil Listening and no error")
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// TestListenEcho: with two loops, each of 20 connections to a TCP, TCP6 or
// Unix listener is passed once to accepted, on a loop; the loops serve
// them in turn, half each, and a socket's handler reads the client's
// bytes and echoes them. A TCP socket's RemoteAddr is the
// client's address, its LocalAddr the listener's. The Listening runs on
// (Done open, Err nil) throughout.
func TestListenEcho(t *testing.T) {
	unixListen := func(t *testing.T) net.Listener {
		l, err := net.Listen("unix", filepath.Join(t.TempDir(), "s"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	}
	tcp6Listen := func(t *testing.T) net.Listener {
		l, err := net.Listen("tcp6", "[::1]:0")
		if err != nil {
			t.Skipf("no IPv6 loopback: %v", err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	}
	for _, tc := range []struct {
		name   string
		listen func(t *testing.T) net.Listener
	}{
		{"tcp", func(t *testing.T) net.Listener { return listenTCP(t, false) }},
		{"tcp6", tcp6Listen},
		{"unix", unixListen},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ls := newTestLoops(t, 2)
			l := tc.listen(t)
			rec := newAcceptRecorder()
			ln := mustListen(t, ls, l, rec.accepted, noTemporary(t))
			if isDone(ln) || ln.Err() != nil {
				t.Fatalf("a new Listening: done %v, Err %v", isDone(ln), ln.Err())
			}

			const n = 20
			clients := dialN(t, l, n)
			for i, c := range clients {
				writeMsg(t, c, clientMsg(i))
			}
			for i, c := range clients {
				readEcho(t, c, clientMsg(i))
			}
			rec.waitAccepted(t, n, 5*time.Second)
			rec.settle()
			socks := rec.sockets()
			if got := rec.count(); got != n {
				t.Errorf("accepted called %d times for %d connections", got, n)
			}
			rec.checkOnLoops(t)

			if tc.name == "unix" {
				for i, as := range socks {
					if _, ok := as.s.RemoteAddr().(*net.UnixAddr); !ok {
						t.Errorf("socket %d: RemoteAddr is a %T, want *net.UnixAddr", i, as.s.RemoteAddr())
					}
				}
			} else {
				// Each client once, by address.
				want := map[string]bool{}
				for _, c := range clients {
					want[c.LocalAddr().String()] = true
				}
				for i, as := range socks {
					if !want[as.remote] {
						t.Errorf("socket %d: RemoteAddr %s is no client's LocalAddr, or came twice", i, as.remote)
					}
					delete(want, as.remote)
					if got := as.s.LocalAddr(); got == nil || got.String() != l.Addr().String() {
						t.Errorf("socket %d: LocalAddr %v, want the listener's %v", i, got, l.Addr())
					}
				}
			}
			perLoop := map[*loop]int{}
			for _, as := range socks {
				perLoop[as.s.l]++
			}
			// In turn: 10 each, give or take what another test's
			// Accept took from the shared counter (none here).
			if len(perLoop) != 2 {
				t.Errorf("connections per loop: %v, want both loops serving", slices.Collect(maps.Values(perLoop)))
			}
			for _, k := range perLoop {
				if k < n/2-1 || k > n/2+1 {
					t.Errorf("connections per loop: %v, want %d each", slices.Collect(maps.Values(perLoop)), n/2)
					break
				}
			}

			if isDone(ln) || ln.Err() != nil {
				t.Errorf("a running Listening: done %v, Err %v", isDone(ln), ln.Err())
			}
			for _, c := range clients {
				c.Close()
			}
			waitClosed(t, rec.handlers()...)
		})
	}
}

// TestListenBacklog: connections that wait in the listener's backlog,
// their bytes already sent, before Listen is called are all accepted once
// it is: more than a batch (acceptBatch) per loop, so the loop must come
// back for the rest by itself (l.more: the edge-triggered listener reports
// them once). Each handler's Ready comes at once after the accept and
// finds the client's bytes; a client that has sent nothing yet gets that
// one Ready too (its read would block), and is served when it writes.
func TestListenBacklog(t *testing.T) {
	for _, tc := range []struct{ loops, clients int }{
		// A loop accepts a batch when it registers the listener and one
		// when epoll reports it: more than 2 batches per loop need the
		// continuation.
		{1, 100},
		{2, 200},
	} {
		t.Run(fmt.Sprintf("%d loops %d clients", tc.loops, tc.clients), func(t *testing.T) {
			if tc.clients <= 2*tc.loops*acceptBatch {
				t.Fatalf("%d clients fit in the first batches of %d loops", tc.clients, tc.loops)
			}
			ls := newTestLoops(t, tc.loops)
			l := listenTCP(t, false)
			clients := dialN(t, l, tc.clients)
			for i, c := range clients {
				writeMsg(t, c, clientMsg(i))
			}
			// Loopback hands the bytes over at once, or nearly: a moment
			// lets the kernel's deferred work finish on a busy machine.
			time.Sleep(20 * time.Millisecond)
			rec := newAcceptRecorder()
			mustListen(t, ls, l, rec.accepted, noTemporary(t))
			rec.waitAccepted(t, tc.clients, 10*time.Second)
			for i, c := range clients {
				readEcho(t, c, clientMsg(i))
			}
			rec.settle()
			rec.checkOnLoops(t)
			byAddr := map[string]int{}
			for i, c := range clients {
				byAddr[c.LocalAddr().String()] = i
			}
			for i, as := range rec.sockets() {
				ci, ok := byAddr[as.remote]
				if !ok {
					t.Errorf("socket %d: RemoteAddr %s is no client's", i, as.remote)
					continue
				}
				// The bytes were there before the accept: the Ready that
				// came with it read them all.
				if want := len(clientMsg(ci)); as.firstN != want || as.firstErr != errWouldBlock {
					t.Errorf("socket %d: the first Ready read %d bytes, then %v; want %d, then errWouldBlock", i, as.firstN, as.firstErr, want)
				}
			}
			for _, c := range clients {
				c.Close()
			}
			waitClosed(t, rec.handlers()...)
		})
	}

	t.Run("client silent", func(t *testing.T) {
		ls := newTestLoops(t, 1)
		l := listenTCP(t, false)
		clients := dialN(t, l, 3)
		rec := newAcceptRecorder()
		mustListen(t, ls, l, rec.accepted, noTemporary(t))
		rec.waitAccepted(t, 3, 5*time.Second)
		rec.settle()
		socks := rec.sockets()
		rec.checkOnLoops(t)
		for i, as := range socks {
			if n := as.h.ready.Load(); n != 1 {
				t.Errorf("socket %d: %d Ready calls for a client that sent nothing, want the 1 at the accept", i, n)
			}
			if as.firstN != 0 || as.firstErr != errWouldBlock {
				t.Errorf("socket %d: the first Ready read %d bytes, then %v; want 0, errWouldBlock", i, as.firstN, as.firstErr)
			}
		}
		for i, c := range clients {
			writeMsg(t, c, clientMsg(i))
			readEcho(t, c, clientMsg(i))
		}
	})
}

// TestListenAcceptedNil: a connection for which accepted returns nil is
// closed (its client reads the end of the stream, its descriptor is
// released) and nothing else is called for it; the Listening goes on
// accepting, and the connections kept are served.
func TestListenAcceptedNil(t *testing.T) {
	ls := newTestLoops(t, 2)
	l := listenTCP(t, false)
	fdsBefore := openFDs(t)
	rec := newAcceptRecorder()
	rec.reject = func(i int) bool { return i%2 == 0 }
	ln := mustListen(t, ls, l, rec.accepted, noTemporary(t))

	const n = 10
	clients := dialN(t, l, n)
	for i, c := range clients {
		writeMsg(t, c, clientMsg(i))
	}
	rec.waitAccepted(t, n, 5*time.Second)
	rejected := map[string]bool{}
	for _, as := range rec.sockets() {
		rejected[as.remote] = rec.reject(as.i)
	}
	kept := 0
	for i, c := range clients {
		r, ok := rejected[c.LocalAddr().String()]
		switch {
		case !ok:
			t.Errorf("client %d was not accepted", i)
		case r:
			readsEnd(t, c)
		default:
			kept++
			readEcho(t, c, clientMsg(i))
		}
	}
	if kept != n/2 {
		t.Errorf("%d connections kept, want %d", kept, n/2)
	}
	if isDone(ln) || ln.Err() != nil {
		t.Errorf("after rejecting connections: done %v, Err %v; want it running", isDone(ln), ln.Err())
	}
	for _, c := range clients {
		c.Close()
	}
	waitClosed(t, rec.handlers()...)
	if fds := openFDs(t); fds > fdsBefore {
		t.Errorf("%d descriptors open before, %d after: rejected connections not closed", fdsBefore, fds)
	}
}

// echoing listens on a new TCP listener through ls and dials n clients,
// each of which has had one message echoed: the Listening is serving.
func echoing(t *testing.T, ls *Loops, n int) (*net.TCPListener, *acceptRecorder, *Listening, []net.Conn) {
	t.Helper()
	l := listenTCP(t, false)
	rec := newAcceptRecorder()
	ln := mustListen(t, ls, l, rec.accepted, noTemporary(t))
	clients := dialN(t, l, n)
	for i, c := range clients {
		writeMsg(t, c, clientMsg(i))
		readEcho(t, c, clientMsg(i))
	}
	return l, rec, ln, clients
}

// TestListenClose: Listening.Close stops the accepting at once: Done is
// closed when it returns, Err stays nil, a connection made afterwards
// waits in the backlog without accepted being called, and the listener,
// which Close leaves open, still gives it to a plain Accept. Connections
// accepted before go on being served. Called on the loop, from accepted,
// it stops the loop's batch there.
func TestListenClose(t *testing.T) {
	t.Run("from the test", func(t *testing.T) {
		ls := newTestLoops(t, 2)
		l, rec, ln, clients := echoing(t, ls, 3)
		rec.waitAccepted(t, 3, 5*time.Second)

		if err := ln.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if !isDone(ln) {
			t.Error("Done not closed when Close returned")
		}
		if err := ln.Err(); err != nil {
			t.Errorf("Err after Close = %v, want nil", err)
		}
		if err := ln.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}

		late := dialN(t, l, 1)[0] // the kernel completes it: l is open
		writeMsg(t, late, "late")
		time.Sleep(300 * time.Millisecond)
		if got := rec.count(); got != 3 {
			t.Fatalf("accepted called %d times, want 3: the loops accepted after Close", got)
		}
		// The connections accepted before Close are still served.
		for i, c := range clients {
			writeMsg(t, c, "again "+clientMsg(i))
			readEcho(t, c, "again "+clientMsg(i))
		}
		// The listener is open, and the late connection waits in it.
		l.SetDeadline(time.Now().Add(5 * time.Second))
		c, err := l.Accept()
		if err != nil {
			t.Fatalf("Accept on the listener after Listening.Close: %v", err)
		}
		defer c.Close()
		if got, want := c.RemoteAddr().String(), late.LocalAddr().String(); got != want {
			t.Errorf("Accept got %s, want the late client %s", got, want)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 4)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "late" {
			t.Errorf("the late connection read %q, %v", buf, err)
		}
		// Close took the listener out of the loops' epoll sets: it can be
		// Listened on again.
		rec2 := newAcceptRecorder()
		ln2 := mustListen(t, ls, l, rec2.accepted, noTemporary(t))
		for i, c := range dialN(t, l, 2) {
			writeMsg(t, c, clientMsg(i))
			readEcho(t, c, clientMsg(i))
		}
		if isDone(ln2) {
			t.Errorf("a second Listen on the listener after Close ended: %v", ln2.Err())
		}
		if got := rec.count(); got != 3 {
			t.Errorf("the closed Listening's accepted called %d times, want 3", got)
		}
		// Loops.Close does not change why the first one ended.
		ls.Close()
		if err := ln.Err(); err != nil {
			t.Errorf("Err after Close and Loops.Close = %v, want nil", err)
		}
	})

	t.Run("from accepted", func(t *testing.T) {
		// One loop, ten connections in the backlog: the loop takes them
		// in one batch, and accepted closes the Listening at the third.
		ls := newTestLoops(t, 1)
		l := listenTCP(t, false)
		const queued, closeAt = 10, 2
		clients := dialN(t, l, queued)
		var lnp atomic.Pointer[Listening]
		published := make(chan struct{})
		rec := newAcceptRecorder()
		rec.onAccept = func(i int) {
			<-published // the loop may run before Listen has returned
			if i == closeAt {
				lnp.Load().Close()
			}
		}
		ln := mustListen(t, ls, l, rec.accepted, noTemporary(t))
		lnp.Store(ln)
		close(published)
		rec.waitAccepted(t, closeAt+1, 5*time.Second)
		if !waitDone(ln, time.Second) {
			t.Fatal("Done not closed after Close on the loop")
		}
		loopRound(rec.sockets()[0].s)
		if got := rec.count(); got != closeAt+1 {
			t.Errorf("accepted called %d times, want %d: the batch went on after Close", got, closeAt+1)
		}
		// The rest wait in the listener.
		l.SetDeadline(time.Now().Add(5 * time.Second))
		for i := range queued - closeAt - 1 {
			c, err := l.Accept()
			if err != nil {
				t.Fatalf("Accept %d after Close: %v", i, err)
			}
			c.Close()
		}
		// The one accepted with the Close is served.
		byAddr := map[string]net.Conn{}
		for _, c := range clients {
			byAddr[c.LocalAddr().String()] = c
		}
		var c net.Conn
		for _, as := range rec.sockets() {
			if as.i == closeAt {
				c = byAddr[as.remote]
			}
		}
		writeMsg(t, c, "still served")
		readEcho(t, c, "still served")
	})
}

// TestListenListenerClosed: what ends a Listening when its listener goes
// away. Closing a descriptor takes it out of every epoll set without an
// event, so the loops learn of a closed listener when they next try to
// accept from it, or when they look at their listeners (every checkEvery).
// WakeAccept (shutdown(2) of the listening socket) makes an event: the
// accept fails and the Listening ends with that error at once.
func TestListenListenerClosed(t *testing.T) {
	// started returns a Listening on a new listener with one connection
	// accepted through it (so the loop watches the listener), the
	// listener, and the socket accepted.
	started := func(t *testing.T, ls *Loops) (*Listening, *net.TCPListener, *Socket) {
		t.Helper()
		l := listenTCP(t, false)
		rec := newAcceptRecorder()
		ln := mustListen(t, ls, l, rec.accepted, noTemporary(t))
		c := dialN(t, l, 1)[0]
		writeMsg(t, c, "ping")
		readEcho(t, c, "ping")
		return ln, l, rec.sockets()[0].s
	}

	t.Run("WakeAccept", func(t *testing.T) {
		ls := newTestLoops(t, 2)
		ln, l, _ := started(t, ls)
		wakeAccept(l)
		if !waitDone(ln, 2*time.Second) {
			t.Fatal("Done not closed 2s after WakeAccept")
		}
		if err := ln.Err(); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("Err = %v, want accept4's EINVAL on a shut down listener", err)
		}
	})

	t.Run("WakeAccept and Close at once", func(t *testing.T) {
		// The shutdown's event is queued on a loop's epoll set, but a
		// Close before the loop collects it takes it out again: the loops'
		// periodic look at their listeners is what ends these.
		ls := newTestLoops(t, 2)
		for i := range 3 {
			ln, l, _ := started(t, ls)
			wakeAccept(l)
			l.Close()
			// Within the loops' look at their listeners (checkEvery).
			if !waitDone(ln, checkEvery+time.Second) {
				t.Fatalf("round %d: Done still open %v after WakeAccept and Close", i, checkEvery+time.Second)
			}
			if ln.Err() == nil {
				t.Error("Err = nil for a Listening ended by its listener")
			}
		}
	})

	t.Run("Close alone", func(t *testing.T) {
		// Closing l ends the Listening. A dial after the close is refused
		// by the kernel and reaches no loop.
		ls := newTestLoops(t, 2)
		ln, l, _ := started(t, ls)
		addr := l.Addr().String()
		l.Close()
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Fatal("a dial to a closed listener connected")
		}
		// Nothing triggers an accept: the loops notice when they look at
		// their listeners, every checkEvery.
		if !waitDone(ln, checkEvery+time.Second) {
			t.Fatalf("Done still open %v after the listener was closed", checkEvery+time.Second)
		}
		if ln.Err() == nil {
			t.Error("Err = nil for a Listening ended by closing its listener")
		}
	})

	t.Run("new listener on the old descriptor", func(t *testing.T) {
		// A listener closed without Listening.Close stays registered on
		// the loops under its old descriptor number; a new listener on
		// that number, Listened on, must still get its connections.
		ls := newTestLoops(t, 1)
		_, old, s := started(t, ls)
		oldFD := listenerFD(t, old)
		old.Close()
		l := listenTCP(t, false)
		if fd := listenerFD(t, l); fd != oldFD {
			t.Skipf("the new listener got descriptor %d, not the old %d", fd, oldFD)
		}
		rec := newAcceptRecorder()
		mustListen(t, ls, l, rec.accepted, noTemporary(t))
		// The loop (s's) has registered l and found nothing to accept:
		// the connection comes as an event.
		loopRound(s)
		c := dialN(t, l, 1)[0]
		writeMsg(t, c, "ping")
		deadline := time.After(500 * time.Millisecond)
		for rec.count() < 1 {
			select {
			case <-rec.notify:
			case <-deadline:
				t.Fatal("the connection to a new listener on a reused descriptor number " +
					"was not accepted within 500ms: the closed listener's registration took its event")
			}
		}
		readEcho(t, c, "ping")
	})
}

// listenerFD returns l's descriptor number.
func listenerFD(t *testing.T, l syscall.Conn) int {
	t.Helper()
	rc, err := l.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	fd := -1
	if err := rc.Control(func(u uintptr) { fd = int(u) }); err != nil {
		t.Fatal(err)
	}
	return fd
}

// TestListenLoopsClose: Loops.Close ends a Listening (Done closed by the
// time it returns, Err net.ErrClosed) and closes the sockets accepted
// through it, but not the listener; Listen on closed or unstarted Loops
// fails.
func TestListenLoopsClose(t *testing.T) {
	t.Run("serving", func(t *testing.T) {
		ls := newTestLoops(t, 2)
		l, rec, ln, clients := echoing(t, ls, 4)
		if err := ls.Close(); err != nil {
			t.Fatal(err)
		}
		if !isDone(ln) {
			t.Error("Done not closed by the time Loops.Close returned")
		}
		if err := ln.Err(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Err = %v, want net.ErrClosed", err)
		}
		waitClosed(t, rec.handlers()...)
		for _, c := range clients {
			readsEnd(t, c)
		}
		if err := ln.Close(); err != nil {
			t.Errorf("Close after Loops.Close: %v", err)
		}
		if err := ln.Err(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Err after a later Close = %v, want net.ErrClosed still", err)
		}

		ln2, err := ls.Listen(l, rec.accepted, nil)
		if err == nil || ln2 != nil {
			t.Errorf("Listen on closed Loops = %v, %v; want an error", ln2, err)
		} else if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Listen on closed Loops: %v, want net.ErrClosed", err)
		}
		// The listener is the caller's, and open.
		c := dialN(t, l, 1)[0]
		l.SetDeadline(time.Now().Add(5 * time.Second))
		sc, err := l.Accept()
		if err != nil {
			t.Fatalf("Accept on the listener after Loops.Close: %v", err)
		}
		sc.Close()
		c.Close()
	})

	t.Run("right after Listen", func(t *testing.T) {
		// Loops.Close racing the loops' registration: whichever way it
		// goes, the Listening has ended when Close returns.
		l := listenTCP(t, false)
		for i := range 20 {
			ls, err := newLoops(2)
			if err != nil {
				t.Fatal(err)
			}
			ln, err := ls.Listen(l, func(s *Socket) Handler { return newTestHandler(nil) }, nil)
			if err != nil {
				ls.Close()
				t.Fatalf("round %d: Listen: %v", i, err)
			}
			ls.Close()
			if !isDone(ln) {
				t.Fatalf("round %d: Done not closed by the time Loops.Close returned", i)
			}
			if err := ln.Err(); !errors.Is(err, net.ErrClosed) {
				t.Errorf("round %d: Err = %v, want net.ErrClosed", i, err)
			}
		}
	})

	t.Run("not started", func(t *testing.T) {
		l := listenTCP(t, false)
		ln, err := new(Loops).Listen(l, func(*Socket) Handler { return nil }, nil)
		if err == nil || ln != nil {
			t.Errorf("Listen on Loops never started = %v, %v; want an error", ln, err)
		}
	})
}

// TestListenOtherListeners: a listener that is not a *net.TCPListener or
// *net.UnixListener (a TLS listener, a wrapper) is refused with
// ErrListener, and never watched.
func TestListenOtherListeners(t *testing.T) {
	ls := newTestLoops(t, 1)
	l := listenTCP(t, false)
	called := make(chan struct{}, 1)
	accepted := func(s *Socket) Handler {
		called <- struct{}{}
		return nil
	}
	for _, other := range []net.Listener{
		tls.NewListener(l, &tls.Config{}),
		struct{ net.Listener }{l},
	} {
		if ln, err := ls.Listen(other, accepted, nil); !errors.Is(err, ErrListener) || ln != nil {
			t.Errorf("Listen(%T) = %v, %v; want nil, ErrListener", other, ln, err)
		}
	}
	dialN(t, l, 1)
	select {
	case <-called:
		t.Error("a refused listener's connection was passed to accepted")
	case <-time.After(50 * time.Millisecond):
	}
}

// TestListenSameListenerTwice: a second Listening on a listener the loops
// already watch ends (its registration fails), and the first one is not
// disturbed by its end.
func TestListenSameListenerTwice(t *testing.T) {
	for _, loops := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d loops", loops), func(t *testing.T) {
			ls := newTestLoops(t, loops)
			l := listenTCP(t, false)
			rec := newAcceptRecorder()
			ln := mustListen(t, ls, l, rec.accepted, noTemporary(t))
			c := dialN(t, l, 1)[0]
			writeMsg(t, c, "one")
			readEcho(t, c, "one")

			ln2 := mustListen(t, ls, l, func(*Socket) Handler {
				t.Error("the second Listening accepted a connection")
				return nil
			}, noTemporary(t))
			if !waitDone(ln2, 2*time.Second) {
				t.Fatal("a second Listening on the same listener still running after 2s")
			}
			if ln2.Err() == nil {
				t.Error("the second Listening ended with no error")
			}
			t.Logf("the second Listening: %v", ln2.Err())
			if isDone(ln) {
				t.Fatalf("the first Listening ended too: %v", ln.Err())
			}
			for i, c := range dialN(t, l, 4) {
				writeMsg(t, c, clientMsg(i))
				readEcho(t, c, clientMsg(i))
			}
		})
	}
}

// TestListenTemporaryErrors: out of descriptors, the loop tells temporary
// (an error wrapping EMFILE), leaves the connection in the backlog and
// tries again after a pause; as descriptors are freed every connection is
// accepted. It runs in a child process, since it lowers RLIMIT_NOFILE.
func TestListenTemporaryErrors(t *testing.T) {
	if runInChild(t) {
		return
	}
	const k, room = 6, 2
	ls := newTestLoops(t, 1)
	l := listenTCP(t, false)
	clients := dialN(t, l, k) // complete in the backlog

	var temps []error
	var tmu sync.Mutex
	temporary := func(err error) {
		tmu.Lock()
		temps = append(temps, err)
		tmu.Unlock()
	}
	var accepted atomic.Int32
	allIn := make(chan struct{})
	acceptedFn := func(s *Socket) Handler {
		if accepted.Add(1) == k {
			close(allIn)
		}
		// Closing frees the descriptor (on the loop's next turn).
		return newTestHandler(func() { s.Close() })
	}

	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	limit := limitForRoom(t, room)
	lim := old
	lim.Cur = uint64(limit)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("setrlimit: %v", err)
	}
	restore := func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
			t.Errorf("restoring RLIMIT_NOFILE: %v", err)
		}
	}
	defer restore()
	t.Logf("RLIMIT_NOFILE lowered to %d: room for %d descriptors", limit, room)

	start := time.Now()
	ln, err := ls.Listen(l, acceptedFn, temporary)
	if err != nil {
		restore()
		t.Fatalf("Listen: %v", err)
	}
	defer ln.Close()
	select {
	case <-allIn:
	case <-time.After(5 * time.Second):
		restore()
		t.Fatalf("%d of %d connections accepted within 5s", accepted.Load(), k)
	}
	took := time.Since(start)
	restore()

	tmu.Lock()
	got := slices.Clone(temps)
	tmu.Unlock()
	t.Logf("all %d accepted in %v; temporary called %d times", k, took, len(got))
	if len(got) == 0 {
		t.Error("temporary never called, with room for 2 of 6 connections")
	}
	for _, err := range got {
		var se *os.SyscallError
		if !errors.Is(err, syscall.EMFILE) || !errors.As(err, &se) || se.Syscall != "accept4" {
			t.Errorf("temporary got %v (%T), want accept4's EMFILE", err, err)
		}
	}
	if isDone(ln) || ln.Err() != nil {
		t.Errorf("after temporary errors: done %v, Err %v; want it running", isDone(ln), ln.Err())
	}
	for _, c := range clients {
		readsEnd(t, c)
	}
}

// limitForRoom returns the RLIMIT_NOFILE under which exactly room more
// descriptors can be opened: a new descriptor takes the lowest free number
// below the limit.
func limitForRoom(t *testing.T, room int) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot list descriptors: %v", err)
	}
	open := map[int]bool{}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		// ReadDir's own descriptor is in the list, and closed by now.
		if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0); errno == 0 {
			open[fd] = true
		}
	}
	free := 0
	for n := 0; ; n++ {
		if !open[n] {
			free++
			if free == room {
				return n + 1
			}
		}
	}
}

// TestListenNoLeak: a Listening, the connections it accepted, Close and
// Loops.Close leave no goroutine and no descriptor behind.
func TestListenNoLeak(t *testing.T) {
	l := listenTCP(t, false) // first: the runtime's poller opens its descriptors once
	goroutines := runtime.NumGoroutine()
	fds := openFDs(t)

	ls, err := newLoops(2)
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Close()
	rec := newAcceptRecorder()
	ln, err := ls.Listen(l, rec.accepted, noTemporary(t))
	if err != nil {
		t.Fatal(err)
	}
	clients := dialN(t, l, 8)
	for i, c := range clients {
		writeMsg(t, c, clientMsg(i))
		readEcho(t, c, clientMsg(i))
	}
	ln.Close()
	for _, c := range clients[:4] {
		c.Close() // these end on their own; Loops.Close ends the rest
	}
	ls.Close()
	for _, c := range clients[4:] {
		c.Close()
	}
	waitClosed(t, rec.handlers()...)

	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > goroutines && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > goroutines {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before, %d after:\n%s", goroutines, n, buf[:runtime.Stack(buf, true)])
	}
	if n := openFDs(t); n > fds {
		t.Errorf("%d descriptors open before, %d after", fds, n)
	}
}

// TestListenNoDelay: sockets accepted from a TCP listener have TCP_NODELAY,
// which Listen sets once on the listener for them to inherit (as Accept
// sets it on each), so that small writes leave at once. Connections that
// were already queued when Listen set it, which the kernel made without
// it, get it too: without it the server's second small write waits for
// the client's delayed ACK.
func TestListenNoDelay(t *testing.T) {
	ls := newTestLoops(t, 1)
	for _, network := range []string{"tcp4", "tcp6"} {
		t.Run(network, func(t *testing.T) {
			addr := "127.0.0.1:0"
			if network == "tcp6" {
				addr = "[::1]:0"
			}
			l, err := net.Listen(network, addr)
			if err != nil {
				t.Skipf("no %s loopback here: %v", network, err)
			}
			t.Cleanup(func() { l.Close() })
			// Dial returns once the handshake is done: these wait in the
			// accept queue, made before Listen runs.
			const early = 3
			dialN(t, l, early)
			got := make(chan int, 2+early)
			rec := newAcceptRecorder()
			ln := mustListen(t, ls, l, func(s *Socket) Handler {
				v, err := syscall.GetsockoptInt(int(s.fd), syscall.IPPROTO_TCP, syscall.TCP_NODELAY)
				if err != nil {
					v = -1
				}
				got <- v
				return rec.accepted(s)
			}, noTemporary(t))
			defer ln.Close()
			dialN(t, l, 2)
			for range 2 + early {
				select {
				case v := <-got:
					if v != 1 {
						t.Errorf("TCP_NODELAY of an accepted socket = %d, want 1", v)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("no connection accepted")
				}
			}
		})
	}
}
