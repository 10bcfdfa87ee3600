package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/testutil"
)

// pair returns a client and a server session over loopback TCP.
func pair(t testing.TB, clientOpts, serverOpts *Options) (client, server *Session) {
	a, b := testutil.LoopbackPair(t)
	cc, sc := conn.New(a, conn.Client, nil), conn.New(b, conn.Server, nil)
	cc.Open(nil)
	sc.Open(nil)
	client, server = New(cc, clientOpts), New(sc, serverOpts)
	t.Cleanup(func() { client.CloseNow(); server.CloseNow() })
	return client, server
}

var bg = context.Background()

func TestMessagesBothWays(t *testing.T) {
	client, server := pair(t, &Options{FragmentSize: 1000}, nil)
	msgs := []struct {
		typ  frame.Opcode
		data []byte
	}{
		{frame.OpText, []byte("hello")},
		{frame.OpBinary, []byte{}},
		{frame.OpText, []byte("κόσμε, ünïcödé across fragment boundaries: " + string(bytes.Repeat([]byte("€"), 2000)))},
		{frame.OpBinary, bytes.Repeat([]byte{1, 2, 3}, 100000)},
	}
	go func() {
		for _, m := range msgs {
			if err := client.WriteMessage(bg, m.typ, m.data); err != nil {
				t.Error(err)
			}
		}
	}()
	for i, m := range msgs {
		typ, data, err := server.ReadMessage(bg)
		if err != nil || typ != m.typ || !bytes.Equal(data, m.data) {
			t.Fatalf("message %d: %v %d bytes %v", i, typ, len(data), err)
		}
	}
	if st := server.Conn().Stats(); st.MessagesIn != uint64(len(msgs)) || st.FramesIn < 300 {
		t.Errorf("server stats %+v: want %d messages in many frames", st, len(msgs))
	}
}

// TestCancelledReadResumes: a read whose context expires mid-message
// returns the context's error; the next read gets the whole message.
func TestCancelledReadResumes(t *testing.T) {
	client, server := pair(t, &Options{FragmentSize: 10}, nil)
	w, err := client.NextWriter(bg, frame.OpText)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("first half, "))
	// Force the first fragments out: a full fragment goes out when more follows.
	w.Write([]byte("x"))
	ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
	defer cancel()
	_, _, err = server.ReadMessage(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadMessage: %v, want DeadlineExceeded", err)
	}
	w.Write([]byte(" second half"))
	w.Close()
	typ, data, err := server.ReadMessage(bg)
	if err != nil || typ != frame.OpText || string(data) != "first half, x second half" {
		t.Fatalf("after the cancelled read: %v %q %v", typ, data, err)
	}
	// And the session still works both ways.
	server.WriteMessage(bg, frame.OpText, []byte("still here"))
	if _, data, err := client.ReadMessage(bg); err != nil || string(data) != "still here" {
		t.Fatalf("reply: %q %v", data, err)
	}
}

func TestNextReaderAndWriter(t *testing.T) {
	client, server := pair(t, nil, &Options{FragmentSize: 4096})
	want := bytes.Repeat([]byte("stream "), 10000)
	go func() {
		w, err := server.NextWriter(bg, frame.OpBinary)
		if err != nil {
			t.Error(err)
			return
		}
		for p := want; len(p) > 0; p = p[min(len(p), 777):] {
			w.Write(p[:min(len(p), 777)])
		}
		w.Close()
	}()
	typ, r, err := client.NextReader(bg)
	if err != nil || typ != frame.OpBinary {
		t.Fatal(typ, err)
	}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("stream: %d bytes %v", len(got), err)
	}
	if frames := client.Conn().Stats().FramesIn; frames != uint64((len(want)+4095)/4096) {
		t.Errorf("%d frames, want %d", frames, (len(want)+4095)/4096)
	}
}

