//go:build linux

package netpoll

import (
	"time"
)

// ---------------------------------------------------------------------------
// Timers

// LoopTimer is a timer on an event loop: its function runs on the loop. It has
// the methods of time.Timer that a connection uses.
type LoopTimer struct {
	l    *loop
	f    func()
	when int64
	i    int // index in the heap, -1 when not in it
}

func (l *loop) newTimer(f func()) *LoopTimer { return &LoopTimer{l: l, f: f, i: -1} }

// Reset makes the timer fire after d; it reports whether it was active.
func (t *LoopTimer) Reset(d time.Duration) bool {
	return t.resetAt(time.Now().Add(d).UnixNano())
}

func (t *LoopTimer) resetAt(when int64) bool {
	l := t.l
	l.mu.Lock()
	active := t.i >= 0
	t.when = when
	if active {
		l.timers.fix(t.i)
	} else {
		l.timers.push(t)
	}
	wake := l.timers[0] == t && l.waitAt != 0 && (l.waitAt < 0 || when < l.waitAt)
	l.mu.Unlock()
	if wake {
		l.wake()
	}
	return active
}

// expedite makes an active timer fire at once, and reports whether it
// was active; an inactive timer stays inactive. Any goroutine may call it.
func (t *LoopTimer) expedite() bool {
	l := t.l
	l.mu.Lock()
	if t.i < 0 {
		l.mu.Unlock()
		return false
	}
	t.when = time.Now().UnixNano()
	l.timers.fix(t.i)
	wake := l.timers[0] == t && l.waitAt != 0 && (l.waitAt < 0 || t.when < l.waitAt)
	l.mu.Unlock()
	if wake {
		l.wake()
	}
	return true
}

// Stop stops the timer; it reports whether it was active.
func (t *LoopTimer) Stop() bool {
	l := t.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if t.i < 0 {
		return false
	}
	l.timers.remove(t.i)
	return true
}

// expired pops the timers that are due.
func (l *loop) expired(due []*LoopTimer) []*LoopTimer {
	now := time.Now().UnixNano()
	l.mu.Lock()
	for len(l.timers) > 0 && l.timers[0].when <= now {
		t := l.timers[0]
		l.timers.remove(0)
		due = append(due, t)
	}
	l.mu.Unlock()
	return due
}

// timerHeap is a min-heap of timers by when.
type timerHeap []*LoopTimer

func (h *timerHeap) push(t *LoopTimer) {
	t.i = len(*h)
	*h = append(*h, t)
	h.up(t.i)
}

func (h *timerHeap) remove(i int) {
	a := *h
	last := len(a) - 1
	t := a[i]
	if i != last {
		a[i] = a[last]
		a[i].i = i
	}
	a[last] = nil
	*h = a[:last]
	t.i = -1
	if i != last {
		h.fix(i)
	}
}

func (h *timerHeap) fix(i int) {
	if !h.down(i) {
		h.up(i)
	}
}

func (h timerHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if h[p].when <= h[i].when {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h timerHeap) down(i int) bool {
	start := i
	for {
		c := 2*i + 1
		if c >= len(h) {
			break
		}
		if c+1 < len(h) && h[c+1].when < h[c].when {
			c++
		}
		if h[i].when <= h[c].when {
			break
		}
		h.swap(i, c)
		i = c
	}
	return i > start
}

func (h timerHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].i, h[j].i = i, j
}
