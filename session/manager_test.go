package session

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/testutil"
)

// pipeSession returns a server session over an in-memory pipe, for tests
// of the registry that send nothing.
func pipeSession(t testing.TB, opts *Options) *Session {
	a, b := testutil.Pipe()
	c := conn.New(b, conn.Server, nil)
	c.Open(nil)
	s := New(c, opts)
	t.Cleanup(func() { s.CloseNow(); a.Close() })
	return s
}

func TestManagerRegistry(t *testing.T) {
	var added, removed atomic.Int32
	m := NewManager(&ManagerOptions{
		OnAdd:    func(*Session) { added.Add(1) },
		OnRemove: func(*Session) { removed.Add(1) },
	})
	a, b, c := pipeSession(t, nil), pipeSession(t, nil), pipeSession(t, nil)
	m.Add(a)
	m.Add(b)
	m.Add(c)
	m.Add(a) // twice: no effect
	if m.Len() != 3 || added.Load() != 3 {
		t.Fatalf("Len %d, OnAdd %d after adding 3 sessions (one twice), want 3 and 3", m.Len(), added.Load())
	}
	if s, ok := m.Get(b.ID()); !ok || s != b {
		t.Fatalf("Get(%d) = %v, %v", b.ID(), s, ok)
	}
	m.Remove(b)
	m.Remove(b) // twice: no effect
	if _, ok := m.Get(b.ID()); ok || m.Len() != 2 || removed.Load() != 1 {
		t.Fatalf("after Remove: Get ok %v, Len %d, OnRemove %d; want false, 2, 1", ok, m.Len(), removed.Load())
	}
	if b.Err() != nil {
		t.Fatal("Remove closed the session")
	}
	// A removed session that ends does not touch the manager again.
	b.CloseNow()
	// A session that ends leaves by itself.
	a.CloseNow()
	if _, ok := m.Get(a.ID()); ok || m.Len() != 1 || removed.Load() != 2 {
		t.Fatalf("after a session ended: Get ok %v, Len %d, OnRemove %d; want false, 1, 2", ok, m.Len(), removed.Load())
	}
	// An ended session is not added.
	m.Add(a)
	if m.Len() != 1 || added.Load() != 3 {
		t.Fatalf("adding an ended session: Len %d, OnAdd %d; want 1, 3", m.Len(), added.Load())
	}
	// One session in two managers leaves both.
	m2 := NewManager(nil)
	m2.Add(c)
	c.CloseNow()
	if m.Len() != 0 || m2.Len() != 0 {
		t.Fatalf("after the shared session ended: Len %d and %d, want 0 and 0", m.Len(), m2.Len())
	}
}

// TestManagerRangeWhileAdding: Range holds no lock while fn runs (fn calls
// the manager), and runs race-free next to Add, Remove and sessions ending.
func TestManagerRangeWhileAdding(t *testing.T) {
	m := NewManager(nil)
	const n = 200
	sessions := make([]*Session, n)
	for i := range sessions {
		sessions[i] = pipeSession(t, nil)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for i, s := range sessions {
			m.Add(s)
			switch i % 3 {
			case 1:
				m.Remove(s)
			case 2:
				s.CloseNow()
			}
		}
	})
	for range 50 {
		seen := 0
		m.Range(func(s *Session) bool {
			seen++
			m.Len()          // would deadlock if Range held the write lock
			m.Get(s.ID())    // or the read lock with a writer waiting
			return seen < 40 // stopping early works
		})
		if seen > 40 {
			t.Fatalf("Range went on after fn returned false: %d calls", seen)
		}
	}
	wg.Wait()
	// Only the sessions with i%3 == 0 remain.
	want := map[uint64]bool{}
	for i, s := range sessions {
		if i%3 == 0 {
			want[s.ID()] = true
		}
	}
	got := 0
	m.Range(func(s *Session) bool {
		if !want[s.ID()] {
			t.Errorf("session %d should have left", s.ID())
		}
		got++
		return true
	})
	if got != len(want) || m.Len() != len(want) {
		t.Fatalf("Range saw %d, Len %d, want %d", got, m.Len(), len(want))
	}
}

// clientSessions returns n client sessions, each connected to a server
// session with serverOpts that is registered in m.
func clientSessions(t *testing.T, m *Manager, n int, serverOpts *Options) []*Session {
	clients := make([]*Session, n)
	for i := range clients {
		c, s := pair(t, nil, serverOpts)
		m.Add(s)
		clients[i] = c
	}
	return clients
}