// TestConcurrentMessages: whole messages never interleave, even when
// fragmented, and each writer's order holds.
func TestConcurrentMessages(t *testing.T) {
	client, server := pair(t, &Options{FragmentSize: 64}, nil)
	const writers, each = 6, 50
	var wg sync.WaitGroup
	for id := 0; id < writers; id++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; seq < each; seq++ {
				msg := fmt.Sprintf("%d %d %s", id, seq, bytes.Repeat([]byte{byte('a' + id)}, 300))
				if err := client.WriteMessage(bg, frame.OpText, []byte(msg)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	next := make([]int, writers)
	for i := 0; i < writers*each; i++ {
		_, data, err := server.ReadMessage(bg)
		if err != nil {
			t.Fatal(err)
		}
		var id, seq int
		var pad string
		fmt.Sscanf(string(data), "%d %d %s", &id, &seq, &pad)
		if seq != next[id] || pad != string(bytes.Repeat([]byte{byte('a' + id)}, 300)) {
			t.Fatalf("message %q out of order or mixed", data[:min(len(data), 40)])
		}
		next[id]++
	}
	wg.Wait()
}

func TestCloseHandshakeServerInitiates(t *testing.T) {
	client, server := pair(t, nil, nil)
	got := make(chan error, 1)
	go func() {
		_, _, err := client.ReadMessage(bg)
		got <- err
	}()
	if err := server.Close(frame.StatusGoingAway, "bye"); err != nil {
		t.Fatal(err)
	}
	err := <-got
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != frame.StatusGoingAway || ce.Reason != "bye" {
		t.Fatalf("client got %v, want CloseError 1001 bye", err)
	}
	select {
	case <-client.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("client session not done")
	}
	if server.Conn().State() != conn.Closed || client.Conn().State() != conn.Closed {
		t.Fatalf("states %v %v", server.Conn().State(), client.Conn().State())
	}
}

// TestCloseWithoutReader: Close reads the peer's close frame itself.
func TestCloseWithoutReader(t *testing.T) {
	client, server := pair(t, nil, nil)
	serverErr := make(chan error, 1)
	go func() {
		err := server.Serve(bg)
		serverErr <- err
	}()
	start := time.Now()
	if err := client.Close(frame.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Close took %v", d)
	}
	if err := <-serverErr; err != nil {
		t.Fatalf("server Serve: %v, want nil after a clean close", err)
	}
	var ce *CloseError
	if !errors.As(server.Err(), &ce) || ce.Code != frame.StatusNormalClosure {
		t.Fatalf("server Err: %v", server.Err())
	}
}

func TestUserData(t *testing.T) {
	_, server := pair(t, nil, nil)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				server.Set(i, j)
				if v, ok := server.Get(i); !ok || v.(int) != j {
					t.Errorf("Get(%d) = %v %v", i, v, ok)
				}
			}
			server.Delete(i)
		}()
	}
	wg.Wait()
	if _, ok := server.Get(3); ok {
		t.Error("Get after Delete found a value")
	}
}

