package session

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/bufpool"
	"github.com/rfc6455/websocket/internal/defaults"
)

// ErrBudget is the cause (CloseError.Err) of a session ended with 1013
// (try again later) because it waited longer than its Budget's Wait for
// memory to read its message into.
var ErrBudget = errors.New("websocket: memory budget exhausted")

// errStarved is what a read on an event loop returns when the budget
// refused it memory: the driver pauses the socket and tries again (see
// pauseForBudget). It never reaches a caller.
var errStarved = errors.New("websocket: waiting for the memory budget")

// errBudgetTimeout is Budget.acquire's: the wait ran out.
var errBudgetTimeout = errors.New("websocket: memory budget wait timed out")

// errBudgetEvicted is Budget.acquire's: the session gives way to others
// that are further along (see stall.go).
var errBudgetEvicted = errors.New("websocket: memory budget stalemate")

// budgetFree is what a buffer may hold without counting against a
// Budget: a small message (a page of it) that fits a buffer the session
// already has costs no atomic operation. What every connection holds this
// way is bounded by the number of connections, like its read buffer.
const budgetFree = 4 << 10

// A Budget bounds the bytes that the messages of many sessions hold in
// memory at once: the buffers whole messages are reassembled in
// (AppendMessage's growth, the driver's message buffer, a message cut short
// by a cancelled read), the compressed bytes of a compressed message, and
// its decompressed output. A session asks for the bytes before a buffer
// grows, and gives them back when the buffer goes back to its pool, so a
// peer's message costs the budget only what has arrived of it, and a
// compression bomb only what has been inflated of it, piece by piece. A
// buffer above 64 KiB that a message outgrew, or that goes to the garbage
// collector rather than to a pool, counts until a collection has freed it
// (see collect.go): the budget bounds the heap's message bytes, garbage
// included, and a refused session has collections run.
//
// A session the budget refuses stops reading its socket, so that TCP flow
// control pushes back on its peer, and waits, for at most Wait in all per
// message: on the reading goroutine, woken as soon as another session
// gives bytes back; on an event loop, which must never wait, the socket's
// reading is paused and the read is tried again on the loop's timers
// (after 1 ms, backing off to 32 ms). A session still refused then is
// closed with 1013 (try again later, ErrBudget), and one whose message
// could never fit (a growth past Size) with 1009 at once. When the
// sessions that wait hold everything and none of their growths fits, they
// do not all wait out Wait: the one furthest along is served, and the
// fewest of the least far along that make room for it give way at once
// with 1013 (see stall.go).
//
// The first 4 KiB of each buffer are free: small messages cost no atomic
// operation. NextReader streams read into the caller's memory and are not
// counted. A Budget is safe for concurrent use; a Budget of size 0 or less
// bounds and counts nothing.
type Budget struct {
	size int64
	wait time.Duration

	used       atomic.Int64
	peak       atomic.Int64
	waiting    atomic.Int32 // goroutines in acquire
	spiked     atomic.Bool  // used passed half the size since the last give-back
	junk       junk         // bytes of outgrown buffers not known to be collected (collect.go)
	collecting atomic.Bool  // collectNow's collections run

	// A stalemate's favoured session, and the bytes set aside for it
	// (stall.go): others leave them free.
	favoured atomic.Pointer[Session]
	aside    atomic.Int64

	mu     sync.Mutex
	wake   chan struct{} // closed when bytes come back while someone waits
	stalls stalls        // the sessions refused now (stall.go), guarded by mu
}

// NewBudget returns a Budget of size bytes, whose sessions wait at most
// wait for memory (0: the default, 2 s).
func NewBudget(size int64, wait time.Duration) *Budget {
	if wait <= 0 {
		wait = defaults.BudgetWait
	}
	return &Budget{size: size, wait: wait}
}

// Size returns the number of bytes the budget allows, 0 or less for no bound.
func (b *Budget) Size() int64 { return b.size }

// Wait returns how long a session waits for memory before it is closed.
func (b *Budget) Wait() time.Duration { return b.wait }

// Used returns the number of bytes held now: by sessions, and by the
// buffers they let go of until a collection frees them.
func (b *Budget) Used() int64 { return b.used.Load() }

// Peak returns the largest number of bytes held at once so far: never
// more than Size.
func (b *Budget) Peak() int64 { return b.peak.Load() }

