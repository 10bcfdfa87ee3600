package pool

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/rfc6455/websocket/internal/defaults"
	"github.com/rfc6455/websocket/internal/errs"

	"github.com/rfc6455/websocket/internal/affinity"
)

// Errors returned by [Workers].
var (
	// ErrPoolClosed is returned by the Post methods once Shutdown has been
	// called: the pool takes no new work.
	ErrPoolClosed = errors.New("websocket: worker pool closed")
	// ErrQueueFull is returned by TryPost when every worker's queue is
	// full: the task was not accepted.
	ErrQueueFull = errs.ErrQueueFull
)

// WorkersConfig configures a [Workers] pool. The zero value is ready to
// use: one worker per CPU, 1024 queued tasks per worker, no pinning.
type WorkersConfig struct {
	// Workers is the number of worker goroutines. 0 means
	// runtime.NumCPU(). More workers than CPUs only pays when tasks
	// block (on I/O, locks); for CPU-bound tasks it adds switching.
	Workers int

	// QueueSize is how many tasks each worker's queue holds, and also how
	// many tasks of one key may wait in PostKeyed's per-key queue.
	// 0 means 1024. A bigger queue absorbs longer bursts before Post
	// blocks (and TryPost fails) at the cost of memory (16 bytes a slot)
	// and of latency for the tasks at the back.
	QueueSize int

	// Affinity pins each worker to one CPU: on Linux the worker locks its
	// goroutine to an OS thread and binds that thread to the (i mod n)-th
	// CPU the process may run on, n being how many it may run on. This
	// can help cache locality when the pool owns the machine; it hurts
	// when other work competes for the same CPUs. Pinning is best effort
	// (a failed sched_setaffinity leaves the worker unpinned). On other
	// systems it does nothing.
	Affinity bool

	// Name identifies the pool in panic reports. Default "workers".
	Name string

	// OnPanic is called, on the worker, with what a task's panic recovered
	// and the stack of the panic. The worker carries on with its next task
	// either way. Default: log both with the standard logger. OnPanic
	// should return quickly; a panic inside it is recovered and dropped.
	OnPanic func(recovered any, stack []byte)
}

// WorkerStats is a snapshot of a [Workers] pool's counters. The fields are
// read one by one while the pool runs, so a snapshot taken under load may
// be off by the tasks that moved meanwhile; once Shutdown has returned
// nil, Queued and Running are 0 and Completed counts every accepted task.
type WorkerStats struct {
	Workers int   // worker goroutines configured
	Queued  int64 // accepted tasks not yet started (both Post and PostKeyed)
	Running int64 // tasks running now

	Completed uint64 // tasks that ended, by returning or by panicking
	Stolen    uint64 // queue entries a worker took from another worker's queue
	Rejected  uint64 // TryPost calls refused with ErrQueueFull
	Panics    uint64 // tasks that panicked (also counted in Completed)
}

// Workers is a fixed set of goroutines that run tasks: the I/O thread pool
// of the server. Create one with [NewWorkers], call Start, hand it tasks
// with Post, TryPost or PostKeyed, and stop it with Shutdown.
//
// Each worker has its own bounded queue (a channel). Post puts a task on a
// randomly chosen queue, moving on to the others if it is full. A worker
// runs the tasks of its own queue; when that is empty it steals from the
// other queues before it sleeps, so one slow task delays only the tasks
// that no idle worker has taken yet.
//
// PostKeyed runs the tasks of one key in the order they were posted, one
// at a time, on whatever worker is free: it keeps a FIFO per busy key and
// queues a single "drain" entry for it, which runs the key's tasks in
// turn. That is how a session's messages stay ordered without pinning the
// session to a worker. Different keys run in parallel.
//
// When the queues are full, Post and PostKeyed block until there is room
// or their context ends; TryPost fails at once with [ErrQueueFull]. A task
// that panics is recovered and reported (see [WorkersConfig.OnPanic]); it
// never kills its worker.
//
// All methods are safe for concurrent use. Tasks may post further tasks,
// but a task that blocks in Post while every queue is full can deadlock a
// pool whose every worker does the same: from inside tasks, prefer
// TryPost, or post with a context that ends. Tasks must not call
// runtime.Goexit, which would end their worker.
type Workers struct {
	cfg     WorkersConfig
	workers []worker
	shards  [keyShards]keyShard

	queued   atomic.Int64
	rejected atomic.Uint64

	// posters counts Post calls between their closed check and their
	// return, with postersClosed or-ed in once Shutdown begins. Whoever
	// brings it to exactly postersClosed (the last poster or Shutdown
	// itself) lets the workers drain: after that nothing can enter a
	// queue except from a live worker.
	posters atomic.Int64

	idle atomic.Int32  // workers asleep (or about to be) in next
	wake chan struct{} // a token per sleeper to wake, for stealing

	startOnce sync.Once
	closeOnce sync.Once
	drainOnce sync.Once
	abortOnce sync.Once

	closing  chan struct{} // closed when Shutdown begins: posters give up
	drainCh  chan struct{} // closed when no poster is left: workers exit once idle
	draining atomic.Bool   // drainCh is closed
	abortCh  chan struct{} // closed when a Shutdown context ends: workers stop at once
	aborted  atomic.Bool   // abortCh is closed
	live     atomic.Int32  // workers not yet returned
	done     chan struct{} // closed by the last worker to return

	cpus []int // Affinity: the CPUs the process may use, worker i gets cpus[i%len]
}