func TestOnCloseOnce(t *testing.T) {
	calls := make(chan error, 4)
	client, server := pair(t, nil, &Options{OnClose: func(s *Session, err error) { calls <- err }})
	go server.Serve(bg)
	client.Close(frame.StatusNormalClosure, "done")
	server.Close(frame.StatusNormalClosure, "")
	server.CloseNow()
	select {
	case err := <-calls:
		var ce *CloseError
		if !errors.As(err, &ce) || ce.Code != frame.StatusNormalClosure || ce.Reason != "done" {
			t.Fatalf("OnClose got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OnClose not called")
	}
	select {
	case err := <-calls:
		t.Fatalf("OnClose called twice (%v)", err)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestIdleTimeout(t *testing.T) {
	// Nobody reads on either side, so the close handshake cannot finish:
	// the session ends after the idle timeout plus the close timeout.
	_, server := pair(t, nil, &Options{IdleTimeout: 100 * time.Millisecond, CloseTimeout: 100 * time.Millisecond})
	start := time.Now()
	select {
	case <-server.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("idle session not closed")
	}
	if d := time.Since(start); d < 90*time.Millisecond {
		t.Fatalf("closed after %v, before the idle timeout", d)
	}
	if !errors.Is(server.Err(), ErrIdleTimeout) {
		t.Fatalf("Err = %v, want the idle timeout", server.Err())
	}
}

// TestAppendMessageZeroAllocs: reading into a reused buffer and writing do
// not allocate.
func TestAppendMessageZeroAllocs(t *testing.T) {
	client, server := pair(t, nil, nil)
	msg := bytes.Repeat([]byte("z"), 1000)
	buf := make([]byte, 0, 4096)
	client.WriteMessage(bg, frame.OpBinary, msg)
	server.AppendMessage(bg, buf[:0])
	allocs := testing.AllocsPerRun(200, func() {
		if err := client.WriteMessage(bg, frame.OpText, msg); err != nil {
			t.Fatal(err)
		}
		if _, _, err := server.AppendMessage(bg, buf[:0]); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per message, want 0", allocs)
	}
}

// TestCloseFromOnMessage: a push-style handler may close the session from
// its callback; the close handshake completes without waiting for the
// close timeout.
func TestCloseFromOnMessage(t *testing.T) {
	closed := make(chan time.Duration, 1)
	client, server := pair(t, nil, &Options{CloseTimeout: 3 * time.Second,
		OnMessage: func(s *Session, typ frame.Opcode, data []byte) {
			start := time.Now()
			s.Close(frame.StatusNormalClosure, "got it")
			closed <- time.Since(start)
		}})
	go server.Serve(bg)
	go client.Serve(bg)
	client.WriteMessage(bg, frame.OpText, []byte("hi"))
	select {
	case d := <-closed:
		if d > time.Second {
			t.Fatalf("Close from OnMessage took %v", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close from OnMessage did not return")
	}
	<-client.Done()
}

// TestCancellableContextZeroAllocs: a loop that reads and writes with one
// cancellable context (r.Context() in a handler) allocates nothing per
// message; the context's cancellation is registered once.
func TestCancellableContextZeroAllocs(t *testing.T) {
	client, server := pair(t, nil, nil)
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	msg := bytes.Repeat([]byte("z"), 1000)
	buf := make([]byte, 0, 4096)
	client.WriteMessage(ctx, frame.OpBinary, msg)
	server.AppendMessage(ctx, buf[:0])
	allocs := testing.AllocsPerRun(200, func() {
		if err := client.WriteMessage(ctx, frame.OpText, msg); err != nil {
			t.Fatal(err)
		}
		if _, _, err := server.AppendMessage(ctx, buf[:0]); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per message with a cancellable context, want 0", allocs)
	}
	// The registration still works: cancelling interrupts a blocked read,
	// and a later read with a fresh context succeeds.
	go func() {
		time.Sleep(20 * time.Millisecond)
		cancel()
	}()
	if _, _, err := server.ReadMessage(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("read with a cancelled context: %v", err)
	}
	client.WriteMessage(bg, frame.OpText, []byte("after"))
	ctx2, cancel2 := context.WithTimeout(bg, 5*time.Second)
	defer cancel2()
	if _, data, err := server.ReadMessage(ctx2); err != nil || string(data) != "after" {
		t.Fatalf("read after the cancellation: %q %v", data, err)
	}
}

// TestReadBufferReleasedAtEnd: once the close handshake is over, neither
// side's connection still holds a pooled read buffer: the reader gives it
// back to the pool rather than leave it to the garbage collector with the
// connection (4 KiB of garbage per connection otherwise). The buffer is
// conn.Conn's unexported rpb, looked at through reflect.
func TestReadBufferReleasedAtEnd(t *testing.T) {
	holds := func(s *Session) bool {
		return !reflect.ValueOf(s.c).Elem().FieldByName("rpb").IsNil()
	}
	client, server := pair(t, nil, nil)
	if err := client.WriteMessage(bg, frame.OpText, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := server.ReadMessage(bg); err != nil {
		t.Fatal(err)
	}
	got := make(chan bool, 1)
	go func() {
		_, _, err := client.ReadMessage(bg) // reads the server's close frame
		var ce *CloseError
		if !errors.As(err, &ce) {
			t.Errorf("client read %v, want a CloseError", err)
		}
		got <- holds(client) // on the reader's goroutine, as the buffer is the reader's
	}()
	if err := server.Close(frame.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	if holds(server) {
		t.Error("the server's connection still holds its read buffer after the close handshake")
	}
	if <-got {
		t.Error("the client's connection still holds its read buffer after the close handshake")
	}
}