// limited reports whether b bounds anything (b may be nil).
func (b *Budget) limited() bool { return b != nil && b.size > 0 }

// tryAcquire takes n bytes if they fit.
func (b *Budget) tryAcquire(n int64) bool { return b.tryAcquireLeaving(n, 0) }

// take takes n bytes for s if they fit beside what is set aside for
// another session (stall.go).
func (b *Budget) take(s *Session, n int64) bool {
	var keep int64
	if a := b.aside.Load(); a > 0 && b.favoured.Load() != s {
		keep = a
	}
	return b.tryAcquireLeaving(n, keep)
}

// tryAcquireLeaving takes n bytes if they fit and leave keep free.
func (b *Budget) tryAcquireLeaving(n, keep int64) bool {
	for {
		u := b.used.Load()
		if u+n+keep > b.size {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			if u+n > b.size/2 && !b.spiked.Load() {
				b.spiked.Store(true)
			}
			for {
				p := b.peak.Load()
				if u+n <= p || b.peak.CompareAndSwap(p, u+n) {
					return true
				}
			}
		}
	}
}

// acquire takes n bytes for s, which holds s.charged, waiting until
// deadline for them, or until ctx is done (its error is returned). It
// returns errBudgetTimeout when the deadline passes first, and
// errBudgetEvicted when s is chosen to give way in a stalemate (stall.go).
func (b *Budget) acquire(ctx context.Context, s *Session, n int64, deadline time.Time) error {
	if b.take(s, n) {
		return nil
	}
	b.waiting.Add(1)
	defer b.waiting.Add(-1)
	defer b.unstall(s)
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	for {
		b.mu.Lock()
		if b.wake == nil {
			b.wake = make(chan struct{})
		}
		ch := b.wake
		b.mu.Unlock()
		// Tried after the channel is taken: a release between the two is
		// seen here, one after it closes the channel.
		if b.take(s, n) {
			return nil
		}
		if b.stall(s, s.charged, n, s.starved) {
			return errBudgetEvicted
		}
		b.collectNow()
		select {
		case <-ch:
		case <-t.C:
			if b.take(s, n) {
				return nil
			}
			return errBudgetTimeout
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// release gives n bytes back and wakes the sessions waiting for them.
// The first release that brings what sessions hold of a budget that
// passed half its size back under an eighth of it has the memory given
// back to the system (see giveBack).
func (b *Budget) release(n int64) {
	if u := b.used.Add(-n); u-b.junk.held() <= b.size/8 && b.spiked.Load() && b.spiked.CompareAndSwap(true, false) {
		giveBack()
	}
	if b.stalls.n.Load() > 0 {
		b.resumeFitting() // an event loop's refused sockets (stall.go)
	}
	if b.waiting.Load() > 0 {
		b.mu.Lock()
		if b.wake != nil {
			close(b.wake)
			b.wake = nil
		}
		b.mu.Unlock()
	}
}

// cost is what a buffer of capacity n costs a budget.
func cost(n int) int64 { return int64(max(0, n-budgetFree)) }

// reserve makes the session's budget cover the growth of a buffer it
// holds for the message being read, from capacity from to capacity to,
// before the buffer grows. Without a budget, or for a buffer still under
// budgetFree, it costs a comparison. A refused reader waits as Budget
// says: here on a blocking transport (ctx may end the wait; its error is
// returned), or not at all on an event loop (errStarved: the driver pauses
// the socket). It fails the session with 1013 once the message has waited
// Wait in all, and with 1009 if the growth could never fit. readMu is held.
func (s *Session) reserve(ctx context.Context, from, to int) error {
	need := cost(to) - cost(from)
	b := s.opts.Budget
	if need <= 0 || !b.limited() {
		return nil
	}
	if s.charged+need > b.size {
		return s.failBudget(frame.StatusMessageTooBig, "message too big for the memory budget", nil)
	}
	// The buffer grown from is let go of: junk until a collection
	// (collect.go), unless that would make the message never fit.
	var old int64
	if from > bigBuffer && s.charged+need+cost(from) <= b.size {
		old = cost(from)
	}
	if b.take(s, need+old) {
		if s.starved != 0 {
			b.unstall(s) // refused earlier in this message
		}
		s.charged += need
		b.addJunk(old)
		return nil
	}
	b.collectNow()
	// The wait is bounded per message, however many growths it takes.
	now := time.Now()
	if s.starved == 0 {
		s.starved = now.UnixNano()
	}
	deadline := time.Unix(0, s.starved).Add(b.wait)
	if s.c.Evented() {
		if !now.Before(deadline) || b.stall(s, s.charged, need+old, s.starved) {
			return s.failBudget(frame.StatusTryAgainLater, "memory budget exhausted", ErrBudget)
		}
		return errStarved
	}
	switch err := b.acquire(ctx, s, need+old, deadline); err {
	case nil:
		s.charged += need
		b.addJunk(old)
		return nil
	case errBudgetTimeout, errBudgetEvicted:
		return s.failBudget(frame.StatusTryAgainLater, "memory budget exhausted", ErrBudget)
	default:
		return err // ctx's: the read may go on later
	}
}

// reserveHint reports whether the budget lets the driver take a buffer of
// the capacity bufpool gives for size, without waiting; it charges it if so.
func (s *Session) reserveHint(size int) bool {
	need := cost(bufpool.Cap(size))
	b := s.opts.Budget
	if need <= 0 || !b.limited() {
		return true
	}
	if s.charged+need <= b.size && b.take(s, need) {
		s.charged += need
		return true
	}
	return false
}

// failBudget fails the session for its budget, with code and reason, and
// gives back what its read side holds. readMu is held.
func (s *Session) failBudget(code frame.StatusCode, reason string, cause error) error {
	if cause == nil {
		cause = &frame.ProtocolError{Code: code, Reason: reason}
	}
	cerr := &CloseError{Code: code, Reason: reason, Err: cause}
	s.sendClose(code, reason)
	s.setResult(cerr)
	s.readErr = cerr
	s.finishCloseAs(endLinger) // the peer may be sending the refused message still
	s.c.ReleaseReadBuffer()
	s.releaseReadMemory()
	return cerr
}

// settle gives back what the session was charged beyond the buffers it
// still holds for a message: it runs whenever one goes back to its pool or
// to the caller. readMu is held.
func (s *Session) settle() {
	if s.charged != 0 {
		s.settleCharge()
	}
}

func (s *Session) settleCharge() {
	var held int64
	if s.lmsg != nil {
		held += cost(cap(s.lmsg.B))
	}
	if s.partial != nil {
		held += cost(cap(s.partial.B))
	}
	if z := s.comp; z != nil && z.zin != nil {
		held += cost(cap(z.zin.B))
	}
	if s.charged > held {
		s.opts.Budget.release(s.charged - held)
		s.charged = held
	}
}

// releaseReadMemory gives back the buffers the read side holds for a
// message, and everything the budget charged the session (the driver's
// message buffer included), once the session has ended. The driver's
// buffer itself is the driver's to drop (it may be handing it to
// OnMessage meanwhile); its charge goes now, in case no driver comes back
// (an event loop's socket that was closed). readMu is held.
func (s *Session) releaseReadMemory() {
	s.putBuffer(s.partial)
	s.partial = nil
	if z := s.comp; z != nil {
		s.putBuffer(z.zin)
		z.zin = nil
		if z.dec != nil {
			z.dec.End()
		}
		s.inflating = false
	}
	if s.starved != 0 {
		s.opts.Budget.unstall(s) // before the release: see stall.go
	}
	if s.charged > 0 {
		s.opts.Budget.release(s.charged)
		s.charged = 0
	}
}

// pauseForBudget stops reading an event loop's socket for a moment, after
// the budget refused the read (errStarved): the peer's bytes stay in the
// kernel, and the loop calls the driver again, which asks again. The wait
// backs off from 1 ms to 32 ms; reserve bounds it in all. A transport that
// cannot pause fails the session with 1013 at once (the error returned).
func (s *Session) pauseForBudget() error {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	d := time.Duration(time.Now().UnixNano()-s.starved) / 4
	d = min(max(d, time.Millisecond), 32*time.Millisecond)
	if s.c.PauseReading(d) {
		return nil
	}
	err := s.failBudget(frame.StatusTryAgainLater, "memory budget exhausted", ErrBudget)
	s.releaseReadMemory()
	s.dropMessageBuffer()
	return err
}