const postersClosed = 1 << 62

// keyBatch is how many tasks of one key a drain runs before it requeues
// itself, so that one flooded key does not hold a worker forever while
// the tasks behind it in that worker's queue wait.
const keyBatch = 32

// keyShards splits the per-key FIFOs over independent locks.
const keyShards = 32

// A worker's own state, padded so that two workers' counters never share a
// cache line.
type worker struct {
	queue     chan item
	running   atomic.Int32
	completed atomic.Uint64
	stolen    atomic.Uint64
	panics    atomic.Uint64
	_         [64]byte
}

// An item is one queue entry: a task, or the drain of a key's FIFO.
type item struct {
	fn  func()
	key *keyQueue
}

// NewWorkers returns a pool configured by cfg; its workers start with
// Start. Tasks posted before Start wait in the queues. It panics if
// cfg.Workers or cfg.QueueSize is negative.
func NewWorkers(cfg WorkersConfig) *Workers {
	if cfg.Workers < 0 || cfg.QueueSize < 0 {
		panic("pool: negative Workers or QueueSize")
	}
	if cfg.Workers == 0 {
		cfg.Workers = runtime.NumCPU()
	}
	if cfg.QueueSize == 0 {
		cfg.QueueSize = defaults.WorkerQueueSize
	}
	if cfg.Name == "" {
		cfg.Name = "workers"
	}
	w := &Workers{
		cfg:     cfg,
		workers: make([]worker, cfg.Workers),
		wake:    make(chan struct{}, cfg.Workers),
		closing: make(chan struct{}),
		drainCh: make(chan struct{}),
		abortCh: make(chan struct{}),
		done:    make(chan struct{}),
	}
	for i := range w.workers {
		w.workers[i].queue = make(chan item, cfg.QueueSize)
	}
	for i := range w.shards {
		w.shards[i].m = make(map[uint64]*keyQueue)
	}
	return w
}

// Start starts the workers. Calls after the first do nothing.
func (w *Workers) Start() {
	w.startOnce.Do(func() {
		if w.cfg.Affinity {
			w.cpus = affinity.CPUs()
		}
		w.live.Store(int32(len(w.workers)))
		for i := range w.workers {
			go w.run(i)
		}
	})
}

// Post queues task to run on some worker. If every queue is full it waits
// for room until ctx ends, and then returns ctx.Err(). After Shutdown has
// been called it returns [ErrPoolClosed], also to callers already waiting.
// A nil error means task will run, unless a Shutdown context expires first.
func (w *Workers) Post(ctx context.Context, task func()) error {
	return w.post(ctx, task, true)
}

// TryPost is Post without the wait: it returns [ErrQueueFull] (and counts
// the rejection) when every queue is full, and [ErrPoolClosed] after
// Shutdown.
func (w *Workers) TryPost(task func()) error {
	return w.post(context.Background(), task, false)
}

// post is Post, or TryPost if !wait.
func (w *Workers) post(ctx context.Context, task func(), wait bool) error {
	if task == nil {
		panic("pool: nil task")
	}
	if !w.enterPoster() {
		return ErrPoolClosed
	}
	defer w.exitPoster()
	w.queued.Add(1)
	var err error
	if wait {
		err = w.enqueue(ctx, item{fn: task}, true)
	} else if !w.tryEnqueue(item{fn: task}) {
		w.rejected.Add(1)
		err = ErrQueueFull
	}
	if err != nil {
		w.queued.Add(-1)
	}
	return err
}

