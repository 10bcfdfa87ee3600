package session

import (
	"cmp"
	"container/heap"
	"slices"
	"sync/atomic"
	"time"
)

// What a budget does when everyone waits. A session refused memory
// holds what its message has cost so far, and waits for others to give
// bytes back. When the sessions that wait hold (nearly) all there is and
// none of their growths fits, nobody gives anything back: the messages
// are stuck until their waits run out, and then all of them fail with
// 1013 together, however many a budget of that size could have carried
// through. Many clients uploading large messages at once come to this,
// when each is part way through as the budget fills (400 clients each
// sending 1 MiB in 32 pieces, 30 ms apart, against the default 96 MiB:
// 301 of them failed after 2.3 s, and the rest were held that long).
//
// So a budget keeps the sessions it refused, with what each holds, what
// it waits for and since when. A session refused in a stalemate has the
// budget settle it: the session that holds the most, the furthest along,
// is favoured, its growth set aside (others leave that many bytes free),
// and the sessions that hold the least give way, closed with 1013 at
// once, as many as it takes for what they hold and what is free to cover
// the favoured growth. A waiting goroutine is woken to give way; an event
// loop's paused socket is woken at once (conn's ResumeReading) rather
// than at its next retry, 1 to 32 ms later, and so is one whose growth
// fits when bytes come back (resumeFitting, which looks only at the
// growths that fit). Nothing more is settled
// until the favoured session has its bytes and the chosen ones have let
// go.
//
// It is a stalemate when no waiting growth fits what is free (counting
// the junk a collection is about to free), and the waiting sessions hold
// everything that is held, or no growth would fit even if everything else
// were let go of, or one has waited a quarter of the budget's Wait: what
// sessions that are not waiting hold may be a slow peer's message that
// takes as long. A peer that dribbles is not waiting for the budget.

// A stall is a session the budget refused: what it holds, unchanged
// while it waits, and the growth it waits for.
type stall struct {
	s             *Session
	charged, need int64
	since         int64  // unix nanos: when its message was first refused
	evicted       bool   // chosen to give way
	at            [3]int // its places in the heaps of stalls, by order
}

// stalls are a budget's refused sessions; guarded by the budget's mu.
// Heaps keep the smallest growth, the longest wait and the most held at
// hand: a refusal, and a release, costs a look at them rather than a walk
// over every refused session (BenchmarkStalls: with 10,000 refused, a walk
// under the budget's lock took 80-100 µs; a look takes 5-50 ns). Only a
// settlement walks them, to choose who gives way.
type stalls struct {
	n        atomic.Int32 // len(m), read without the lock
	m        map[*Session]*stall
	heaps    [3]stallHeap // by need, by since, by charged (the most first)
	held     int64        // the charged bytes of all of them
	evicting int          // chosen ones that have not let go yet
	walk     []int        // resumeFitting's scratch
}

// The orders of a stalls' heaps.
const (
	byNeed = iota
	bySince
	byCharged
)

// add records a new stall, holding nothing yet.
func (ss *stalls) add(st *stall) {
	if ss.m == nil {
		ss.m = make(map[*Session]*stall)
		for i := range ss.heaps {
			ss.heaps[i].order = i
		}
	}
	ss.m[st.s] = st
	ss.n.Add(1)
	for i := range ss.heaps {
		heap.Push(&ss.heaps[i], st)
	}
}

// set updates what st holds, needs and has waited since.
func (ss *stalls) set(st *stall, charged, need, since int64) {
	ss.held += charged - st.charged
	st.charged, st.need, st.since = charged, need, since
	for i := range ss.heaps {
		heap.Fix(&ss.heaps[i], st.at[i])
	}
}

// remove drops st.
func (ss *stalls) remove(st *stall) {
	delete(ss.m, st.s)
	ss.n.Add(-1)
	ss.held -= st.charged
	for i := range ss.heaps {
		heap.Remove(&ss.heaps[i], st.at[i])
	}
}

// first returns the stall that comes first in the given order; there is
// at least one.
func (ss *stalls) first(order int) *stall { return ss.heaps[order].a[0] }

// A stallHeap orders stalls (container/heap): by need or since, the least
// first, or by charged, the most first. Each stall knows its place in it.
type stallHeap struct {
	a     []*stall
	order int
}

func (h *stallHeap) Len() int { return len(h.a) }

func (h *stallHeap) Less(i, j int) bool {
	x, y := h.a[i], h.a[j]
	switch h.order {
	case byNeed:
		return x.need < y.need
	case bySince:
		return x.since < y.since
	default:
		return x.charged > y.charged
	}
}

func (h *stallHeap) Swap(i, j int) {
	h.a[i], h.a[j] = h.a[j], h.a[i]
	h.a[i].at[h.order], h.a[j].at[h.order] = i, j
}

func (h *stallHeap) Push(x any) {
	st := x.(*stall)
	st.at[h.order] = len(h.a)
	h.a = append(h.a, st)
}

func (h *stallHeap) Pop() any {
	n := len(h.a) - 1
	st := h.a[n]
	h.a[n] = nil
	h.a = h.a[:n]
	return st
}