func TestBroadcast(t *testing.T) {
	for _, opts := range []*Options{nil, {SendQueueSize: 4}} {
		name := "direct"
		if opts != nil {
			name = "queued"
		}
		t.Run(name, func(t *testing.T) {
			m := NewManager(&ManagerOptions{DirectWriters: 3})
			clients := clientSessions(t, m, 10, opts)
			for i := range 3 {
				res := m.Broadcast(frame.OpText, fmt.Appendf(nil, "message %d", i))
				if res != (BroadcastResult{Sent: 10}) {
					t.Fatalf("Broadcast: %+v, want 10 sent", res)
				}
			}
			for _, c := range clients {
				for i := range 3 {
					typ, data, err := c.ReadMessage(bg)
					if want := fmt.Sprintf("message %d", i); err != nil || typ != frame.OpText || string(data) != want {
						t.Fatalf("client read %v %q %v, want %q", typ, data, err, want)
					}
				}
			}
			if res := m.Broadcast(frame.Opcode(frame.OpPing), nil); res != (BroadcastResult{Dropped: 10}) {
				t.Errorf("Broadcast of an invalid type: %+v, want all dropped", res)
			}
		})
	}
}

// TestBroadcastBlockedWaitsOnce: two stalled sessions with PolicyBlock
// delay a broadcast by one SlowTimeout, not two, and the healthy session
// gets every message.
func TestBroadcastBlockedWaitsOnce(t *testing.T) {
	const slow = 300 * time.Millisecond
	opts := &Options{SendQueueSize: 2, SlowTimeout: slow}
	m := NewManager(nil)
	s1, _ := stalledPair(t, opts)
	s2, _ := stalledPair(t, opts)
	m.Add(s1)
	m.Add(s2)
	client := clientSessions(t, m, 1, opts)[0]
	big := make([]byte, 256<<10)
	var last BroadcastResult
	var took time.Duration
	sent := 0
	// The two stalled sockets need not fill at the same broadcast (their
	// writers and buffers run apart): go on until both drop in one.
	for i := 0; last.Dropped < 2; i++ {
		if i == 100 {
			t.Fatal("the stalled sessions never filled up")
		}
		start := time.Now()
		last = m.Broadcast(frame.OpBinary, big)
		took = time.Since(start)
		sent++
		// The healthy client keeps up.
		if _, data, err := client.ReadMessage(bg); err != nil || len(data) != len(big) {
			t.Fatalf("healthy client: %d bytes, %v", len(data), err)
		}
	}
	if last != (BroadcastResult{Sent: 1, Dropped: 2}) {
		t.Errorf("last broadcast %+v, want 1 sent and 2 dropped", last)
	}
	if took < slow-10*time.Millisecond || took > 2*slow-50*time.Millisecond {
		t.Errorf("a broadcast with two sessions blocked took %v, want about one SlowTimeout (%v)", took, slow)
	}
}

// TestCloseAll: every session gets a 1001 close frame, the handshakes run
// at once, and the manager ends up empty.
func TestCloseAll(t *testing.T) {
	m := NewManager(nil)
	const n = 50
	clients := clientSessions(t, m, n, &Options{SendQueueSize: 2})
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() { c.Serve(bg) })
	}
	start := time.Now()
	if err := m.CloseAll(bg, frame.StatusGoingAway, "shutting down"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("CloseAll took %v", d)
	}
	wg.Wait()
	for i, c := range clients {
		var ce *CloseError
		if !errors.As(c.Err(), &ce) || ce.Code != frame.StatusGoingAway || ce.Reason != "shutting down" {
			t.Fatalf("client %d ended with %v, want 1001 \"shutting down\"", i, c.Err())
		}
	}
	if m.Len() != 0 {
		t.Errorf("Len after CloseAll = %d, want 0", m.Len())
	}
}

