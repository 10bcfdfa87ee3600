package session

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/rfc6455/websocket/frame"
)

// A context that ends after its call has returned must not leave a
// deadline behind for the calls that follow, which read or write without
// a context of their own.

// TestContextEndedAfterWrite: the common WithTimeout, write, cancel. The
// writes after it that do not go through the write watch (a ping, the
// send queue's writer, the close frame, the heartbeat's pings) still
// succeed, and the session stays up.
func TestContextEndedAfterWrite(t *testing.T) {
	for _, next := range []string{"Ping", "queue", "Close", "heartbeat"} {
		t.Run(next, func(t *testing.T) {
			opts := &Options{SendQueueSize: 4}
			if next == "heartbeat" {
				opts.PingInterval = 10 * time.Millisecond
				opts.PongTimeout = time.Second
			}
			got := make(chan string, 4)
			client, server := pair(t, opts, &Options{OnMessage: func(_ *Session, _ frame.Opcode, p []byte) { got <- string(p) }})
			served := serving(server)
			ctx, cancel := context.WithTimeout(bg, time.Minute)
			err := client.WriteMessage(ctx, frame.OpText, []byte("with a context"))
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			// The context's AfterFunc runs on a goroutine of its own.
			time.Sleep(20 * time.Millisecond)
			if m := <-got; m != "with a context" {
				t.Fatalf("server got %q", m)
			}
			switch next {
			case "Ping":
				if err := client.Ping(bg, []byte("p")); err != nil {
					t.Fatalf("Ping after the context ended: %v", err)
				}
			case "queue":
				if err := client.Enqueue(frame.OpText, []byte("queued")); err != nil {
					t.Fatal(err)
				}
				select {
				case m := <-got:
					if m != "queued" {
						t.Fatalf("server got %q, want the queued message", m)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("the queued message did not arrive; client: %v", client.Err())
				}
			case "Close":
				if err := client.Close(frame.StatusNormalClosure, "done"); err != nil {
					t.Fatalf("Close after the context ended: %v", err)
				}
				if ce := waitEnded(t, client); ce.Code != frame.StatusNormalClosure {
					t.Fatalf("client ended with %v, want the close handshake's 1000", ce)
				}
				if err := <-served; err != nil {
					t.Fatalf("server Serve: %v, want a clean close", err)
				}
				return
			case "heartbeat":
				waitFor(t, func() bool { return client.RTT() > 0 || client.Err() != nil })
				if client.RTT() == 0 {
					t.Fatalf("no pong measured; the session ended with %v", client.Err())
				}
			}
			if err := client.Err(); err != nil {
				t.Fatalf("the session ended: %v", err)
			}
			if err := client.WriteMessage(bg, frame.OpText, []byte("still up")); err != nil {
				t.Fatal(err)
			}
			if m := <-got; m != "still up" {
				t.Fatalf("server got %q", m)
			}
		})
	}
}

// TestPingContextFiresAsWriteCompletes: Ping's own watch fires after the
// ping was written (the moment between the write and the watch's stop);
// the deadline it set is cleared again before Ping returns.
func TestPingContextFiresAsWriteCompletes(t *testing.T) {
	client, server := pair(t, nil, nil)
	served := serving(server)
	ctx, cancel := context.WithCancel(bg)
	release := client.watchWrite(ctx)
	cancel() // starts the AfterFunc, which sets the write deadline in the past
	release()
	if err := client.Ping(bg, nil); err != nil {
		t.Fatalf("a ping after the watched one: %v", err)
	}
	if err := client.Close(frame.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	<-served
}

// TestStreamContextEndedBeforeFirstFrame: a NextWriter stream whose context
// ends before any frame went out sends nothing and returns the context's
// error, harmlessly: the session stays up.
func TestStreamContextEndedBeforeFirstFrame(t *testing.T) {
	got := make(chan string, 2)
	client, server := pair(t, nil, &Options{OnMessage: func(_ *Session, _ frame.Opcode, p []byte) { got <- string(p) }})
	served := serving(server)
	ctx, cancel := context.WithCancel(bg)
	w, err := client.NextWriter(ctx, frame.OpText)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("never sent")) // buffered: less than a fragment
	cancel()
	time.Sleep(20 * time.Millisecond)
	if err := w.Close(); !errors.Is(err, context.Canceled) {
		t.Fatalf("stream Close after its context ended: %v, want context.Canceled", err)
	}
	if err := client.WriteMessage(bg, frame.OpText, []byte("next")); err != nil {
		t.Fatalf("write after the cancelled stream: %v", err)
	}
	if m := <-got; m != "next" {
		t.Fatalf("server got %q, want only the next message", m)
	}
	client.CloseNow()
	<-served
}

// TestStreamReadContextEnded: a NextReader stream whose context ends
// between two Reads returns the context's error from the next Read rather
// than waiting for bytes, and the session stays up.
func TestStreamReadContextEnded(t *testing.T) {
	client, server := pair(t, nil, &Options{FragmentSize: 5})
	w, err := server.NextWriter(bg, frame.OpBinary)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("01234567")) // one full fragment goes out
	ctx, cancel := context.WithCancel(bg)
	_, r, err := client.NextReader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	time.Sleep(20 * time.Millisecond)
	within(t, 10*time.Second, "the Read after the context ended", func() {
		if _, err := r.Read(buf); !errors.Is(err, context.Canceled) {
			t.Errorf("Read: %v, want context.Canceled", err)
		}
	})
	if err := client.Err(); err != nil {
		t.Fatalf("the session ended: %v", err)
	}
	w.Close()
}
