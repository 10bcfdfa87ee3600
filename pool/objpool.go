package pool

import (
	"errors"
	"fmt"
	"sync"
)

// ErrPoolExhausted is returned by [Pool.Acquire] when no object is free
// and the pool may not grow.
var ErrPoolExhausted = errors.New("pool: exhausted")

// PoolConfig sizes a [Pool].
type PoolConfig struct {
	// Initial is how many objects NewPool creates up front, so that the
	// first Acquire calls do not pay for them. Default 0.
	Initial int
	// Max caps the objects the pool ever holds (acquired plus free). 0
	// means no cap. A cap turns an overload into ErrPoolExhausted instead
	// of unbounded memory.
	Max int
	// GrowthStep is how many objects the pool creates at once when an
	// Acquire finds none free and Growth is on (fewer if Max is near).
	// 0 means 1. Bigger steps pay for a burst in one go.
	GrowthStep int
	// Growth lets the pool create objects beyond Initial, up to Max. Off,
	// the pool holds exactly Initial objects.
	Growth bool
}

// PoolStats is a snapshot of a [Pool]. Total == Active + Available.
type PoolStats struct {
	Total     int // objects the pool owns: acquired plus free
	Active    int // objects acquired and not yet released
	Available int // free objects, ready for Acquire
	// Allocations counts the objects ever created (calls of newFn). Once
	// the pool has warmed up it stays put: that is the saving.
	Allocations uint64
}

// String formats s on one line, for logs.
func (s PoolStats) String() string {
	return fmt.Sprintf("total=%d active=%d available=%d allocations=%d",
		s.Total, s.Active, s.Available, s.Allocations)
}

// Pool is a typed object pool with a fixed or growing size: the
// connection pool. Unlike [sync.Pool] it never drops objects behind the
// caller's back, it can be capped, and it counts what it holds, so it
// suits objects that are costly to build (connection state with its
// buffers) and whose number should be bounded.
//
// Acquire hands out a free object, creating more (GrowthStep at a time)
// when none is free and the config allows, and fails with
// [ErrPoolExhausted] otherwise. Release runs the reset hook on the object
// and makes it free again; objects are reused last-in first-out, so the
// ones in use stay warm in the cache.
//
// A Pool is safe for concurrent use. newFn and reset run without the
// pool's lock held, so they may be slow, and may use the pool.
type Pool[T any] struct {
	cfg   PoolConfig
	newFn func() T
	reset func(T)

	mu       sync.Mutex
	free     []T
	active   int
	total    int // created and not dropped: active + len(free)
	creating int // objects being created by Acquire calls, outside mu
	allocs   uint64
}

// NewPool returns a pool of objects made by newFn, with Initial of them
// created now. reset, if not nil, is called on every released object
// before it becomes free again; use it to clear what one user left for
// the next. It returns an error if newFn is nil, if a size is negative, if
// Initial exceeds a non-zero Max, or if the pool could never hand out an
// object (Initial 0 and Growth off).
func NewPool[T any](cfg PoolConfig, newFn func() T, reset func(T)) (*Pool[T], error) {
	switch {
	case newFn == nil:
		return nil, errors.New("pool: NewPool: nil newFn")
	case cfg.Initial < 0 || cfg.Max < 0 || cfg.GrowthStep < 0:
		return nil, fmt.Errorf("pool: NewPool: negative size in %+v", cfg)
	case cfg.Max > 0 && cfg.Initial > cfg.Max:
		return nil, fmt.Errorf("pool: NewPool: Initial %d above Max %d", cfg.Initial, cfg.Max)
	case cfg.Initial == 0 && !cfg.Growth:
		return nil, errors.New("pool: NewPool: Initial 0 and Growth off: every Acquire would fail")
	}
	if cfg.GrowthStep == 0 {
		cfg.GrowthStep = 1
	}
	p := &Pool[T]{cfg: cfg, newFn: newFn, reset: reset}
	p.free = make([]T, 0, cfg.Initial)
	for range cfg.Initial {
		p.free = append(p.free, newFn())
	}
	p.total = cfg.Initial
	p.allocs = uint64(cfg.Initial)
	return p, nil
}

// Acquire returns a free object, growing the pool if none is free and the
// config allows it. It returns [ErrPoolExhausted] (and the zero T) if no
// object is free and Growth is off or Max objects exist already.
func (p *Pool[T]) Acquire() (T, error) {
	p.mu.Lock()
	if k := len(p.free); k > 0 {
		v := p.free[k-1]
		var zero T
		p.free[k-1] = zero // the slot must not keep v alive once it is dropped
		p.free = p.free[:k-1]
		p.active++
		p.mu.Unlock()
		return v, nil
	}
	step := p.cfg.GrowthStep
	if p.cfg.Max > 0 {
		step = min(step, p.cfg.Max-p.total-p.creating)
	}
	if !p.cfg.Growth || step <= 0 {
		p.mu.Unlock()
		var zero T
		return zero, ErrPoolExhausted
	}
	// Reserve the room, then build outside the lock: newFn may be slow,
	// and other callers should not wait for it.
	p.creating += step
	p.mu.Unlock()
	return p.grow(step)
}

// grow creates step objects, the first for the caller and the rest free.
func (p *Pool[T]) grow(step int) (T, error) {
	made := make([]T, 0, step)
	ok := false
	defer func() {
		// Runs also if newFn panics: then the reservation is given back,
		// what was made is kept free, and the panic goes on.
		p.mu.Lock()
		p.creating -= step
		p.allocs += uint64(len(made))
		p.total += len(made)
		if ok {
			p.active++
			made = made[1:]
		}
		p.free = append(p.free, made...)
		p.mu.Unlock()
	}()
	for range step {
		made = append(made, p.newFn())
	}
	first := made[0]
	ok = true
	return first, nil
}

// Release runs the reset hook on v and makes it free for the next
// Acquire. v must have come from this pool's Acquire and must not be used
// afterwards. A Release with no object outstanding (more releases than
// acquisitions) is a caller bug that the pool cannot see otherwise: it
// drops v, after reset, rather than grow past its accounting.
func (p *Pool[T]) Release(v T) {
	if p.reset != nil {
		p.reset(v)
	}
	p.mu.Lock()
	if p.active > 0 {
		p.active--
		p.free = append(p.free, v)
	}
	p.mu.Unlock()
}

// Stats returns a snapshot of the pool's counters.
func (p *Pool[T]) Stats() PoolStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return PoolStats{
		Total:       p.total,
		Active:      p.active,
		Available:   len(p.free),
		Allocations: p.allocs,
	}
}
