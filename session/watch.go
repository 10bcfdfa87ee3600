package session

import (
	"context"
	"sync"
	"time"
)

// aLongTimeAgo is a deadline in the past: it makes a blocked read or write
// return at once with a timeout.
var aLongTimeAgo = time.Unix(1, 0)

// deadlineWatch turns the cancellation of a context into a deadline in the
// past on one direction of the connection, so that a blocked read or write
// returns. It registers each distinct context once and keeps the
// registration across calls: a loop that reads or writes with the same
// context (r.Context() in a handler) pays nothing per message. A new
// context replaces the old registration and clears any deadline it set.
type deadlineWatch struct {
	mu   sync.Mutex
	ctx  context.Context // the registered context, nil if none
	stop func() bool
	set  func(time.Time) error // SetReadDeadline or SetWriteDeadline
}

// watch makes ctx the context whose cancellation interrupts this direction.
// The caller serializes calls (readMu or msgMu).
func (w *deadlineWatch) watch(ctx context.Context) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ctx == w.ctx || (w.ctx == nil && ctx.Done() == nil) {
		return
	}
	if w.ctx != nil {
		w.stop()
		w.ctx, w.stop = nil, nil
		w.set(time.Time{}) // undo what the old context may have done
	}
	if ctx.Done() == nil {
		return
	}
	w.ctx = ctx
	w.stop = context.AfterFunc(ctx, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.ctx == ctx {
			w.set(aLongTimeAgo)
		}
	})
}

// close drops the registration, so that a long-lived context does not keep
// the session reachable after it ended.
func (w *deadlineWatch) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ctx != nil {
		w.stop()
		w.ctx, w.stop = nil, nil
	}
}

// readWatch makes ctx the context whose cancellation interrupts reads
// (deadlineWatch); readMu is held.
func (s *Session) readWatch(ctx context.Context) {
	w := s.rwatch.Load()
	if w == nil {
		if ctx.Done() == nil {
			return // nothing to watch, and no watch to clear
		}
		w = &deadlineWatch{set: s.c.SetReadDeadline}
		s.rwatch.Store(w)
	}
	w.watch(ctx)
}

// writeWatch is readWatch for writes; msgMu is held.
func (s *Session) writeWatch(ctx context.Context) {
	w := s.wwatch.Load()
	if w == nil {
		if ctx.Done() == nil {
			return
		}
		w = &deadlineWatch{set: s.c.SetWriteDeadline}
		s.wwatch.Store(w)
	}
	w.watch(ctx)
}
