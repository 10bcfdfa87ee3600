package pool

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

// obj is what the tests pool: an id to tell objects apart, a flag to
// catch one object handed to two holders, and state for the reset hook.
type obj struct {
	id    int
	inUse atomic.Bool
	dirty bool
}

// counter makes objects with ids 1, 2, 3...
type counter struct{ n atomic.Int64 }

func (c *counter) new() *obj { return &obj{id: int(c.n.Add(1))} }

func TestNewPoolConfig(t *testing.T) {
	newFn := func() int { return 0 }
	tests := []struct {
		name  string
		cfg   PoolConfig
		newFn func() int
		ok    bool
	}{
		{"fixed", PoolConfig{Initial: 4}, newFn, true},
		{"growing from empty", PoolConfig{Growth: true}, newFn, true},
		{"initial equals max", PoolConfig{Initial: 4, Max: 4, Growth: true}, newFn, true},
		{"nil newFn", PoolConfig{Initial: 1}, nil, false},
		{"negative initial", PoolConfig{Initial: -1, Growth: true}, newFn, false},
		{"negative max", PoolConfig{Initial: 1, Max: -1}, newFn, false},
		{"negative step", PoolConfig{Initial: 1, GrowthStep: -2, Growth: true}, newFn, false},
		{"initial above max", PoolConfig{Initial: 5, Max: 4}, newFn, false},
		{"empty and fixed", PoolConfig{}, newFn, false},
		{"empty, fixed, with max", PoolConfig{Max: 10}, newFn, false},
	}
	for _, tt := range tests {
		p, err := NewPool(tt.cfg, tt.newFn, nil)
		if (err == nil) != tt.ok || (p != nil) != tt.ok {
			t.Errorf("%s: NewPool(%+v) = %v, %v; want ok=%v", tt.name, tt.cfg, p, err, tt.ok)
		}
	}
}

func TestPoolPreallocates(t *testing.T) {
	var c counter
	p, err := NewPool(PoolConfig{Initial: 3}, c.new, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Stats(), (PoolStats{Total: 3, Active: 0, Available: 3, Allocations: 3}); got != want {
		t.Fatalf("Stats() = %v, want %v", got, want)
	}
	if c.n.Load() != 3 {
		t.Fatalf("newFn called %d times, want 3", c.n.Load())
	}
}

// Each step: Acquire (true) or Release the last acquired (false), the
// error wanted, and the stats after it.
type poolStep struct {
	acquire bool
	err     error
	want    PoolStats
}

func runPoolSteps(t *testing.T, p *Pool[*obj], steps []poolStep) {
	t.Helper()
	var held []*obj
	for i, st := range steps {
		if st.acquire {
			v, err := p.Acquire()
			if !errors.Is(err, st.err) {
				t.Fatalf("step %d: Acquire error %v, want %v", i, err, st.err)
			}
			if err == nil {
				if v == nil {
					t.Fatalf("step %d: Acquire returned nil", i)
				}
				held = append(held, v)
			} else if v != nil {
				t.Fatalf("step %d: failed Acquire returned %v, want the zero value", i, v)
			}
		} else {
			p.Release(held[len(held)-1])
			held = held[:len(held)-1]
		}
		if got := p.Stats(); got != st.want {
			t.Fatalf("step %d: Stats() = %v, want %v", i, got, st.want)
		}
	}
}

func TestPoolFixedExhausts(t *testing.T) {
	var c counter
	p, err := NewPool(PoolConfig{Initial: 2, Max: 8, GrowthStep: 4}, c.new, nil) // Growth off: Max and step unused
	if err != nil {
		t.Fatal(err)
	}
	runPoolSteps(t, p, []poolStep{
		{true, nil, PoolStats{Total: 2, Active: 1, Available: 1, Allocations: 2}},
		{true, nil, PoolStats{Total: 2, Active: 2, Available: 0, Allocations: 2}},
		{true, ErrPoolExhausted, PoolStats{Total: 2, Active: 2, Available: 0, Allocations: 2}},
		{false, nil, PoolStats{Total: 2, Active: 1, Available: 1, Allocations: 2}},
		{true, nil, PoolStats{Total: 2, Active: 2, Available: 0, Allocations: 2}},
		{true, ErrPoolExhausted, PoolStats{Total: 2, Active: 2, Available: 0, Allocations: 2}},
	})
}

func TestPoolGrowsByStepUpToMax(t *testing.T) {
	var c counter
	p, err := NewPool(PoolConfig{Initial: 1, Max: 5, GrowthStep: 3, Growth: true}, c.new, nil)
	if err != nil {
		t.Fatal(err)
	}
	runPoolSteps(t, p, []poolStep{
		{true, nil, PoolStats{Total: 1, Active: 1, Available: 0, Allocations: 1}},              // the preallocated one
		{true, nil, PoolStats{Total: 4, Active: 2, Available: 2, Allocations: 4}},              // grows by 3
		{true, nil, PoolStats{Total: 4, Active: 3, Available: 1, Allocations: 4}},              // from the step
		{true, nil, PoolStats{Total: 4, Active: 4, Available: 0, Allocations: 4}},              // from the step
		{true, nil, PoolStats{Total: 5, Active: 5, Available: 0, Allocations: 5}},              // grows by 1: Max is near
		{true, ErrPoolExhausted, PoolStats{Total: 5, Active: 5, Available: 0, Allocations: 5}}, // at Max
		{false, nil, PoolStats{Total: 5, Active: 4, Available: 1, Allocations: 5}},
		{true, nil, PoolStats{Total: 5, Active: 5, Available: 0, Allocations: 5}}, // reuse, no allocation
	})
}

func TestPoolUnlimitedGrowth(t *testing.T) {
	var c counter
	p, err := NewPool(PoolConfig{Growth: true}, c.new, nil) // step 0 means 1
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000
	held := make([]*obj, 0, n)
	for range n {
		v, err := p.Acquire()
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, v)
	}
	for _, v := range held {
		p.Release(v)
	}
	if got, want := p.Stats(), (PoolStats{Total: n, Active: 0, Available: n, Allocations: n}); got != want {
		t.Fatalf("Stats() = %v, want %v", got, want)
	}
}

