package session

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/errs"
	"github.com/rfc6455/websocket/internal/testutil"
)

// stalledPair returns a server session with opts over loopback TCP and the
// raw client end, which the test does not read until it says so: once the
// socket buffers are full (a few MiB on loopback), the server's writes
// stall.
func stalledPair(t *testing.T, opts *Options) (*Session, net.Conn) {
	t.Helper()
	raw, srv := testutil.LoopbackPair(t)
	c := conn.New(srv, conn.Server, nil)
	c.Open(nil)
	s := New(c, opts)
	t.Cleanup(func() { s.CloseNow() })
	return s, raw
}

// rawFrame reads one unmasked frame from a raw client connection.
func rawFrame(r io.Reader) (frame.Header, []byte, error) {
	h, err := readHeader(r)
	if err != nil {
		return h, nil, err
	}
	p := make([]byte, h.Length)
	_, err = io.ReadFull(r, p)
	return h, p, err
}

// readHeader reads one frame header from r a byte at a time, so that it
// reads nothing past the header.
func readHeader(r io.Reader) (frame.Header, error) {
	var b [frame.MaxHeaderSize]byte
	for n := 0; ; {
		if _, err := io.ReadFull(r, b[n:n+1]); err != nil {
			if n > 0 && err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return frame.Header{}, err
		}
		n++
		if h, m, err := frame.ParseHeader(b[:n]); err != nil || m > 0 {
			return h, err
		}
	}
}

// numbered is a binary message of size bytes that starts with i.
func numbered(i, size int) []byte {
	b := make([]byte, size)
	binary.BigEndian.PutUint32(b, uint32(i))
	return b
}

// fill enqueues numbered 16 KiB messages until Enqueue fails, and returns
// the error and how many were accepted. Until the peer stalls, it lets the
// writer drain the queue after each message, so that the queue fills
// because of the peer, not because the writer has not run yet. It fails the
// test if the queue never fills or if the failing call took longer than
// max.
func fill(t *testing.T, s *Session, max time.Duration) (int, error) {
	t.Helper()
	stalled := false
	for i := range 10000 {
		start := time.Now()
		err := s.Enqueue(frame.OpBinary, numbered(i, 16<<10))
		if err != nil {
			if d := time.Since(start); d > max {
				t.Errorf("Enqueue #%d took %v to fail, want at most %v", i, d, max)
			}
			if !stalled {
				t.Errorf("Enqueue #%d failed (%v) before the peer stalled", i, err)
			}
			return i, err
		}
		// A queue that has not drained for a while is no sign of a
		// stall: on a loaded machine the writer may just not have run.
		deadline := time.Now().Add(10 * time.Second)
		for !stalled && len(s.q.ch) > 0 {
			if writerBlocked() {
				stalled = true
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the writer neither drained the queue nor blocked on the socket in 10s")
			}
			time.Sleep(time.Millisecond)
		}
	}
	t.Fatal("the send queue never filled against a peer that does not read")
	return 0, nil
}

// writerBlocked reports whether a session's writer goroutine is parked in
// the poller waiting for room in its socket's send buffer: the kernel
// would take no more, which on loopback means the peer has stopped
// reading. (Session tests do not run in parallel, so the only writer is
// the test's.)
func writerBlocked() bool {
	buf := make([]byte, 1<<20)
	for g := range bytes.SplitSeq(buf[:runtime.Stack(buf, true)], []byte("\n\n")) {
		if bytes.Contains(g, []byte("session.(*Session).writeLoop")) && bytes.Contains(g, []byte("waitWrite")) {
			return true
		}
	}
	return false
}

// unstall lets the raw peer read at full speed from now on.
func unstall(raw net.Conn) *bufio.Reader {
	raw.SetReadDeadline(time.Now().Add(10 * time.Second))
	return bufio.NewReaderSize(raw, 64<<10)
}