// stall records that s, holding charged, was refused need bytes (first
// for its message at since, in unix nanos), and reports whether s must
// give way: chosen now or earlier to settle a stalemate (it is then
// forgotten). b's mu must not be held.
func (b *Budget) stall(s *Session, charged, need, since int64) bool {
	b.mu.Lock()
	ss := &b.stalls
	st := ss.m[s]
	if st == nil {
		st = &stall{s: s}
		ss.add(st)
	}
	var chosen []*Session
	if !st.evicted {
		ss.set(st, charged, need, since)
		if chosen = b.settle(); len(chosen) > 0 && b.wake != nil {
			close(b.wake) // the chosen may be goroutines waiting on it
			b.wake = nil
		}
	}
	evicted := st.evicted
	if evicted {
		b.forget(st)
	}
	b.mu.Unlock()
	for _, c := range chosen {
		if c != s {
			c.c.ResumeReading() // an event loop's paused socket gives way now
		}
	}
	return evicted
}

// unstall forgets s, which is no longer refused (it got its bytes, or it
// ended): before its bytes go back, so that what waiting sessions hold is
// never counted as more than what is held. b's mu must not be held.
func (b *Budget) unstall(s *Session) {
	b.mu.Lock()
	if st := b.stalls.m[s]; st != nil {
		b.forget(st)
	}
	b.mu.Unlock()
}

// forget drops a stall, and what was set aside for it. b's mu is held.
func (b *Budget) forget(st *stall) {
	ss := &b.stalls
	ss.remove(st)
	if st.evicted {
		ss.evicting--
	}
	if b.favoured.Load() == st.s {
		b.aside.Store(0)
		b.favoured.Store(nil)
	}
}

// settle looks for a stalemate among the refused sessions and settles it
// (see above), returning the sessions it chose to give way. b's mu is
// held.
func (b *Budget) settle() []*Session {
	ss := &b.stalls
	if len(ss.m) == 0 || ss.evicting > 0 || b.favoured.Load() != nil {
		return nil // none refused, or settling one already
	}
	used, junk := b.used.Load(), b.junk.held()
	free := b.size - used + junk
	least := ss.first(byNeed).need
	if least <= free {
		return nil // it gets its bytes when it tries again
	}
	others := used - junk - ss.held // what sessions that do not wait hold
	waited := time.Duration(time.Now().UnixNano() - ss.first(bySince).since)
	if others > 0 && waited < b.wait/4 && least <= b.size-ss.held {
		return nil // it may fit once the others let go
	}
	most := ss.first(byCharged)
	short := most.need - free
	if ss.held-most.charged < short {
		return nil // all of them would not cover it: wait as before
	}
	// The least far along give way to the furthest, the fewest that
	// cover its growth.
	var fewest []*stall
	for _, st := range ss.m {
		if st != most && st.charged > 0 {
			fewest = append(fewest, st)
		}
	}
	slices.SortFunc(fewest, func(x, y *stall) int { return cmp.Compare(x.charged, y.charged) })
	var chosen int
	for _, st := range fewest {
		if short <= 0 {
			break
		}
		short -= st.charged
		chosen++
	}
	out := make([]*Session, chosen)
	for i, st := range fewest[:chosen] {
		st.evicted = true
		ss.evicting++
		out[i] = st.s
	}
	b.aside.Store(most.need)
	b.favoured.Store(most.s)
	return out
}

// resumeFitting has the paused sockets of refused sessions whose growths
// now fit try again at once, as many as what is free covers (a waiting
// goroutine is woken by release itself). It runs when bytes come back
// while sessions are refused.
func (b *Budget) resumeFitting() {
	b.mu.Lock()
	ss := &b.stalls
	free := b.size - b.used.Load()
	var fit []*Session
	if f := b.favoured.Load(); f != nil {
		// The favoured one alone, while one is.
		if st := ss.m[f]; st != nil && !st.evicted && st.need <= free {
			fit = append(fit, f)
		}
	} else {
		fit = ss.fitting(free)
	}
	b.mu.Unlock()
	for _, s := range fit {
		s.c.ResumeReading()
	}
}

// fitting returns refused sessions not chosen to give way whose growths
// fit in free together, taken in the need heap's order (each before the
// larger ones under it), until no other fits in what is left. No growth in
// the heap is smaller than its parent's: only the subtrees whose roots fit
// are looked at.
func (ss *stalls) fitting(free int64) []*Session {
	h := ss.heaps[byNeed].a
	if len(h) == 0 || h[0].need > free {
		return nil
	}
	var fit []*Session
	walk := append(ss.walk[:0], 0)
	for len(walk) > 0 {
		i := walk[len(walk)-1]
		walk = walk[:len(walk)-1]
		if i >= len(h) || h[i].need > free {
			continue
		}
		if st := h[i]; !st.evicted {
			free -= st.need
			fit = append(fit, st.s)
		}
		walk = append(walk, 2*i+1, 2*i+2)
	}
	ss.walk = walk
	return fit
}
