package session

import (
	"math/rand/v2"
	"testing"
)

// TestStallsHeaps: after any mix of refusals, updates and departures, the
// heaps of the stalls give the smallest growth, the longest wait and the
// most held, and fitting takes growths that fit together until no other
// one fits in what is left.
func TestStallsHeaps(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	var ss stalls
	var live []*stall
	for step := range 5000 {
		switch op := r.IntN(10); {
		case op < 4 || len(live) == 0:
			st := &stall{s: &Session{}}
			ss.add(st)
			ss.set(st, r.Int64N(1<<20), 1+r.Int64N(1<<20), r.Int64N(1e9))
			live = append(live, st)
		case op < 7:
			st := live[r.IntN(len(live))]
			ss.set(st, r.Int64N(1<<20), 1+r.Int64N(1<<20), r.Int64N(1e9))
			st.evicted = r.IntN(8) == 0
		default:
			i := r.IntN(len(live))
			ss.remove(live[i])
			live = append(live[:i], live[i+1:]...)
		}
		if len(ss.m) != len(live) || int(ss.n.Load()) != len(live) {
			t.Fatalf("step %d: %d in the map, n %d, want %d", step, len(ss.m), ss.n.Load(), len(live))
		}
		if len(live) == 0 {
			continue
		}
		var held int64
		least, oldest, most := live[0], live[0], live[0]
		for _, st := range live {
			held += st.charged
			if st.need < least.need {
				least = st
			}
			if st.since < oldest.since {
				oldest = st
			}
			if st.charged > most.charged {
				most = st
			}
			for o := range ss.heaps {
				if ss.heaps[o].a[st.at[o]] != st {
					t.Fatalf("step %d: a stall's place in heap %d is wrong", step, o)
				}
			}
		}
		if ss.held != held {
			t.Fatalf("step %d: held %d, want %d", step, ss.held, held)
		}
		if got := ss.first(byNeed).need; got != least.need {
			t.Fatalf("step %d: smallest need %d, want %d", step, got, least.need)
		}
		if got := ss.first(bySince).since; got != oldest.since {
			t.Fatalf("step %d: oldest since %d, want %d", step, got, oldest.since)
		}
		if got := ss.first(byCharged).charged; got != most.charged {
			t.Fatalf("step %d: most charged %d, want %d", step, got, most.charged)
		}

		free := r.Int64N(4 << 20)
		fit := map[*Session]bool{}
		left := free
		for _, s := range ss.fitting(free) {
			st := ss.m[s]
			if st == nil || st.evicted || fit[s] {
				t.Fatalf("step %d: fitting returned a stall gone, chosen to give way or twice", step)
			}
			fit[s] = true
			left -= st.need
		}
		if left < 0 {
			t.Fatalf("step %d: fitting took %d more than the %d free", step, -left, free)
		}
		for _, st := range live {
			if !fit[st.s] && !st.evicted && st.need <= left {
				t.Fatalf("step %d: a growth of %d fits in the %d left but was not taken", step, st.need, left)
			}
		}
	}
}
