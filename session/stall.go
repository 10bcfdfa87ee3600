package session

import (
	"cmp"
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
// fits when bytes come back (resumeFitting, a walk over the refused
// sessions per release while there are any). Nothing more is settled
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
	since         int64 // unix nanos: when its message was first refused
	evicted       bool  // chosen to give way
}

// stalls are a budget's refused sessions; guarded by the budget's mu.
type stalls struct {
	n        atomic.Int32 // len(m), read without the lock
	m        map[*Session]*stall
	held     int64 // the charged bytes of all of them
	evicting int   // chosen ones that have not let go yet
	// The budget's used bytes, held and its junk when the last look found
	// that a growth fits: nothing to look at again until one changes.
	fitUsed, fitHeld, fitJunk int64
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
		if ss.m == nil {
			ss.m = make(map[*Session]*stall)
		}
		st = &stall{s: s}
		ss.m[s] = st
		ss.n.Add(1)
	}
	var chosen []*Session
	if !st.evicted {
		ss.held += charged - st.charged
		st.charged, st.need, st.since = charged, need, since
		if chosen = b.settle(); len(chosen) > 0 && b.wake != nil {
			close(b.wake) // the chosen may be goroutines waiting on it
			b.wake = nil
		}
	}
	evicted := st.evicted
	if evicted {
		b.forget(s, st)
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
		b.forget(s, st)
	}
	b.mu.Unlock()
}

// forget drops s's stall, and what was set aside for it. b's mu is held.
func (b *Budget) forget(s *Session, st *stall) {
	ss := &b.stalls
	delete(ss.m, s)
	ss.n.Add(-1)
	ss.held -= st.charged
	if st.evicted {
		ss.evicting--
	}
	if b.favoured.Load() == s {
		b.aside.Store(0)
		b.favoured.Store(nil)
	}
}

// settle looks for a stalemate among the refused sessions and settles it
// (see above), returning the sessions it chose to give way. b's mu is
// held.
func (b *Budget) settle() []*Session {
	ss := &b.stalls
	if ss.evicting > 0 || b.favoured.Load() != nil {
		return nil // settling one already
	}
	used, junk := b.used.Load(), b.junk.held()
	if used == ss.fitUsed && ss.held == ss.fitHeld && junk == ss.fitJunk {
		return nil // nothing changed since a growth fitted
	}
	free := b.size - used + junk
	var most *stall
	oldest := time.Now().UnixNano()
	for _, st := range ss.m {
		if st.need <= free {
			ss.fitUsed, ss.fitHeld, ss.fitJunk = used, ss.held, junk
			return nil // it gets its bytes when it tries again
		}
		if most == nil || st.charged > most.charged {
			most = st
		}
		oldest = min(oldest, st.since)
	}
	if most == nil {
		return nil
	}
	others := used - junk - ss.held // what sessions that do not wait hold
	if others > 0 && time.Duration(time.Now().UnixNano()-oldest) < b.wait/4 {
		for _, st := range ss.m {
			if st.need <= b.size-ss.held {
				return nil // it may fit once the others let go
			}
		}
	}
	// The least far along give way to the furthest, the fewest that
	// cover its growth.
	short := most.need - free
	var least []*stall
	for _, st := range ss.m {
		if st != most && st.charged > 0 {
			least = append(least, st)
		}
	}
	slices.SortFunc(least, func(x, y *stall) int { return cmp.Compare(x.charged, y.charged) })
	var chosen int
	for _, st := range least {
		if short <= 0 {
			break
		}
		short -= st.charged
		chosen++
	}
	if short > 0 {
		return nil // all of them would not cover it: wait as before
	}
	out := make([]*Session, chosen)
	for i, st := range least[:chosen] {
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
	free := b.size - b.used.Load()
	var fit []*Session
	f := b.favoured.Load()
	for _, st := range b.stalls.m {
		if st.evicted || (f != nil && st.s != f) {
			continue // the favoured one alone, while one is
		}
		if st.need <= free {
			free -= st.need
			fit = append(fit, st.s)
		}
	}
	b.mu.Unlock()
	for _, s := range fit {
		s.c.ResumeReading()
	}
}