func TestSlowPolicyString(t *testing.T) {
	for p, want := range map[SlowPolicy]string{PolicyBlock: "block", PolicyDrop: "drop", PolicyClose: "close", 7: "slowpolicy(7)"} {
		if got := p.String(); got != want {
			t.Errorf("SlowPolicy(%d).String() = %q, want %q", p, got, want)
		}
	}
}

// TestEnqueueOrder: messages enqueued by one goroutine arrive in order,
// whole, through a small queue that fills and drains many times; small
// ones are batched, large ones fragmented.
func TestEnqueueOrder(t *testing.T) {
	client, server := pair(t, nil, &Options{SendQueueSize: 4, FragmentSize: 1000})
	const n = 500
	sizes := []int{4, 100, 5000}
	errc := make(chan error, 1)
	go func() {
		for i := range n {
			if err := server.Enqueue(frame.OpBinary, numbered(i, sizes[i%len(sizes)])); err != nil {
				errc <- fmt.Errorf("Enqueue %d: %w", i, err)
				return
			}
		}
		errc <- nil
	}()
	for i := range n {
		typ, data, err := client.ReadMessage(bg)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if typ != frame.OpBinary || len(data) != sizes[i%len(sizes)] || binary.BigEndian.Uint32(data) != uint32(i) {
			t.Fatalf("message %d: got %v, %d bytes, number %d", i, typ, len(data), binary.BigEndian.Uint32(data))
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	// 5000-byte messages in 1000-byte fragments: more frames than messages.
	if st := server.Conn().Stats(); st.MessagesOut != n || st.FramesOut <= n {
		t.Errorf("server stats: %d messages in %d frames, want %d messages in more frames", st.MessagesOut, st.FramesOut, n)
	}
}

// TestEnqueueWithoutQueue: SendQueueSize 0 writes synchronously, and no
// writer goroutine starts.
func TestEnqueueWithoutQueue(t *testing.T) {
	client, server := pair(t, nil, nil)
	if err := server.Enqueue(frame.OpText, []byte("sync")); err != nil {
		t.Fatal(err)
	}
	if st := server.Conn().Stats(); st.MessagesOut != 1 {
		t.Fatalf("MessagesOut = %d right after Enqueue, want 1 (a synchronous write)", st.MessagesOut)
	}
	if err := server.enqueuePrepared(conn.Prepare(frame.OpBinary, []byte{1, 2})); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"sync", "\x01\x02"} {
		if _, data, err := client.ReadMessage(bg); err != nil || string(data) != want {
			t.Fatalf("ReadMessage = %q, %v; want %q", data, err, want)
		}
	}
	if server.q != nil {
		t.Error("a session without SendQueueSize has a queue")
	}
}

func TestEnqueueInvalid(t *testing.T) {
	_, server := pair(t, nil, &Options{SendQueueSize: 2})
	if err := server.Enqueue(frame.Opcode(frame.OpPing), nil); err != errMessageType {
		t.Errorf("Enqueue(ping) = %v, want errMessageType", err)
	}
	if err := server.enqueuePrepared(conn.Prepare(frame.OpClose, nil)); err != errMessageType {
		t.Errorf("enqueuePrepared(close frame) = %v, want errMessageType", err)
	}
}

// TestEnqueuePreparedClient: a client session cannot send the server's
// unmasked bytes; the prepared frame is masked on the way out.
func TestEnqueuePreparedClient(t *testing.T) {
	client, server := pair(t, &Options{SendQueueSize: 2}, nil)
	p := conn.Prepare(frame.OpText, []byte("masked for you"))
	if err := client.enqueuePrepared(p); err != nil {
		t.Fatal(err)
	}
	if typ, data, err := server.ReadMessage(bg); err != nil || typ != frame.OpText || string(data) != "masked for you" {
		t.Fatalf("server read %v %q %v", typ, data, err)
	}
}

func TestEnqueueAfterEnd(t *testing.T) {
	_, server := pair(t, nil, &Options{SendQueueSize: 2})
	server.CloseNow()
	err := server.Enqueue(frame.OpText, []byte("late"))
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != frame.StatusAbnormalClosure {
		t.Fatalf("Enqueue after CloseNow = %v, want the session's *CloseError", err)
	}
}

// TestPolicyDrop: against a peer that does not read, Enqueue fails fast
// with ErrQueueFull and the session stays up; once the peer reads, it gets
// every message that was accepted, in order.
func TestPolicyDrop(t *testing.T) {
	s, raw := stalledPair(t, &Options{SendQueueSize: 4, SlowPolicy: PolicyDrop})
	accepted, err := fill(t, s, 100*time.Millisecond)
	if err != ErrQueueFull {
		t.Fatalf("Enqueue on a full queue = %v, want ErrQueueFull", err)
	}
	if err := s.Enqueue(frame.OpBinary, numbered(-1, 10)); err != ErrQueueFull {
		t.Fatalf("again: %v, want ErrQueueFull", err)
	}
	if s.Err() != nil {
		t.Fatalf("PolicyDrop ended the session: %v", s.Err())
	}
	br := unstall(raw)
	for i := range accepted {
		h, p, err := rawFrame(br)
		if err != nil || h.Opcode != frame.OpBinary || binary.BigEndian.Uint32(p) != uint32(i) {
			t.Fatalf("frame %d: %v %v number %d", i, h, err, binary.BigEndian.Uint32(p))
		}
	}
}

// TestPolicyBlock: Enqueue on a full queue waits SlowTimeout and then
// drops the message; a wait that sees room in time succeeds.
func TestPolicyBlock(t *testing.T) {
	const slow = 200 * time.Millisecond
	s, raw := stalledPair(t, &Options{SendQueueSize: 4, SlowTimeout: slow})
	accepted, err := fill(t, s, 5*slow)
	if err != errQueueTimeout || !errors.Is(err, ErrQueueFull) || !errors.Is(err, errs.ErrQueueFull) {
		t.Fatalf("Enqueue on a full queue = %v, want errQueueTimeout, which is an ErrQueueFull", err)
	}
	start := time.Now()
	if err := s.Enqueue(frame.OpBinary, numbered(accepted, 16<<10)); err != errQueueTimeout {
		t.Fatalf("again: %v, want errQueueTimeout", err)
	}
	if d := time.Since(start); d < slow-10*time.Millisecond || d > 5*slow {
		t.Errorf("Enqueue waited %v, want about SlowTimeout (%v)", d, slow)
	}

	// Now the peer reads: a blocked Enqueue gets room before its deadline.
	s.opts.SlowTimeout = 10 * time.Second // read by the next Enqueue only
	errc := make(chan error, 1)
	go func() { errc <- s.Enqueue(frame.OpBinary, numbered(accepted, 16<<10)) }()
	br := unstall(raw)
	for i := range accepted + 1 {
		h, p, err := rawFrame(br)
		if err != nil || binary.BigEndian.Uint32(p) != uint32(i) {
			t.Fatalf("frame %d: %v %v number %d", i, h, err, binary.BigEndian.Uint32(p))
		}
	}
	if err := <-errc; err != nil {
		t.Fatalf("blocked Enqueue = %v, want nil once the peer reads", err)
	}
}

// TestPolicyClose: a full queue closes the session with SlowCloseCode. A
// peer that starts reading within SlowTimeout gets the queued messages and
// then the close frame.
func TestPolicyClose(t *testing.T) {
	for _, code := range []frame.StatusCode{frame.StatusPolicyViolation, 0} {
		t.Run(code.String(), func(t *testing.T) {
			want := code
			if want == 0 {
				want = frame.StatusTryAgainLater // the default
			}
			s, raw := stalledPair(t, &Options{SendQueueSize: 4, SlowPolicy: PolicyClose, SlowCloseCode: code, SlowTimeout: 5 * time.Second})
			// Well under SlowTimeout: the policy does not wait for room.
			if _, err := fill(t, s, 2*time.Second); err != ErrSlowConsumer {
				t.Fatalf("Enqueue on a full queue = %v, want ErrSlowConsumer", err)
			}
			if err := s.Enqueue(frame.OpBinary, []byte("x")); err != ErrSlowConsumer {
				t.Errorf("Enqueue after the policy fired = %v, want ErrSlowConsumer", err)
			}
			br := unstall(raw)
			for i := 0; ; i++ {
				h, p, err := rawFrame(br)
				if err != nil {
					t.Fatalf("frame %d: %v, want data frames and then a close frame", i, err)
				}
				if h.Opcode == frame.OpClose {
					got, reason, err := frame.ParseClosePayload(p)
					if err != nil || got != want || reason != "slow consumer" {
						t.Fatalf("close frame %d %q %v, want %d \"slow consumer\"", got, reason, err, want)
					}
					break
				}
				if n := binary.BigEndian.Uint32(p); n != uint32(i) {
					t.Fatalf("frame %d carries message %d", i, n)
				}
			}
			select {
			case <-s.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("the slow session did not end")
			}
			var ce *CloseError
			if err := s.Err(); !errors.As(err, &ce) || ce.Code != want || !errors.Is(err, ErrSlowConsumer) {
				t.Fatalf("Err() = %v, want code %d wrapping ErrSlowConsumer", err, want)
			}
		})
	}
}

// TestPolicyCloseDeadPeer: a peer that never reads again does not keep the
// slow session beyond SlowTimeout.
func TestPolicyCloseDeadPeer(t *testing.T) {
	const slow = 300 * time.Millisecond
	s, _ := stalledPair(t, &Options{SendQueueSize: 2, SlowPolicy: PolicyClose, SlowTimeout: slow})
	if _, err := fill(t, s, 100*time.Millisecond); err != ErrSlowConsumer {
		t.Fatalf("Enqueue on a full queue = %v, want ErrSlowConsumer", err)
	}
	select {
	case <-s.Done():
	case <-time.After(slow + 3*time.Second): // conn.Close may spend its own flush timeout
		t.Fatal("the slow session outlived SlowTimeout")
	}
	if !errors.Is(s.Err(), ErrSlowConsumer) {
		t.Fatalf("Err() = %v, want ErrSlowConsumer", s.Err())
	}
}

// TestWriterEndsOnWriteError: the writer goroutine ends the session when
// the connection breaks; nothing waits for ever.
func TestWriterEndsOnWriteError(t *testing.T) {
	s, raw := stalledPair(t, &Options{SendQueueSize: 64})
	raw.(*net.TCPConn).SetLinger(0)
	raw.Close() // a reset: the next write fails
	deadline := time.After(5 * time.Second)
	for i := 0; s.Err() == nil; i++ {
		s.Enqueue(frame.OpBinary, numbered(i, 1024))
		select {
		case <-deadline:
			t.Fatal("the session did not notice the broken connection")
		case <-time.After(time.Millisecond):
		}
	}
	var ce *CloseError
	if !errors.As(s.Err(), &ce) || ce.Code != frame.StatusAbnormalClosure {
		t.Fatalf("Err() = %v, want 1006", s.Err())
	}
}

// TestEnqueueConcurrentWithClose: Enqueue from many goroutines while the
// session closes: no panic, no race, no goroutine left (TestMain checks).
func TestEnqueueConcurrentWithClose(t *testing.T) {
	client, server := pair(t, nil, &Options{SendQueueSize: 8, SlowPolicy: PolicyDrop})
	go client.Serve(bg)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				server.Enqueue(frame.OpText, []byte(fmt.Sprint(g, i)))
			}
		})
	}
	time.Sleep(time.Millisecond)
	server.Close(frame.StatusNormalClosure, "")
	wg.Wait()
	client.Close(frame.StatusNormalClosure, "")
}
