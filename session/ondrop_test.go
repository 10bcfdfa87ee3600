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