// TestCloseAllContext: a peer that neither reads nor answers cannot hold
// CloseAll past its context.
func TestCloseAllContext(t *testing.T) {
	m := NewManager(nil)
	s, _ := stalledPair(t, &Options{SendQueueSize: 2, SlowPolicy: PolicyDrop})
	m.Add(s)
	fill(t, s, time.Second)
	ctx, cancel := context.WithTimeout(bg, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := m.CloseAll(ctx, frame.StatusGoingAway, ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("CloseAll = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("CloseAll took %v after its context ended", d)
	}
	if s.Err() == nil || m.Len() != 0 {
		t.Errorf("after CloseAll: session err %v, Len %d", s.Err(), m.Len())
	}
}

// TestBroadcastStalledClient broadcasts 1 KiB messages to stressN sessions
// over loopback TCP (10,000 descriptors with both ends) where one client
// never reads. The broadcasts go in lock step (the next once every healthy
// client has the last), so the time each takes to reach everyone shows
// whether the stalled client holds anyone up: it must not grow while the
// stalled client's queue fills, nor after it is closed with 1013.
func TestBroadcastStalledClient(t *testing.T) {
	if testing.Short() {
		t.Skip("5,000 connections")
	}
	n, size, stalledAt := stressN, 1024, stressN/2
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	m := NewManager(nil)
	opts := &Options{SendQueueSize: 4, SlowPolicy: PolicyClose, SlowTimeout: time.Second}
	clients := make([]net.Conn, 0, n)
	servers := make([]*Session, 0, n)
	t.Cleanup(func() {
		for _, s := range servers {
			s.CloseNow()
		}
		for _, c := range clients {
			c.Close()
		}
	})
	for i := range n {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		clients = append(clients, c)
		nc, err := ln.Accept()
		if err != nil {
			t.Fatalf("accept %d: %v", i, err)
		}
		if i == stalledAt {
			// Kernel buffers at their minimum: a few KiB stall it.
			c.(*net.TCPConn).SetReadBuffer(1)
			nc.(*net.TCPConn).SetWriteBuffer(1)
		}
		cc := conn.New(nc, conn.Server, nil)
		cc.Open(nil)
		s := New(cc, opts)
		servers = append(servers, s)
		m.Add(s)
	}
	stalled := servers[stalledAt]
	// The stalled client stopped reading before the test starts: fill its
	// path (socket buffers) first, so that a few broadcasts fill its queue.
	for i := 0; ; i++ {
		if err := stalled.Enqueue(frame.OpBinary, make([]byte, 16<<10)); err != nil {
			t.Fatalf("filling the stalled client's path: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
		if len(stalled.q.ch) > 0 {
			break // the writer is stuck in a write
		}
		if i == 1000 {
			t.Fatal("the stalled client's path never filled")
		}
	}

	// Each healthy client reads numbered binary messages until a text
	// message, and records when it got that.
	var wg sync.WaitGroup
	var received atomic.Int64
	errs := make(chan error, n)
	for i, c := range clients {
		if i == stalledAt {
			continue
		}
		wg.Go(func() {
			c.SetReadDeadline(time.Now().Add(60 * time.Second))
			br := bufio.NewReaderSize(c, 4096)
			buf := make([]byte, size)
			for want := uint32(0); ; want++ {
				h, err := readHeader(br)
				if err == nil && h.Length > int64(size) {
					err = fmt.Errorf("%d-byte frame", h.Length)
				}
				if err == nil {
					_, err = io.ReadFull(br, buf[:h.Length])
				}
				if err != nil {
					errs <- fmt.Errorf("client %d, message %d: %v", i, want, err)
					return
				}
				if h.Opcode == frame.OpText {
					return
				}
				if got := binary.BigEndian.Uint32(buf[:]); got != want || !h.Fin || h.Length != int64(size) {
					errs <- fmt.Errorf("client %d: message %d (%v) where %d was due", i, got, h, want)
					return
				}
				received.Add(1)
			}
		})
	}

	// Broadcast until the stalled session has been closed, and a few more.
	var total BroadcastResult
	var slowest, latest time.Duration     // Broadcast calls; until all had it
	var lagBefore, lagAfter time.Duration // latest before and after the close
	msg := make([]byte, size)
	extra := 0
	for i := 0; extra < 3; i++ {
		if i == 100 {
			t.Fatal("the stalled session was never closed")
		}
		binary.BigEndian.PutUint32(msg, uint32(i))
		start := time.Now()
		res := m.Broadcast(frame.OpBinary, msg)
		slowest = max(slowest, time.Since(start))
		total.Sent += res.Sent
		total.Dropped += res.Dropped
		total.Closed += res.Closed
		for received.Load() < int64((i+1)*(n-1)) {
			if time.Since(start) > 30*time.Second {
				t.Fatalf("broadcast %d reached %d of %d healthy clients in 30 s", i, received.Load()-int64(i*(n-1)), n-1)
			}
			if len(errs) > 0 {
				t.Fatal(<-errs)
			}
			time.Sleep(100 * time.Microsecond)
		}
		lag := time.Since(start)
		latest = max(latest, lag)
		if stalled.q.slowFired.Load() {
			extra++
			lagAfter = max(lagAfter, lag)
		} else {
			lagBefore = max(lagBefore, lag)
		}
	}
	end := m.Broadcast(frame.OpText, []byte("end"))
	t.Logf("%d broadcasts to %d sessions: %+v; slowest Broadcast call %v; slowest to reach every healthy client %v (%v while the stalled queue filled, %v after)",
		total.Sent/(n-1), n, total, slowest, latest, lagBefore, lagAfter)
	// The stalled session may still be in its close grace period.
	if end.Sent != n-1 || end.Dropped != 0 || end.Closed > 1 {
		t.Errorf("final broadcast %+v, want %d sent", end, n-1)
	}
	if total.Dropped != 0 || total.Closed < 1 {
		t.Errorf("totals %+v: want nothing dropped and the stalled session closed", total)
	}
	// Generous bounds for a loaded machine (an idle one needs tens of
	// milliseconds a round; one shared with other work may need seconds);
	// without the queue and its policy, a stalled peer would hold every
	// later broadcast for ever.
	if slowest > 10*time.Second || latest > 20*time.Second {
		t.Errorf("slowest Broadcast %v, slowest delivery %v: something waited for the stalled client", slowest, latest)
	}

	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	select {
	case <-stalled.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the stalled session did not end")
	}
	var ce *CloseError
	if err := stalled.Err(); !errors.As(err, &ce) || ce.Code != frame.StatusTryAgainLater {
		t.Fatalf("stalled session ended with %v, want 1013", err)
	}
	if _, ok := m.Get(stalled.ID()); ok || m.Len() != n-1 {
		t.Errorf("the stalled session is still registered (Len %d)", m.Len())
	}
}

// stressN is the number of sessions of TestBroadcastStalledClient: 5,000
// (10,000 descriptors), or fewer under the race detector (race_test.go),
// which slows each of the 5,000 writers and readers tenfold.
var stressN = 5000

// countConn is a net.Conn that discards what is written to it, counting
// the bytes into a shared counter, and whose reads block until Close: the
// server side of a broadcast without the kernel.
type countConn struct {
	n      *atomic.Int64
	closed chan struct{}
	once   sync.Once
}

func (c *countConn) Write(p []byte) (int, error) {
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	c.n.Add(int64(len(p)))
	return len(p), nil
}
func (c *countConn) Read([]byte) (int, error)         { <-c.closed; return 0, net.ErrClosed }
func (c *countConn) Close() error                     { c.once.Do(func() { close(c.closed) }); return nil }
func (c *countConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *countConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *countConn) SetDeadline(time.Time) error      { return nil }
func (c *countConn) SetReadDeadline(time.Time) error  { return nil }
func (c *countConn) SetWriteDeadline(time.Time) error { return nil }

// BenchmarkBroadcast sends one 1 KiB message to 1,000 sessions per op and
// waits until every session has written it, over connections that discard
// what they get: the library's own cost per broadcast, without the kernel
// (bench/cmd/broadcast measures it over TCP with the clients in another
// process). prepared is Manager.Broadcast (framed once, queued); enqueue
// queues the message to each session, which frames it; naive calls
// WriteMessage on each session in turn.
func BenchmarkBroadcast(b *testing.B) {
	const n, size = 1000, 1024
	msg := make([]byte, size)
	for _, method := range []string{"prepared", "enqueue", "naive"} {
		b.Run(method, func(b *testing.B) {
			var written atomic.Int64
			m := NewManager(nil)
			sessions := make([]*Session, n)
			for i := range sessions {
				c := conn.New(&countConn{n: &written, closed: make(chan struct{})}, conn.Server, nil)
				c.Open(nil)
				sessions[i] = New(c, &Options{SendQueueSize: 64})
				m.Add(sessions[i])
			}
			defer func() {
				for _, s := range sessions {
					s.CloseNow()
				}
			}()
			send := map[string]func(){
				"prepared": func() { m.Broadcast(frame.OpBinary, msg) },
				"enqueue": func() {
					for _, s := range sessions {
						s.Enqueue(frame.OpBinary, msg)
					}
				},
				"naive": func() {
					for _, s := range sessions {
						s.WriteMessage(bg, frame.OpBinary, msg)
					}
				},
			}[method]
			frameSize := int64(frame.Header{Length: size}.Size() + size)
			want := int64(0)
			b.ReportAllocs()
			for b.Loop() {
				send()
				want += n * frameSize
				for written.Load() < want {
					runtime.Gosched()
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/session")
		})
	}
}