func TestPoolResetAndReuse(t *testing.T) {
	var c counter
	var resets []int
	var p *Pool[*obj]
	p, err := NewPool(PoolConfig{Initial: 2}, c.new, func(o *obj) {
		resets = append(resets, o.id)
		o.dirty = false
		_ = p.Stats() // hooks run without the pool's lock: this must not deadlock
	})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := p.Acquire()
	b, _ := p.Acquire()
	a.dirty, b.dirty = true, true
	p.Release(a)
	p.Release(b)
	if len(resets) != 2 || resets[0] != a.id || resets[1] != b.id {
		t.Fatalf("reset called on %v, want [%d %d]", resets, a.id, b.id)
	}
	// Last in, first out: b comes back first, clean.
	got, _ := p.Acquire()
	if got != b || got.dirty {
		t.Fatalf("Acquire after releases = %+v, want object %d, reset", got, b.id)
	}
}

// Releasing more than was acquired drops the extra object: the counts
// stay true, and the pool does not grow past its accounting.
func TestPoolReleaseTooMany(t *testing.T) {
	var c counter
	resets := 0
	p, err := NewPool(PoolConfig{Initial: 1}, c.new, func(*obj) { resets++ })
	if err != nil {
		t.Fatal(err)
	}
	v, _ := p.Acquire()
	p.Release(v)
	p.Release(v)       // twice
	p.Release(c.new()) // a stranger
	if got, want := p.Stats(), (PoolStats{Total: 1, Active: 0, Available: 1, Allocations: 1}); got != want {
		t.Fatalf("Stats() = %v, want %v", got, want)
	}
	if resets != 3 {
		t.Errorf("reset ran %d times, want 3 (dropped objects are reset too)", resets)
	}
	if _, err := p.Acquire(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Acquire(); err != ErrPoolExhausted {
		t.Fatalf("second Acquire: %v, want ErrPoolExhausted (the dropped copy must not be handed out)", err)
	}
}

// A panic in newFn while growing leaves the pool consistent: what was
// made is kept, the reservation is returned.
func TestPoolNewPanics(t *testing.T) {
	calls := 0
	p, err := NewPool(PoolConfig{Max: 10, GrowthStep: 4, Growth: true}, func() *obj {
		calls++
		if calls == 3 {
			panic("no memory")
		}
		return &obj{id: calls}
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if r := recover(); r != "no memory" {
				t.Fatalf("recovered %v, want the newFn panic", r)
			}
		}()
		_, _ = p.Acquire()
	}()
	if got, want := p.Stats(), (PoolStats{Total: 2, Active: 0, Available: 2, Allocations: 2}); got != want {
		t.Fatalf("Stats() after panic = %v, want %v", got, want)
	}
	// 2 free, then growth up to Max 10 is still possible.
	for i := range 10 {
		if _, err := p.Acquire(); err != nil {
			t.Fatalf("Acquire %d: %v", i, err)
		}
	}
	if _, err := p.Acquire(); err != ErrPoolExhausted {
		t.Fatalf("Acquire past Max: %v", err)
	}
}

// Under contention no object is held twice, Max holds, and the counts
// add up.
func TestPoolConcurrent(t *testing.T) {
	const maxObjs, goroutines, rounds = 8, 8, 500
	var c counter
	p, err := NewPool(PoolConfig{Initial: 2, Max: maxObjs, GrowthStep: 3, Growth: true}, c.new, func(o *obj) {
		if !o.inUse.CompareAndSwap(true, false) {
			t.Errorf("object %d released while not in use", o.id)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	var exhausted atomic.Int64
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var held []*obj
			for i := range rounds {
				if i%3 != 2 {
					v, err := p.Acquire()
					if err == ErrPoolExhausted {
						exhausted.Add(1)
						continue
					}
					if err != nil {
						t.Errorf("Acquire: %v", err)
						return
					}
					if !v.inUse.CompareAndSwap(false, true) {
						t.Errorf("object %d handed out twice", v.id)
					}
					held = append(held, v)
				}
				if len(held) > 0 && (i%3 == 2 || len(held) > 2) {
					p.Release(held[0])
					held = held[1:]
				}
				if s := p.Stats(); s.Total != s.Active+s.Available || s.Total > maxObjs {
					t.Errorf("Stats() = %v", s)
					return
				}
			}
			for _, v := range held {
				p.Release(v)
			}
		}()
	}
	wg.Wait()
	s := p.Stats()
	if s.Active != 0 || s.Total != s.Available || s.Total > maxObjs || s.Allocations != uint64(s.Total) {
		t.Fatalf("Stats() = %v", s)
	}
	if int(c.n.Load()) != s.Total {
		t.Fatalf("newFn made %d objects, the pool counts %d", c.n.Load(), s.Total)
	}
	t.Logf("%v, %d Acquire calls found the pool exhausted", s, exhausted.Load())
}

func TestPoolAcquireReleaseDoesNotAllocate(t *testing.T) {
	var c counter
	p, err := NewPool(PoolConfig{Initial: 4}, c.new, func(o *obj) { o.dirty = false })
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		v, err := p.Acquire()
		if err != nil {
			t.Fatal(err)
		}
		p.Release(v)
	})
	if allocs != 0 {
		t.Fatalf("Acquire+Release: %v allocations, want 0", allocs)
	}
}
