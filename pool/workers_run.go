package pool

import (
	"log"
	"runtime"
	"runtime/debug"

	"github.com/rfc6455/websocket/internal/affinity"
)

// run is worker i's goroutine: it runs the entries next hands it (a task,
// or a busy key's FIFO to drain) until the pool is drained or aborted.
func (w *Workers) run(i int) {
	defer func() {
		if w.live.Add(-1) == 0 {
			close(w.done)
		}
	}()
	if w.cfg.Affinity && len(w.cpus) > 0 {
		// Never unlocked: when this goroutine returns, the runtime ends
		// the pinned thread instead of reusing it for other goroutines.
		runtime.LockOSThread()
		_ = affinity.Pin(w.cpus[i%len(w.cpus)]) // best effort, as documented
	}
	me := &w.workers[i]
	for {
		it, ok := w.next(i)
		if !ok {
			return
		}
		if it.key != nil {
			w.drainKey(me, it.key)
		} else {
			w.runTask(me, it.fn)
		}
	}
}

// next returns worker i's next entry: from its own queue, else stolen
// from another, else whatever wakes it. It returns false when the worker
// should return: the pool aborted, or it is draining and nothing is left.
func (w *Workers) next(i int) (item, bool) {
	own := w.workers[i].queue
	for {
		if w.aborted.Load() {
			return item{}, false
		}
		// Read draining before looking at the queues: if it was already
		// set, every poster's send happened before the look, so empty
		// queues mean nothing is left for this worker.
		draining := w.draining.Load()
		if it, ok := w.poll(i); ok {
			return it, true
		}
		if draining {
			return item{}, false
		}
		// Announce the sleep, then look once more: a poster either sees
		// idle > 0 and sends a wake token, or queued before our second
		// look, which finds it.
		w.idle.Add(1)
		if it, ok := w.poll(i); ok {
			w.idle.Add(-1)
			return it, true
		}
		select {
		case it := <-own:
			w.idle.Add(-1)
			return it, true
		case <-w.wake:
		case <-w.drainCh:
		case <-w.abortCh:
		}
		w.idle.Add(-1)
	}
}

// poll takes an entry from worker i's queue, or steals one from the
// others, without waiting.
func (w *Workers) poll(i int) (item, bool) {
	select {
	case it := <-w.workers[i].queue:
		return it, true
	default:
	}
	n := len(w.workers)
	for j := 1; j < n; j++ {
		select {
		case it := <-w.workers[(i+j)%n].queue:
			w.workers[i].stolen.Add(1)
			return it, true
		default:
		}
	}
	return item{}, false
}

func (w *Workers) runTask(me *worker, fn func()) {
	w.queued.Add(-1)
	me.running.Store(1)
	defer func() {
		if r := recover(); r != nil {
			me.panics.Add(1)
			w.reportPanic(r, debug.Stack())
		}
		me.running.Store(0)
		me.completed.Add(1)
	}()
	fn()
}

func (w *Workers) reportPanic(r any, stack []byte) {
	defer func() { _ = recover() }() // a panicking OnPanic must not kill the worker either
	if w.cfg.OnPanic != nil {
		w.cfg.OnPanic(r, stack)
		return
	}
	log.Printf("pool: %s: task panicked: %v\n%s", w.cfg.Name, r, stack)
}

// drainKey runs the tasks of kq in order. The key stays in its shard's map
// (busy) until its FIFO is empty, so PostKeyed appends behind instead of
// queuing a second drain.
func (w *Workers) drainKey(me *worker, kq *keyQueue) {
	sh := kq.shard
	for ran := 0; ; ran++ {
		if w.aborted.Load() {
			return // abandoned with the pool
		}
		sh.mu.Lock()
		if kq.n == 0 {
			if kq.posting {
				kq.idle = true // the poster still uses kq; it releases it
			} else {
				sh.release(kq)
			}
			sh.mu.Unlock()
			return
		}
		if ran > 0 && ran%keyBatch == 0 && w.tryEnqueue(item{key: kq}) {
			// Let the entries behind this one run; the key's order is
			// safe because kq has exactly one drain entry at any time.
			sh.mu.Unlock()
			return
		}
		fn := kq.pop()
		kq.signal()
		sh.mu.Unlock()
		w.runTask(me, fn)
	}
}