// PostKeyed queues task behind the earlier tasks posted with the same key:
// tasks of one key run in the order their PostKeyed calls returned, never
// two at once, though not necessarily on the same worker. Tasks of
// different keys run in parallel.
//
// It waits, until ctx ends, while QueueSize tasks of this key are already
// waiting, or when the key was idle and every queue is full. A task must
// not post to its own key with a context that never ends: if the key's
// FIFO is full, it would wait for itself.
func (w *Workers) PostKeyed(ctx context.Context, key uint64, task func()) error {
	if task == nil {
		panic("pool: nil task")
	}
	if !w.enterPoster() {
		return ErrPoolClosed
	}
	defer w.exitPoster()
	sh := &w.shards[key%keyShards]
	for {
		sh.mu.Lock()
		kq := sh.m[key]
		if kq == nil {
			// The key was idle: its FIFO starts with task, and a drain
			// entry must be queued. The common case, a queue with room,
			// happens under the lock, so nobody sees the key busy without
			// a drain on its way.
			kq = sh.alloc(key)
			kq.push(task)
			w.queued.Add(1)
			if w.tryEnqueue(item{key: kq}) {
				sh.mu.Unlock()
				return nil
			}
			// Every queue is full: wait for room outside the lock. Until
			// the drain is queued, later posters for this key wait too
			// (kq.posting), so that if we give up, nothing was promised
			// behind our task.
			kq.posting = true
			sh.mu.Unlock()
			err := w.enqueue(ctx, item{key: kq}, true)
			sh.mu.Lock()
			kq.posting = false
			switch {
			case err != nil:
				// No drain exists: take our task back. Nobody pushed
				// behind it while we were posting.
				kq.pop()
				w.queued.Add(-1)
				sh.release(kq)
			case kq.idle:
				// The drain already ran our task and found the FIFO
				// empty, but left kq to us, who still held it.
				sh.release(kq)
			}
			kq.signal()
			sh.mu.Unlock()
			return err
		}
		if !kq.posting && kq.n < w.cfg.QueueSize {
			kq.push(task)
			w.queued.Add(1)
			sh.mu.Unlock()
			return nil
		}
		ch := kq.waitCh()
		sh.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-w.closing:
			return ErrPoolClosed
		}
	}
}

// Shutdown stops intake (the Post methods return [ErrPoolClosed] from now
// on), lets the workers finish every task already accepted, keyed ones
// included, and returns nil once all workers have returned. If ctx ends
// first it returns ctx.Err() and tells the workers to stop after the task
// each is running: queued tasks are then abandoned (Stats reports them as
// Queued), and the workers return as soon as their current tasks do.
//
// Shutdown may be called more than once, and concurrently; every call
// waits for the workers the same way, so a second call with a fresh
// context can wait for the stop that an expired one ordered. A pool that
// was never started is started, so that what was queued still runs.
func (w *Workers) Shutdown(ctx context.Context) error {
	w.Start()
	w.closeOnce.Do(func() {
		close(w.closing)
		if old := w.posters.Or(postersClosed); old&^postersClosed == 0 {
			w.startDrain()
		}
	})
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		w.abortOnce.Do(func() {
			w.aborted.Store(true)
			close(w.abortCh)
		})
		return ctx.Err()
	}
}

// Stats returns a snapshot of the pool's counters.
func (w *Workers) Stats() WorkerStats {
	s := WorkerStats{
		Workers:  len(w.workers),
		Queued:   w.queued.Load(),
		Rejected: w.rejected.Load(),
	}
	for i := range w.workers {
		wk := &w.workers[i]
		s.Running += int64(wk.running.Load())
		s.Completed += wk.completed.Load()
		s.Stolen += wk.stolen.Load()
		s.Panics += wk.panics.Load()
	}
	return s
}

func (w *Workers) enterPoster() bool {
	if w.posters.Add(1)&postersClosed != 0 {
		w.exitPoster()
		return false
	}
	return true
}

func (w *Workers) exitPoster() {
	if w.posters.Add(-1) == postersClosed {
		w.startDrain()
	}
}

// startDrain tells the workers that no poster is left: from now on only
// workers put entries into queues (a drain requeuing itself), and a
// worker that finds every queue empty may return.
func (w *Workers) startDrain() {
	w.drainOnce.Do(func() {
		w.draining.Store(true)
		close(w.drainCh)
	})
}

// tryEnqueue puts it on a random queue, or on the next one with room.
func (w *Workers) tryEnqueue(it item) bool {
	n := len(w.workers)
	start := rand.IntN(n)
	for j := range n {
		select {
		case w.workers[(start+j)%n].queue <- it:
			w.wakeOne()
			return true
		default:
		}
	}
	return false
}

// enqueue is tryEnqueue that, when block is set, waits on one queue for
// room. Waiting on one queue is enough: idle workers steal from every
// queue, so a full queue drains as fast as any other.
func (w *Workers) enqueue(ctx context.Context, it item, block bool) error {
	if w.tryEnqueue(it) {
		return nil
	}
	if !block {
		return ErrQueueFull
	}
	q := w.workers[rand.IntN(len(w.workers))].queue
	select {
	case q <- it:
		w.wakeOne()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-w.closing:
		return ErrPoolClosed
	}
}

// wakeOne wakes a sleeping worker, if there is one, to steal what was
// just queued: the queue's owner may be busy with a long task.
func (w *Workers) wakeOne() {
	if w.idle.Load() > 0 {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}
