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
//
// A kept registration outlives the call that made it, and the context
// usually ends after that call has returned (ctx, cancel := WithTimeout;
// Write; cancel()). The deadline is connection-wide, and other calls read
// or write without a context of their own: the heartbeat's pings, pongs,
// close frames, the send queue's writer, Close reading until the peer's
// close frame. So the deadline is set only while a call of this direction
// is under way, that is while busy (readMu or msgMu, which every such call
// holds) is locked with the context still registered, and it is cleared
// again once that call has returned. A context that ends between two calls
// only marks the registration fired, and the next call with it does not
// start (watch reports false). Callers that hold busy without a context
// drop the registration first (drop), so that a context ending meanwhile
// cannot take them for its own call.
type deadlineWatch struct {
	mu    sync.Mutex
	ctx   context.Context // the registered context, nil if none
	stop  func() bool
	fired bool                  // ctx has ended
	set   func(time.Time) error // SetReadDeadline or SetWriteDeadline
	busy  *sync.Mutex           // held by every call of this direction
}

// watch makes ctx the context whose cancellation interrupts this direction.
// It reports false when ctx is the registered context and has ended: the
// caller returns ctx.Err() without reading or writing. The caller holds
// busy.
func (w *deadlineWatch) watch(ctx context.Context) bool {
	w.mu.Lock()
	if ctx == w.ctx {
		ok := !w.fired
		w.mu.Unlock()
		return ok
	}
	defer w.mu.Unlock()
	done := ctx.Done()
	if w.ctx == nil && done == nil {
		return true
	}
	w.dropLocked()
	if done == nil {
		return true
	}
	w.ctx = ctx
	w.stop = context.AfterFunc(ctx, func() { w.fire(ctx) })
	return true
}

// fire runs when ctx ends: it interrupts the call under way with ctx, if
// one is, and once that call has returned clears the deadline again.
func (w *deadlineWatch) fire(ctx context.Context) {
	w.mu.Lock()
	if w.ctx != ctx {
		w.mu.Unlock()
		return // replaced meanwhile
	}
	w.fired = true
	if w.busy.TryLock() {
		// No call under way (TryLock never waits, so the order
		// busy-then-mu of the callers cannot deadlock with it): nothing
		// to interrupt, and the next call with ctx does not start.
		w.busy.Unlock()
		w.mu.Unlock()
		return
	}
	// busy is held by a call with ctx, which the deadline interrupts;
	// or by one about to register another context or to drop this one
	// (the callers that hold busy without a context), which clears the
	// deadline again; or by the heartbeat reading for nobody, which then
	// ends its read early, harmlessly.
	w.set(aLongTimeAgo)
	w.mu.Unlock()
	w.busy.Lock()
	w.mu.Lock()
	if w.ctx == ctx {
		w.set(time.Time{})
	}
	w.mu.Unlock()
	w.busy.Unlock()
}

// drop ends the registration, for a caller that holds busy and reads or
// writes without a context, and clears any deadline it set.
func (w *deadlineWatch) drop() {
	w.mu.Lock()
	w.dropLocked()
	w.mu.Unlock()
}

func (w *deadlineWatch) dropLocked() {
	if w.ctx != nil {
		w.stop()
		w.ctx, w.stop, w.fired = nil, nil, false
		w.set(time.Time{}) // undo what the old context may have done
	}
}

// close drops the registration, so that a long-lived context does not keep
// the session reachable after it ended. The deadline is left alone: the
// connection is closed.
func (w *deadlineWatch) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ctx != nil {
		w.stop()
		w.ctx, w.stop = nil, nil
	}
}

// readWatch makes ctx the context whose cancellation interrupts reads
// (deadlineWatch); readMu is held. It reports false when ctx has ended
// since an earlier read registered it.
func (s *Session) readWatch(ctx context.Context) bool {
	w := s.rwatch.Load()
	if w == nil {
		if ctx.Done() == nil {
			return true // nothing to watch, and no watch to clear
		}
		w = &deadlineWatch{set: s.c.SetReadDeadline, busy: &s.readMu}
		s.rwatch.Store(w)
	}
	return w.watch(ctx)
}

// writeWatch is readWatch for writes; msgMu is held.
func (s *Session) writeWatch(ctx context.Context) bool {
	w := s.wwatch.Load()
	if w == nil {
		if ctx.Done() == nil {
			return true
		}
		w = &deadlineWatch{set: s.c.SetWriteDeadline, busy: &s.msgMu}
		s.wwatch.Store(w)
	}
	return w.watch(ctx)
}

// dropReadWatch is for a reader without a context (Close); readMu is held.
func (s *Session) dropReadWatch() {
	if w := s.rwatch.Load(); w != nil {
		w.drop()
	}
}

// dropWriteWatch is for a writer without a context (the send queue's, a
// broadcast); msgMu is held.
func (s *Session) dropWriteWatch() {
	if w := s.wwatch.Load(); w != nil {
		w.drop()
	}
}
