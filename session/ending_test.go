package session

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/websocket/frame"
)

// Every call after the end returns the session's *CloseError: the same
// value as Err, with the code and reason it ended with, matching
// net.ErrClosed and, through Err, the cause.

// waitEnded waits, bounded, for s to end and returns its Err.
func waitEnded(t *testing.T, s *Session) *CloseError {
	t.Helper()
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the session did not end")
	}
	var ce *CloseError
	if !errors.As(s.Err(), &ce) {
		t.Fatalf("Err() = %v, want a *CloseError", s.Err())
	}
	return ce
}

// checkEnded checks that err is s's result, which is a *CloseError with
// code and matches net.ErrClosed.
func checkEnded(t *testing.T, what string, s *Session, err error, code frame.StatusCode) {
	t.Helper()
	var ce *CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("%s = %v (%T), want a *CloseError", what, err, err)
	}
	if err != s.Err() {
		t.Errorf("%s = %v, want the session's result %v", what, err, s.Err())
	}
	if ce.Code != code {
		t.Errorf("%s: code %v, want %v", what, ce.Code, code)
	}
	if !errors.Is(err, net.ErrClosed) {
		t.Errorf("%s = %v: errors.Is(err, net.ErrClosed) is false", what, err)
	}
}

// callsAfterEnd makes every kind of call on an ended session and checks
// that each returns the session's CloseError.
func callsAfterEnd(t *testing.T, s *Session, code frame.StatusCode) {
	t.Helper()
	checkEnded(t, "WriteMessage", s, s.WriteMessage(bg, frame.OpText, []byte("late")), code)
	checkEnded(t, "Enqueue", s, s.Enqueue(frame.OpBinary, []byte("late")), code)
	checkEnded(t, "Ping", s, s.Ping(bg, nil), code)
	_, err := s.NextWriter(bg, frame.OpText)
	checkEnded(t, "NextWriter", s, err, code)
	_, _, err = s.ReadMessage(bg)
	checkEnded(t, "ReadMessage", s, err, code)
	_, _, err = s.NextReader(bg)
	checkEnded(t, "NextReader", s, err, code)
	// A cancelled context says less than the end does.
	ctx, cancel := context.WithCancel(bg)
	cancel()
	checkEnded(t, "WriteMessage with a cancelled context", s, s.WriteMessage(ctx, frame.OpText, nil), code)
	_, _, err = s.ReadMessage(ctx)
	checkEnded(t, "ReadMessage with a cancelled context", s, err, code)
}

// TestPeerCloseThenCalls: the peer closes with 1001 while we read; every
// later call returns CloseError 1001 with the peer's reason.
func TestPeerCloseThenCalls(t *testing.T) {
	client, server := pair(t, &Options{SendQueueSize: 4}, nil)
	go server.Close(frame.StatusGoingAway, "bye")
	_, _, err := client.ReadMessage(bg)
	checkEnded(t, "the read that met the close", client, err, frame.StatusGoingAway)
	if ce := waitEnded(t, client); ce.Reason != "bye" || ce.Err != nil {
		t.Errorf("Err() = %+v, want reason %q and no cause", ce, "bye")
	}
	callsAfterEnd(t, client, frame.StatusGoingAway)
}

// TestCloseNowThenCalls: after CloseNow, reads and writes return the
// 1006 CloseError that CloseNow ended the session with.
func TestCloseNowThenCalls(t *testing.T) {
	client, _ := pair(t, &Options{SendQueueSize: 4}, nil)
	client.CloseNow()
	if ce := waitEnded(t, client); ce.Code != frame.StatusAbnormalClosure || !errors.Is(ce, net.ErrClosed) {
		t.Fatalf("Err() = %v, want 1006", ce)
	}
	callsAfterEnd(t, client, frame.StatusAbnormalClosure)
}

// TestStreamAfterEnd: a NextWriter stream opened before the end returns
// the CloseError from the Write that sends a frame and from Close.
func TestStreamAfterEnd(t *testing.T) {
	client, _ := pair(t, &Options{FragmentSize: 16}, nil)
	w, err := client.NextWriter(bg, frame.OpBinary)
	if err != nil {
		t.Fatal(err)
	}
	client.CloseNow()
	waitEnded(t, client)
	_, err = w.Write(make([]byte, 64)) // more than a fragment: a frame goes out
	checkEnded(t, "stream Write", client, err, frame.StatusAbnormalClosure)
	checkEnded(t, "stream Close", client, w.Close(), frame.StatusAbnormalClosure)
}

// TestConcurrentWritersWhileEnding: writers blocked against a peer that
// does not read, and writers still starting, all get the session's
// CloseError when it ends, never the socket's error. Run with -race.
func TestConcurrentWritersWhileEnding(t *testing.T) {
	for _, how := range []string{"CloseNow", "peer close"} {
		t.Run(how, func(t *testing.T) {
			client, server := pair(t, nil, nil)
			const writers = 8
			errc := make(chan error, writers)
			var started sync.WaitGroup
			for i := range writers {
				started.Add(1)
				go func() {
					msg := make([]byte, 1000+i)
					started.Done()
					for {
						if err := client.WriteMessage(bg, frame.OpBinary, msg); err != nil {
							errc <- err
							return
						}
					}
				}()
			}
			started.Wait()
			time.Sleep(20 * time.Millisecond) // let the socket buffers fill
			want := frame.StatusAbnormalClosure
			if how == "CloseNow" {
				client.CloseNow()
			} else {
				// The server sends its close frame (the session's write
				// path is not blocked: the client is the one that writes)
				// and then reads, discarding, until the client's answer;
				// the client's reader sees the close.
				want = frame.StatusGoingAway
				go server.Close(frame.StatusGoingAway, "bye")
				_, _, err := client.ReadMessage(bg)
				checkEnded(t, "ReadMessage", client, err, want)
			}
			for range writers {
				select {
				case err := <-errc:
					checkEnded(t, "a concurrent write", client, err, want)
				case <-time.After(10 * time.Second):
					t.Fatal("a writer did not return after the end")
				}
			}
		})
	}
}
