package session

import (
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rfc6455/websocket/internal/bufpool"
)

// What a budget counts beyond the buffers sessions hold: the buffers they
// let go of. A message that grows leaves its smaller buffer behind at
// every doubling, and a buffer too big for the pools (or any big one while
// the budget is pressed) goes to the garbage collector when its message is
// done. Until a collection frees them, those bytes are in the heap as much
// as the live ones, and under a flood of large messages (compression
// bombs, each growing to the message limit) they are as much again, and
// twice that by the time the runtime's pacing starts a cycle. So a budget
// counts them too, as junk, from the moment they are let go of until a
// collection that started after it has ended: the budget then bounds the
// heap's message bytes, live or not, and a flood costs the process about
// the budget's size, not a multiple of it.
//
// A collection is known to have run when a sentinel, an object made
// unreachable as it is allocated, is found unreachable: its cleanup gives
// back the junk counted before it was made (batch), and a new sentinel is
// armed for what came since (loose). Collections come by themselves as
// the program allocates; when a session is refused memory while junk is
// counted, collections are run at once (collectNow), one at a time per
// budget, since what they free is what the session waits for.

// bigBuffer is the capacity above which a message buffer that a session
// lets go of is counted as junk, and goes to the garbage collector rather
// than to the pool while its budget is pressed: after a flood of large
// messages, the pools would otherwise keep what the flood grew (up to the
// budget's size) live through two more collections. Smaller buffers are
// reused from the pools.
const bigBuffer = 64 << 10

// junk is a budget's count of bytes let go of and not yet known to be
// collected; they are part of the budget's used bytes.
type junk struct {
	loose atomic.Int64 // let go of since the armed sentinel was made
	batch atomic.Int64 // let go of before it was made: free once it is collected
	armed atomic.Bool  // a sentinel waits for a collection
}

// held returns the bytes of junk the budget counts.
func (j *junk) held() int64 { return j.loose.Load() + j.batch.Load() }

// sentinel is big enough not to share a tiny allocation with other
// objects, whose lives would then delay its cleanup.
type sentinel struct{ _ [32]byte }

// addJunk counts n bytes, already part of b's used bytes, as junk.
func (b *Budget) addJunk(n int64) {
	if n <= 0 {
		return
	}
	b.junk.loose.Add(n)
	b.armSentinel()
	if b.waiting.Load() > 0 {
		b.collectNow()
	}
}

// armSentinel makes a sentinel for the loose junk, unless one is armed:
// the junk moves to the batch first, so that all of it was let go of
// before the sentinel exists, and a collection that frees the sentinel
// frees it too.
func (b *Budget) armSentinel() {
	if !b.junk.armed.CompareAndSwap(false, true) {
		return
	}
	b.junk.batch.Add(b.junk.loose.Swap(0))
	runtime.AddCleanup(new(sentinel), (*Budget).collected, b)
}

// collected runs after a collection freed the armed sentinel: the batch
// goes back to the budget, and a sentinel is armed for the junk that came
// since, if any.
func (b *Budget) collected() {
	n := b.junk.batch.Swap(0)
	b.junk.armed.Store(false)
	b.release(n)
	if b.junk.loose.Load() > 0 {
		b.armSentinel()
	}
}

// collectNow starts collections in the background when b counts junk,
// one after another for as long as a session waits for b's memory (or is
// refused on an event loop) and junk is counted: what a collection frees
// is what they wait for. Large byte buffers hold no pointers, so a
// collection costs little beyond the live heap's pointers.
func (b *Budget) collectNow() {
	if b.junk.held() == 0 || !b.collecting.CompareAndSwap(false, true) {
		return
	}
	go func() {
		for {
			runtime.GC()
			time.Sleep(time.Millisecond) // for the freed sentinels' cleanups
			if b.junk.held() == 0 || (b.waiting.Load() == 0 && b.stalls.n.Load() == 0) {
				b.collecting.Store(false)
				return
			}
		}
	}()
}

// pressed reports whether more than half of b is held: then buffers
// above bigBuffer are not pooled when they come back (see putBuffer).
func (b *Budget) pressed() bool { return b.limited() && b.used.Load() > b.size/2 }

// putBuffer gives a message buffer of the read side back: to the pool,
// or, if it is big and the pool would not keep it or the budget is
// pressed, to the garbage collector, its charge moved to the budget's
// junk. readMu is held.
func (s *Session) putBuffer(p *bufpool.Buffer) {
	if p != nil && !s.toCollector(p, min(cost(cap(p.B)), s.charged)) {
		bufpool.Put(p)
	}
}

// toCollector reports whether p, a buffer of the read side whose charge is
// c of s.charged, goes to the garbage collector rather than to its pool
// (see putBuffer); if so, c is moved to the budget's junk. readMu is held.
func (s *Session) toCollector(p *bufpool.Buffer, c int64) bool {
	b := s.opts.Budget
	if n := cap(p.B); n <= bigBuffer || !b.limited() || (bufpool.Keeps(n) && !b.pressed()) {
		return false
	}
	s.charged -= c
	b.addJunk(c)
	return true
}

// What a spike costs after it: the heap that a flood of large messages
// grew stays resident until a collection finds it free and the scavenger
// returns it, which on an idle server (no allocation to start a cycle)
// waits for the runtime's forced collection, every two minutes. giveBack
// runs debug.FreeOSMemory (a collection, then every free page returned)
// once the spike is over: a second after it, and at most once every ten
// seconds in the process, whatever the number of budgets. Its collection
// frees the sentinels, and so the junk, too.
var giveBackState struct {
	mu        sync.Mutex
	scheduled bool
	last      time.Time
}

func giveBack() {
	g := &giveBackState
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.scheduled {
		return
	}
	g.scheduled = true
	at := max(time.Second, time.Until(g.last.Add(10*time.Second)))
	time.AfterFunc(at, func() {
		debug.FreeOSMemory()
		g.mu.Lock()
		g.scheduled, g.last = false, time.Now()
		g.mu.Unlock()
	})
}
