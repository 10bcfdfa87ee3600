package session

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/websocket/frame"
)

// TestOnDrop: OnDrop sees every message a full queue drops, under
// PolicyDrop at once and under PolicyBlock after SlowTimeout, and nothing
// for the messages it accepted.
func TestOnDrop(t *testing.T) {
	for _, policy := range []SlowPolicy{PolicyDrop, PolicyBlock} {
		t.Run(policy.String(), func(t *testing.T) {
			var drops atomic.Int32
			var from atomic.Pointer[Session]
			opts := &Options{SendQueueSize: 4, SlowPolicy: policy, SlowTimeout: 20 * time.Millisecond,
				OnDrop: func(s *Session) { drops.Add(1); from.Store(s) }}
			s, _ := stalledPair(t, opts)
			if _, err := fill(t, s, 100*time.Millisecond); err == nil {
				t.Fatal("the queue never filled")
			}
			if n := drops.Load(); n != 1 {
				t.Fatalf("OnDrop called %d times after one drop", n)
			}
			s.Enqueue(frame.OpBinary, numbered(-1, 10))
			if n := drops.Load(); n != 2 {
				t.Errorf("OnDrop called %d times after two drops", n)
			}
			if from.Load() != s {
				t.Errorf("OnDrop got another session")
			}
		})
	}
}

// TestOnDropBroadcast: Broadcast's drops reach OnDrop too, one per
// BroadcastResult.Dropped.
func TestOnDropBroadcast(t *testing.T) {
	var drops atomic.Int32
	s, _ := stalledPair(t, &Options{SendQueueSize: 2, SlowPolicy: PolicyDrop, OnDrop: func(*Session) { drops.Add(1) }})
	m := NewManager(nil)
	m.Add(s)
	dropped := 0
	for i := 0; i < 1000 && dropped < 3; i++ {
		dropped += m.Broadcast(frame.OpBinary, make([]byte, 16<<10)).Dropped
		time.Sleep(time.Millisecond)
	}
	if dropped < 3 {
		t.Fatalf("Broadcast dropped %d messages to a stalled peer", dropped)
	}
	if n := drops.Load(); int(n) != dropped {
		t.Errorf("OnDrop called %d times for %d drops", n, dropped)
	}
}
