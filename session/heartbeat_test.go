package session

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/testutil"
)

// The heartbeat of a session that nobody reads (Options.PingInterval in the
// goroutine mode): it reads the control frames itself, stops before data,
// and gives the read side to a reader at once.

// serving starts server.Serve and returns a channel with its result.
func serving(server *Session) <-chan error {
	done := make(chan error, 1)
	go func() { done <- server.Serve(bg) }()
	return done
}

// within runs f on a goroutine of its own and fails the test unless it
// returns within d.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
	}
}

// heartbeatReads runs the heartbeat's read (readControl) by hand, with a
// tick of longTick, on a goroutine of its own, and returns once it holds
// the read side, with a channel closed when it returns. It tries again
// while the read side is taken for a moment (a context's watch clearing
// its deadline).
func heartbeatReads(t *testing.T, s *Session) <-chan struct{} {
	t.Helper()
	for range 1000 {
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.readControl(time.Now().Add(longTick))
		}()
		for !s.hb.holding.Load() {
			select {
			case <-done:
			case <-time.After(time.Millisecond):
				continue
			}
			break
		}
		if s.hb.holding.Load() {
			return done
		}
		<-done
	}
	t.Fatal("the heartbeat never took the read side")
	return nil
}

// TestHeartbeatWriteOnly: a session that only writes, with PingInterval,
// stays up through many pong timeouts against a peer that answers pings:
// its heartbeat reads the pongs. Close then completes the handshake while
// the heartbeat reads.
func TestHeartbeatWriteOnly(t *testing.T) {
	var got atomic.Int64
	client, server := pair(t,
		&Options{PingInterval: 10 * time.Millisecond, PongTimeout: 100 * time.Millisecond, CloseTimeout: time.Minute},
		&Options{OnMessage: func(*Session, frame.Opcode, []byte) { got.Add(1) }})
	served := serving(server)
	const n = 100 // 10 ms apart: ten pong timeouts
	for i := range n {
		if err := client.WriteMessage(bg, frame.OpText, []byte("only writing")); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := client.Err(); err != nil {
		t.Fatalf("the session ended: %v", err)
	}
	if client.RTT() == 0 {
		t.Error("RTT() = 0: no pong was seen")
	}
	within(t, 10*time.Second, "Close", func() {
		if err := client.Close(frame.StatusNormalClosure, "done"); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if ce := waitEnded(t, client); ce.Code != frame.StatusNormalClosure {
		t.Errorf("client ended with %v, want 1000", ce)
	}
	if err := <-served; err != nil {
		t.Errorf("server Serve: %v, want nil after the close handshake", err)
	}
	if got.Load() != n {
		t.Errorf("server got %d messages, want %d", got.Load(), n)
	}
}

// TestHeartbeatDeadPeer: a peer that answers nothing, whether it drains
// what it gets or has stalled, still ends a write-only session with
// ErrPongTimeout, and a later write returns that CloseError.
func TestHeartbeatDeadPeer(t *testing.T) {
	for _, peer := range []string{"silent", "stalled"} {
		t.Run(peer, func(t *testing.T) {
			a, b := testutil.LoopbackPair(t)
			if peer == "silent" {
				go io.Copy(io.Discard, b) // ends when the test closes b
			}
			c := conn.New(a, conn.Client, nil)
			c.Open(nil)
			s := New(c, &Options{PingInterval: 10 * time.Millisecond, PongTimeout: 40 * time.Millisecond})
			t.Cleanup(func() { s.CloseNow() })
			var err error
			within(t, 10*time.Second, "writing until the pong timeout", func() {
				for err == nil {
					err = s.WriteMessage(bg, frame.OpBinary, []byte("anyone there?"))
					time.Sleep(5 * time.Millisecond)
				}
			})
			checkEnded(t, "the write after the pong timeout", s, err, frame.StatusAbnormalClosure)
			if !errors.Is(err, ErrPongTimeout) || errors.Is(err, errPongUnread) {
				t.Errorf("write = %v, want ErrPongTimeout (nothing was left unread)", err)
			}
			checkEnded(t, "a later write", s, s.WriteMessage(bg, frame.OpText, nil), frame.StatusAbnormalClosure)
		})
	}
}

// TestHeartbeatUnreadMessage: a message that nobody reads hides the pongs
// behind it; the session ends with errPongUnread, an ErrPongTimeout, and
// the message is not handed out after the end.
func TestHeartbeatUnreadMessage(t *testing.T) {
	client, server := pair(t, &Options{PingInterval: 10 * time.Millisecond, PongTimeout: 40 * time.Millisecond}, nil)
	served := serving(server) // answers the pings
	if err := server.WriteMessage(bg, frame.OpText, []byte("nobody reads me")); err != nil {
		t.Fatal(err)
	}
	ce := waitEnded(t, client)
	if ce.Code != frame.StatusAbnormalClosure || ce.Err != errPongUnread || !errors.Is(ce, ErrPongTimeout) {
		t.Fatalf("client ended with %v, want 1006 with errPongUnread, an ErrPongTimeout", ce)
	}
	_, _, err := client.ReadMessage(bg)
	checkEnded(t, "ReadMessage after the end", client, err, frame.StatusAbnormalClosure)
	checkEnded(t, "WriteMessage after the end", client, client.WriteMessage(bg, frame.OpText, nil), frame.StatusAbnormalClosure)
	<-served
}

// The tests below run the heartbeat's read (readControl) by hand, with a
// tick of half an hour: a reader that had to wait for the tick's end would
// wait that long, so returning within seconds shows the hand-over.
const longTick = time.Hour

// TestHeartbeatGivesWayToReader: a reader that starts while the heartbeat
// waits in the read takes the read side at once, and gets a fragmented
// message intact.
func TestHeartbeatGivesWayToReader(t *testing.T) {
	client, server := pair(t, &Options{PingInterval: longTick}, &Options{FragmentSize: 100})
	hb := heartbeatReads(t, client)
	type result struct {
		data []byte
		err  error
	}
	read := make(chan result, 1)
	go func() {
		_, data, err := client.ReadMessage(bg)
		read <- result{data, err}
	}()
	select {
	case <-hb:
	case <-time.After(10 * time.Second):
		t.Fatal("the heartbeat did not give the read side to the reader")
	}
	msg := bytes.Repeat([]byte("0123456789"), 1000) // 100 frames
	if err := server.WriteMessage(bg, frame.OpBinary, msg); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-read:
		if r.err != nil || !bytes.Equal(r.data, msg) {
			t.Fatalf("ReadMessage: %d bytes, %v; want the %d bytes sent", len(r.data), r.err, len(msg))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ReadMessage did not return")
	}
}

// TestHeartbeatStopsBeforeData: the heartbeat answers the peer's ping, then
// stops at the data frame behind it and returns, leaving the message whole
// for the application's next read.
func TestHeartbeatStopsBeforeData(t *testing.T) {
	var mu sync.Mutex
	var pongs []string
	client, server := pair(t, &Options{PingInterval: longTick}, &Options{
		FragmentSize: 100,
		OnPong: func(_ *Session, p []byte) {
			mu.Lock()
			pongs = append(pongs, string(p))
			mu.Unlock()
		},
	})
	served := serving(server)
	if err := server.Ping(bg, []byte("alive?")); err != nil {
		t.Fatal(err)
	}
	msg := bytes.Repeat([]byte("abcdefghij"), 500)
	if err := server.WriteMessage(bg, frame.OpText, msg); err != nil {
		t.Fatal(err)
	}
	within(t, 10*time.Second, "the heartbeat's read", func() {
		for {
			// Until the message has arrived: before it, the heartbeat
			// waits for the tick's end, which the next read's ends.
			client.readControl(time.Now().Add(50 * time.Millisecond))
			if client.c.Buffered() > 0 {
				return
			}
		}
	})
	if op, ok := client.c.PeekOpcode(); !ok || op != frame.OpText {
		t.Fatalf("PeekOpcode() = %v, %v: want the message's first frame, unread", op, ok)
	}
	waitFor(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(pongs) == 1
	})
	mu.Lock()
	if pongs[0] != "alive?" {
		t.Errorf("the server's pong carried %q, want %q", pongs[0], "alive?")
	}
	mu.Unlock()
	typ, data, err := client.ReadMessage(bg)
	if err != nil || typ != frame.OpText || !bytes.Equal(data, msg) {
		t.Fatalf("ReadMessage: %v %d bytes %v; want the text of %d bytes", typ, len(data), err, len(msg))
	}
	client.CloseNow()
	<-served
}

// TestHeartbeatCloseWhileReading: Close while the heartbeat reads takes
// the read side from it and completes the close handshake, long before
// the close timeout.
func TestHeartbeatCloseWhileReading(t *testing.T) {
	client, server := pair(t, &Options{PingInterval: longTick, CloseTimeout: time.Minute}, nil)
	hb := heartbeatReads(t, client)
	serverErr := make(chan error, 1)
	go func() {
		_, _, err := server.ReadMessage(bg)
		serverErr <- err
	}()
	within(t, 10*time.Second, "Close", func() {
		if err := client.Close(frame.StatusNormalClosure, "bye"); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	<-hb
	if ce := waitEnded(t, client); ce.Code != frame.StatusNormalClosure || ce.Err != nil {
		t.Errorf("client ended with %v, want the server's 1000", ce)
	}
	var ce *CloseError
	if err := <-serverErr; !errors.As(err, &ce) || ce.Code != frame.StatusNormalClosure || ce.Reason != "bye" {
		t.Errorf("server read %v, want the client's 1000 \"bye\"", err)
	}
}

// TestHeartbeatLeavesDriverAlone: while Serve drives the session, the
// heartbeat does not read, even between messages (OnMessage runs with the
// read side free); once Serve has returned, it reads again.
func TestHeartbeatLeavesDriverAlone(t *testing.T) {
	inHandler, release := make(chan struct{}), make(chan struct{})
	client, server := pair(t, &Options{
		PingInterval: longTick,
		OnMessage: func(*Session, frame.Opcode, []byte) {
			inHandler <- struct{}{}
			<-release
		},
	}, nil)
	ctx, stop := context.WithCancel(bg)
	served := make(chan error, 1)
	go func() { served <- client.Serve(ctx) }()
	if err := server.WriteMessage(bg, frame.OpText, []byte("to Serve")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-inHandler:
	case <-time.After(10 * time.Second):
		t.Fatal("OnMessage was not called")
	}
	within(t, 10*time.Second, "readControl beside Serve", func() {
		client.readControl(time.Now().Add(longTick))
	})
	close(release)
	stop()
	if err := <-served; !errors.Is(err, context.Canceled) {
		t.Fatalf("Serve: %v, want context.Canceled", err)
	}
	hb := heartbeatReads(t, client)
	if err := server.WriteMessage(bg, frame.OpText, []byte("after Serve")); err != nil {
		t.Fatal(err)
	}
	_, data, err := client.ReadMessage(bg)
	if err != nil || string(data) != "after Serve" {
		t.Fatalf("ReadMessage: %q %v", data, err)
	}
	<-hb
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
	}
}
