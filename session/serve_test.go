package session

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/rfc6455/websocket/frame"
)

// TestServeCancelledResumes: Serve whose context expires in the middle of
// a message returns the context's error and leaves what arrived of the
// message to the next read, which gets it whole.
func TestServeCancelledResumes(t *testing.T) {
	got := make(chan string, 1)
	client, server := pair(t, &Options{FragmentSize: 10}, &Options{OnMessage: func(s *Session, typ frame.Opcode, data []byte) {
		got <- string(data)
	}})
	w, err := client.NextWriter(bg, frame.OpText)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("first half, "))
	w.Write([]byte("x")) // a full fragment goes out when more follows
	ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
	defer cancel()
	if err := server.Serve(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Serve: %v, want DeadlineExceeded", err)
	}
	select {
	case m := <-got:
		t.Fatalf("OnMessage got %q before the message was whole", m)
	default:
	}
	w.Write([]byte(" second half"))
	w.Close()
	typ, data, err := server.ReadMessage(bg)
	if err != nil || typ != frame.OpText || string(data) != "first half, x second half" {
		t.Fatalf("read after the cancelled Serve: %v %q %v", typ, data, err)
	}
}

// TestServeIdleHoldsNoMessageBuffer: sessions served by Serve or
// ServeDetached that have handled a large message and wait for the next
// hold no message buffer: the heap does not grow by the message size per
// session.
func TestServeIdleHoldsNoMessageBuffer(t *testing.T) {
	const n, size = 24, 256 << 10
	for _, detached := range []bool{false, true} {
		echo := &Options{OnMessage: func(s *Session, typ frame.Opcode, data []byte) {
			s.WriteMessage(bg, typ, data[:1])
		}}
		msg := make([]byte, size)
		heap := func() uint64 {
			runtime.GC()
			runtime.GC() // the second empties the pools' victim caches
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			return ms.HeapInuse
		}
		before := heap()
		for range n {
			client, server := pair(t, nil, echo)
			if detached {
				server.ServeDetached(bg, nil)
			} else {
				go server.Serve(bg)
			}
			if err := client.WriteMessage(bg, frame.OpBinary, msg); err != nil {
				t.Fatal(err)
			}
			if _, _, err := client.ReadMessage(bg); err != nil {
				t.Fatal(err)
			}
		}
		// The last server gives its buffer back just after its reply:
		// allow it a moment.
		var per int64
		for deadline := time.Now().Add(2 * time.Second); ; {
			per = (int64(heap()) - int64(before)) / n
			if per < size/4 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if per >= size/4 {
			t.Errorf("detached %v: %d idle sessions hold %d heap bytes each after a %d-byte message", detached, n, per, size)
		}
	}
}
