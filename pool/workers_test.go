package pool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/websocket/internal/affinity"
	"github.com/rfc6455/websocket/internal/testutil"
)

// shutdown stops w within a generous bound, failing t if it does not.
func shutdown(t *testing.T, w *Workers) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// blocker posts a task that holds its worker until the returned release
// is called, and waits until the task is running.
func blocker(t *testing.T, w *Workers) (release func()) {
	t.Helper()
	started, hold := make(chan struct{}), make(chan struct{})
	if err := w.Post(context.Background(), func() { close(started); <-hold }); err != nil {
		t.Fatalf("Post(blocker): %v", err)
	}
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("blocker never started")
	}
	var once sync.Once
	return func() { once.Do(func() { close(hold) }) }
}

func TestNewWorkersDefaults(t *testing.T) {
	w := NewWorkers(WorkersConfig{})
	if got, want := len(w.workers), runtime.NumCPU(); got != want {
		t.Errorf("workers = %d, want NumCPU %d", got, want)
	}
	if got := cap(w.workers[0].queue); got != 1024 {
		t.Errorf("queue size = %d, want 1024", got)
	}
	if w.cfg.Name != "workers" {
		t.Errorf("name = %q, want workers", w.cfg.Name)
	}
	if got := w.Stats().Workers; got != runtime.NumCPU() {
		t.Errorf("Stats().Workers = %d", got)
	}
	shutdown(t, w) // never started: Shutdown starts and stops it

	for _, cfg := range []WorkersConfig{{Workers: -1}, {QueueSize: -1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewWorkers(%+v) did not panic", cfg)
				}
			}()
			NewWorkers(cfg)
		}()
	}
}

func TestWorkersRunEveryTask(t *testing.T) {
	defer testutil.CheckGoroutines(t)()
	w := NewWorkers(WorkersConfig{Workers: 4, QueueSize: 16})
	w.Start()
	const n = 2000
	var ran atomic.Int64
	var wg sync.WaitGroup
	for p := range 4 { // several posters, so the queues fill and Post waits
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n / 4 {
				var err error
				if (p+i)%2 == 0 {
					err = w.Post(context.Background(), func() { ran.Add(1) })
				} else {
					err = w.PostKeyed(context.Background(), uint64(i%7), func() { ran.Add(1) })
				}
				if err != nil {
					t.Errorf("post: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	shutdown(t, w)
	if got := ran.Load(); got != n {
		t.Fatalf("ran %d tasks, want %d", got, n)
	}
	s := w.Stats()
	if s.Completed != n || s.Queued != 0 || s.Running != 0 || s.Panics != 0 || s.Rejected != 0 {
		t.Fatalf("Stats() = %v, want completed=%d and nothing queued, running, panicked or rejected", s, n)
	}
}

// An idle worker takes the tasks queued behind a busy one.
func TestWorkersSteal(t *testing.T) {
	w := NewWorkers(WorkersConfig{Workers: 2, QueueSize: 64})
	w.Start()
	defer shutdown(t, w)
	release := blocker(t, w)
	defer release()

	// Each task lands on either queue. With one worker held, all of them
	// can finish only if the free worker steals what went to the other.
	const n = 100
	var wg sync.WaitGroup
	wg.Add(n)
	for range n {
		if err := w.Post(context.Background(), wg.Done); err != nil {
			t.Fatal(err)
		}
	}
	waitTimeout(t, &wg, 5*time.Second)
	// wg.Done runs inside the task: wait for the last one to be counted.
	for deadline := time.Now().Add(5 * time.Second); w.Stats().Completed < n && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	s := w.Stats()
	if s.Stolen == 0 {
		t.Errorf("Stolen = 0 after %d tasks ran beside a blocked worker (chance 2^-%d)", n, n)
	}
	if s.Running != 1 {
		t.Errorf("Running = %d, want 1 (the blocker)", s.Running)
	}
	release()
}

func waitTimeout(t *testing.T, wg *sync.WaitGroup, d time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("tasks did not finish within %v", d)
	}
}

// Tasks of one key run in posting order and never overlap, while their
// drains move between workers: many keys, one of them flooded, random
// task durations, a worker held by a long task so that stealing happens,
// and several posters per key (order is per poster then).
func TestWorkersKeyedOrderUnderStealing(t *testing.T) {
	const (
		keys        = 40
		flooded     = 7 // this key gets floodFactor times the tasks
		floodFactor = 20
		perKey      = 30
		posters     = 3
	)
	w := NewWorkers(WorkersConfig{Workers: 4, QueueSize: 8})
	w.Start()
	release := blocker(t, w)

	type state struct {
		busy atomic.Int32
		next [posters]int // next expected sequence number per poster
	}
	var states [keys]state
	var errs atomic.Int64
	fail := func(format string, args ...any) {
		if errs.Add(1) <= 5 {
			t.Errorf(format, args...)
		}
	}
	var ran atomic.Int64

	var wg sync.WaitGroup
	total := 0
	for p := range posters {
		for k := range keys {
			n := perKey
			if k == flooded {
				n *= floodFactor
			}
			total += n
			wg.Add(1)
			go func() {
				defer wg.Done()
				st := &states[k]
				for seq := range n {
					// Random durations: mostly a short spin, sometimes a sleep,
					// which lets other drains overtake this one.
					spin, sleep := rand.IntN(2000), rand.IntN(20) == 0
					err := w.PostKeyed(context.Background(), uint64(k), func() {
						if !st.busy.CompareAndSwap(0, 1) {
							fail("key %d: two tasks at once", k)
						}
						if st.next[p] != seq {
							fail("key %d poster %d: ran seq %d, want %d", k, p, seq, st.next[p])
						}
						st.next[p] = seq + 1
						spinFor(spin)
						if sleep {
							time.Sleep(20 * time.Microsecond)
						}
						ran.Add(1)
						st.busy.Store(0)
					})
					if err != nil {
						fail("PostKeyed: %v", err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	// Let the drains run a while beside the blocked worker, then free it.
	time.Sleep(10 * time.Millisecond)
	release()
	shutdown(t, w)
	if got := ran.Load(); got != int64(total) {
		t.Fatalf("ran %d keyed tasks, want %d", got, total)
	}
	s := w.Stats()
	if s.Stolen == 0 {
		t.Errorf("no entry was stolen: the test did not exercise stealing")
	}
	if s.Completed != uint64(total)+1 || s.Queued != 0 {
		t.Errorf("Stats() = %v, want completed=%d queued=0", s, total+1)
	}
	for i := range w.shards {
		if n := len(w.shards[i].m); n != 0 {
			t.Errorf("shard %d still has %d busy keys after Shutdown", i, n)
		}
	}
}

// PostKeyed waits while QueueSize tasks of its key wait, without holding
// back other keys.
func TestWorkersPostKeyedPerKeyLimit(t *testing.T) {
	w := NewWorkers(WorkersConfig{Workers: 2, QueueSize: 2})
	w.Start()
	defer shutdown(t, w)
	started, hold := make(chan struct{}), make(chan struct{})
	defer close(hold)
	bg := context.Background()
	if err := w.PostKeyed(bg, 1, func() { close(started); <-hold }); err != nil {
		t.Fatal(err)
	}
	<-started
	for range 2 { // the key's FIFO holds QueueSize tasks
		if err := w.PostKeyed(bg, 1, func() {}); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now() // before the context, so that a stall between them cannot shorten the wait
	ctx, cancel := context.WithTimeout(bg, 30*time.Millisecond)
	defer cancel()
	if err := w.PostKeyed(ctx, 1, func() { t.Error("rejected task ran") }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("PostKeyed on a full key: %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("PostKeyed returned after %v, before its deadline", d)
	}
	done := make(chan struct{})
	if err := w.PostKeyed(bg, 2, func() { close(done) }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("key 2 held back by key 1")
	}
	if got := w.Stats().Queued; got != 2 {
		t.Errorf("Queued = %d, want 2 (key 1's FIFO)", got)
	}
}

// A waiting PostKeyed goes ahead as soon as the key's FIFO has room.
func TestWorkersPostKeyedWaitsForRoom(t *testing.T) {
	w := NewWorkers(WorkersConfig{Workers: 1, QueueSize: 1})
	w.Start()
	defer shutdown(t, w)
	bg := context.Background()
	release := make(chan struct{})
	var order []int
	var mu sync.Mutex
	add := func(i int) func() {
		return func() { mu.Lock(); order = append(order, i); mu.Unlock() }
	}
	if err := w.PostKeyed(bg, 9, func() { <-release; add(0)() }); err != nil {
		t.Fatal(err)
	}
	if err := w.PostKeyed(bg, 9, add(1)); err != nil {
		t.Fatal(err)
	}
	posted := make(chan error)
	go func() { posted <- w.PostKeyed(bg, 9, add(2)) }()
	select {
	case err := <-posted:
		t.Fatalf("PostKeyed returned %v on a full key", err)
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	if err := <-posted; err != nil {
		t.Fatal(err)
	}
	shutdown(t, w)
	if !slices.Equal(order, []int{0, 1, 2}) {
		t.Fatalf("order %v, want [0 1 2]", order)
	}
}

// When the key is idle and every queue is full, PostKeyed waits for a
// queue; if it gives up, the key is left idle and usable, and the posters
// that queued up behind it meanwhile did not get promises it broke.
func TestWorkersPostKeyedIdleKeyQueuesFull(t *testing.T) {
	w := NewWorkers(WorkersConfig{Workers: 1, QueueSize: 1}) // not started: queues fill
	bg := context.Background()
	var ran []string
	var mu sync.Mutex
	add := func(s string) func() {
		return func() { mu.Lock(); ran = append(ran, s); mu.Unlock() }
	}
	if err := w.Post(bg, add("plain")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(bg, 40*time.Millisecond)
	defer cancel()
	second := make(chan error)
	go func() {
		time.Sleep(10 * time.Millisecond) // behind the first, which is posting
		second <- w.PostKeyed(ctx, 5, add("second"))
	}()
	if err := w.PostKeyed(ctx, 5, add("first")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("PostKeyed with full queues: %v, want DeadlineExceeded", err)
	}
	if err := <-second; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second PostKeyed: %v, want DeadlineExceeded", err)
	}
	if _, busy := w.shards[5%keyShards].m[5]; busy {
		t.Fatal("key 5 left busy after its post failed")
	}
	if got := w.Stats().Queued; got != 1 {
		t.Fatalf("Queued = %d, want 1", got)
	}
	w.Start()
	if err := w.PostKeyed(bg, 5, add("third")); err != nil {
		t.Fatal(err)
	}
	shutdown(t, w)
	if !slices.Equal(ran, []string{"plain", "third"}) {
		t.Fatalf("ran %v, want [plain third]", ran)
	}
}

func TestWorkersShutdownDrains(t *testing.T) {
	defer testutil.CheckGoroutines(t)()
	w := NewWorkers(WorkersConfig{Workers: 2, QueueSize: 200})
	w.Start()
	release := blocker(t, w)
	var ran atomic.Int64
	slow := func() {
		if ran.Add(1)%8 == 0 {
			time.Sleep(50 * time.Microsecond)
		}
	}
	const plain, keyed = 200, 150
	for i := range plain {
		if err := w.TryPost(slow); err != nil {
			t.Fatalf("TryPost %d: %v", i, err)
		}
	}
	for i := range keyed {
		if err := w.PostKeyed(context.Background(), uint64(i%3), slow); err != nil {
			t.Fatal(err)
		}
	}
	shut := make(chan error)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- w.Shutdown(ctx)
	}()
	// Shutdown stops intake at once, before the queues drain.
	deadline := time.Now().Add(5 * time.Second)
	for w.TryPost(func() {}) != ErrPoolClosed {
		if time.Now().After(deadline) {
			t.Fatal("TryPost still accepted tasks after Shutdown")
		}
		time.Sleep(time.Millisecond)
	}
	release()
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	// Tasks accepted by the TryPost loop above before it saw the close
	// are no-ops; count only ours.
	if got := ran.Load(); got != plain+keyed {
		t.Fatalf("ran %d tasks, want all %d queued before Shutdown", got, plain+keyed)
	}
	if s := w.Stats(); s.Queued != 0 || s.Running != 0 {
		t.Fatalf("Stats() after Shutdown = %v", s)
	}
}

// A Shutdown whose context ends abandons the queue; the workers stop
// after their current task, and a second Shutdown waits for them.
func TestWorkersShutdownExpired(t *testing.T) {
	defer testutil.CheckGoroutines(t)()
	w := NewWorkers(WorkersConfig{Workers: 1, QueueSize: 16})
	w.Start()
	release := blocker(t, w)
	defer release()
	var ran atomic.Int64
	for range 10 {
		if err := w.Post(context.Background(), func() { ran.Add(1) }); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		if err := w.PostKeyed(context.Background(), 1, func() { ran.Add(1) }); err != nil {
			t.Fatal(err, i)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown(cancelled) = %v, want Canceled", err)
	}
	release()
	shutdown(t, w) // waits for the worker to finish the blocker and stop
	if got := ran.Load(); got != 0 {
		t.Errorf("%d queued tasks ran after the Shutdown context ended", got)
	}
	s := w.Stats()
	if s.Queued != 13 || s.Completed != 1 || s.Running != 0 {
		t.Errorf("Stats() = %v, want queued=13 (abandoned) completed=1 running=0", s)
	}
}

func TestWorkersPostAfterShutdown(t *testing.T) {
	w := NewWorkers(WorkersConfig{Workers: 1})
	w.Start()
	shutdown(t, w)
	shutdown(t, w) // again: still nil
	task := func() { t.Error("task ran after Shutdown") }
	if err := w.Post(context.Background(), task); err != ErrPoolClosed {
		t.Errorf("Post: %v, want ErrPoolClosed", err)
	}
	if err := w.TryPost(task); err != ErrPoolClosed {
		t.Errorf("TryPost: %v, want ErrPoolClosed", err)
	}
	if err := w.PostKeyed(context.Background(), 3, task); err != ErrPoolClosed {
		t.Errorf("PostKeyed: %v, want ErrPoolClosed", err)
	}
	if s := w.Stats(); s.Rejected != 0 || s.Queued != 0 {
		t.Errorf("Stats() = %v: closed posts are neither rejected nor queued", s)
	}
}

// Posters waiting for room when Shutdown begins give up with ErrPoolClosed.
func TestWorkersShutdownReleasesWaitingPosters(t *testing.T) {
	w := NewWorkers(WorkersConfig{Workers: 1, QueueSize: 1})
	w.Start()
	release := blocker(t, w)
	bg := context.Background()
	if err := w.Post(bg, func() {}); err != nil { // fills the queue
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	go func() { errs <- w.Post(bg, func() {}) }()
	go func() { errs <- w.PostKeyed(bg, 2, func() {}) }()
	time.Sleep(10 * time.Millisecond)
	shut := make(chan error)
	go func() { shut <- w.Shutdown(bg) }()
	for range 2 {
		select {
		case err := <-errs:
			if err != ErrPoolClosed {
				t.Errorf("waiting post: %v, want ErrPoolClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a waiting post did not return on Shutdown")
		}
	}
	release()
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
}

func TestWorkersTryPostFull(t *testing.T) {
	w := NewWorkers(WorkersConfig{Workers: 2, QueueSize: 3}) // not started
	var ran atomic.Int64
	task := func() { ran.Add(1) }
	for i := range 6 {
		if err := w.TryPost(task); err != nil {
			t.Fatalf("TryPost %d of 6 slots: %v", i, err)
		}
	}
	for range 2 {
		if err := w.TryPost(task); err != ErrQueueFull {
			t.Fatalf("TryPost on full queues: %v, want ErrQueueFull", err)
		}
	}
	if s := w.Stats(); s.Rejected != 2 || s.Queued != 6 {
		t.Fatalf("Stats() = %v, want rejected=2 queued=6", s)
	}
	shutdown(t, w)
	if got := ran.Load(); got != 6 {
		t.Fatalf("ran %d, want 6", got)
	}
}

func TestWorkersPostWaitsThenContextEnds(t *testing.T) {
	w := NewWorkers(WorkersConfig{Workers: 1, QueueSize: 1}) // not started
	bg := context.Background()
	if err := w.Post(bg, func() {}); err != nil {
		t.Fatal(err)
	}
	start := time.Now() // before the context, so that a stall between them cannot shorten the wait
	ctx, cancel := context.WithTimeout(bg, 30*time.Millisecond)
	defer cancel()
	err := w.Post(ctx, func() { t.Error("timed-out task ran") })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Post on full queues: %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Fatalf("Post gave up after %v, before its context ended", d)
	}
	// And it goes through once there is room.
	done := make(chan struct{})
	posted := make(chan error)
	go func() { posted <- w.Post(bg, func() { close(done) }) }()
	w.Start()
	if err := <-posted; err != nil {
		t.Fatal(err)
	}
	<-done
	shutdown(t, w)
	if s := w.Stats(); s.Completed != 2 || s.Queued != 0 {
		t.Fatalf("Stats() = %v, want completed=2 queued=0", s)
	}
}

func TestWorkersPanics(t *testing.T) {
	type report struct {
		value any
		stack []byte
	}
	var mu sync.Mutex
	var reports []report
	w := NewWorkers(WorkersConfig{Workers: 2, OnPanic: func(r any, stack []byte) {
		mu.Lock()
		reports = append(reports, report{r, stack})
		mu.Unlock()
	}})
	w.Start()
	var ran atomic.Int64
	bg := context.Background()
	for i := range 10 {
		var err error
		switch i % 3 {
		case 0:
			err = w.Post(bg, func() { panic(fmt.Sprint("boom ", i)) })
		case 1:
			err = w.PostKeyed(bg, 1, func() { panic(fmt.Sprint("boom ", i)) })
		default:
			err = w.Post(bg, func() { ran.Add(1) })
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	// A keyed task after a panicking one of the same key still runs.
	if err := w.PostKeyed(bg, 1, func() { ran.Add(1) }); err != nil {
		t.Fatal(err)
	}
	shutdown(t, w)
	if got := ran.Load(); got != 4 {
		t.Errorf("ran %d healthy tasks, want 4", got)
	}
	s := w.Stats()
	if s.Panics != 7 || s.Completed != 11 {
		t.Errorf("Stats() = %v, want panics=7 completed=11", s)
	}
	if len(reports) != 7 {
		t.Fatalf("OnPanic called %d times, want 7", len(reports))
	}
	var values []string
	for _, r := range reports {
		values = append(values, r.value.(string))
		if !bytes.Contains(r.stack, []byte("TestWorkersPanics")) {
			t.Errorf("stack of %v does not show the panicking task:\n%s", r.value, r.stack)
		}
	}
	slices.Sort(values)
	want := []string{"boom 0", "boom 1", "boom 3", "boom 4", "boom 6", "boom 7", "boom 9"}
	if !slices.Equal(values, want) {
		t.Errorf("recovered %q, want %q", values, want)
	}
}

func TestWorkersPanicDefaultLogsAndBadOnPanic(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	defer log.SetOutput(log.Writer())
	log.SetOutput(writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return buf.Write(p) }))
	w := NewWorkers(WorkersConfig{Workers: 1, Name: "ioPool"})
	w.Start()
	if err := w.Post(context.Background(), func() { panic("kaboom") }); err != nil {
		t.Fatal(err)
	}
	shutdown(t, w)
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	if !bytes.Contains([]byte(out), []byte("ioPool")) || !bytes.Contains([]byte(out), []byte("kaboom")) {
		t.Errorf("default report %q does not name the pool and the panic", out)
	}

	// An OnPanic that panics itself does not kill the worker.
	w = NewWorkers(WorkersConfig{Workers: 1, OnPanic: func(any, []byte) { panic("in OnPanic") }})
	w.Start()
	var ran atomic.Bool
	_ = w.Post(context.Background(), func() { panic("first") })
	_ = w.Post(context.Background(), func() { ran.Store(true) })
	shutdown(t, w)
	if !ran.Load() {
		t.Error("the task after a panicking OnPanic did not run")
	}
}

var spinSink atomic.Uint64

// spinFor burns about n loop iterations of CPU.
func spinFor(n int) {
	x := uint64(n)
	for i := range n {
		x = x*6364136223846793005 + uint64(i)
	}
	spinSink.Store(x)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// Stats stay consistent while many goroutines post, try and fail.
func TestWorkersStatsConsistent(t *testing.T) {
	w := NewWorkers(WorkersConfig{Workers: 3, QueueSize: 4, OnPanic: func(any, []byte) {}})
	w.Start()
	var accepted, rejected, panicked atomic.Uint64
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				task := func() {}
				if i%50 == 0 {
					task = func() { panic("x") }
				}
				var err error
				switch (p + i) % 3 {
				case 0:
					err = w.TryPost(task)
				case 1:
					err = w.Post(context.Background(), task)
				default:
					err = w.PostKeyed(context.Background(), uint64(i%5), task)
				}
				switch {
				case err == nil:
					accepted.Add(1)
					if i%50 == 0 {
						panicked.Add(1)
					}
				case err == ErrQueueFull:
					rejected.Add(1)
				default:
					t.Errorf("post: %v", err)
				}
				if s := w.Stats(); s.Queued < 0 || s.Running < 0 || s.Running > 3 {
					t.Errorf("Stats() under load = %v", s)
					return
				}
			}
		}()
	}
	wg.Wait()
	shutdown(t, w)
	s := w.Stats()
	if s.Completed != accepted.Load() || s.Rejected != rejected.Load() || s.Queued != 0 || s.Running != 0 {
		t.Fatalf("Stats() = %v; accepted %d, rejected %d", s, accepted.Load(), rejected.Load())
	}
	if s.Panics != panicked.Load() {
		t.Fatalf("Panics = %d, want %d", s.Panics, panicked.Load())
	}
}

func TestWorkersNilTaskPanics(t *testing.T) {
	w := NewWorkers(WorkersConfig{Workers: 1})
	defer shutdown(t, w)
	for name, post := range map[string]func(){
		"Post":      func() { _ = w.Post(context.Background(), nil) },
		"TryPost":   func() { _ = w.TryPost(nil) },
		"PostKeyed": func() { _ = w.PostKeyed(context.Background(), 1, nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s(nil) did not panic", name)
				}
			}()
			post()
		}()
	}
}

// With Affinity on Linux, each task runs on a thread pinned to a single
// CPU the process may use, and the caller's thread is left alone.
func TestWorkersAffinity(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("affinity is a no-op off Linux")
	}
	allowed := affinity.CPUs()
	if len(allowed) == 0 {
		t.Skip("sched_getaffinity unavailable")
	}
	w := NewWorkers(WorkersConfig{Workers: 3, Affinity: true})
	w.Start()
	var mu sync.Mutex
	seen := map[int]bool{}
	for range 30 {
		err := w.Post(context.Background(), func() {
			cpus := affinity.CPUs()
			mu.Lock()
			defer mu.Unlock()
			if len(cpus) != 1 || !slices.Contains(allowed, cpus[0]) {
				t.Errorf("worker thread may run on %v, want one CPU of %v", cpus, allowed)
				return
			}
			seen[cpus[0]] = true
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	shutdown(t, w)
	if len(seen) == 0 {
		t.Error("no task reported its CPU")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if got := affinity.CPUs(); !slices.Equal(got, allowed) {
		t.Errorf("after Shutdown this thread may run on %v, want %v: a pinned thread was reused", got, allowed)
	}
}

// Posting reuses everything: the queues, the per-key FIFOs and the
// shard maps. (The tasks themselves are the caller's business.)
func TestWorkersPostDoesNotAllocate(t *testing.T) {
	w := NewWorkers(WorkersConfig{Workers: 2, QueueSize: 64})
	w.Start()
	defer shutdown(t, w)
	ctx := context.Background()
	var wg sync.WaitGroup
	task := wg.Done
	for name, post := range map[string]func(i int) error{
		"Post":      func(int) error { return w.Post(ctx, task) },
		"TryPost":   func(int) error { return w.TryPost(task) },
		"PostKeyed": func(i int) error { return w.PostKeyed(ctx, uint64(i%4), task) },
	} {
		i := 0
		round := func() {
			wg.Add(8)
			for range 8 {
				if err := post(i); err != nil {
					t.Fatal(err)
				}
				i++
			}
			wg.Wait()
		}
		round() // warm up: key FIFOs and map entries exist now
		if allocs := testing.AllocsPerRun(200, round); allocs != 0 {
			t.Errorf("%s: %v allocations per 8 posts, want 0", name, allocs)
		}
	}
}

// Keys of one shard posted while every queue is full take the slow path
// (waiting for room with the key marked as posting) over and over, while
// drains finish and their FIFOs are reused: order holds, every task runs
// once, and the shards end empty with no FIFO filed twice for reuse.
func TestWorkersPostKeyedSlowPathStress(t *testing.T) {
	w := NewWorkers(WorkersConfig{Workers: 2, QueueSize: 1})
	w.Start()
	const keys, posters, perPoster = 4, 2, 300
	var next [keys][posters]int
	var busy [keys]atomic.Int32
	var ran atomic.Int64
	var wg sync.WaitGroup
	for k := range keys {
		for p := range posters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key := uint64(k * keyShards) // all in shard 0
				for seq := range perPoster {
					err := w.PostKeyed(context.Background(), key, func() {
						if !busy[k].CompareAndSwap(0, 1) {
							t.Errorf("key %d: two tasks at once", k)
						}
						if next[k][p] != seq {
							t.Errorf("key %d poster %d: seq %d, want %d", k, p, seq, next[k][p])
						}
						next[k][p] = seq + 1
						ran.Add(1)
						busy[k].Store(0)
					})
					if err != nil {
						t.Error(err)
						return
					}
					if seq%16 == 0 {
						// Keep the queues full with plain tasks, so idle keys
						// often have to wait for room.
						_ = w.TryPost(func() { spinFor(500) })
					}
				}
			}()
		}
	}
	wg.Wait()
	shutdown(t, w)
	if got := ran.Load(); got != keys*posters*perPoster {
		t.Fatalf("ran %d, want %d", got, keys*posters*perPoster)
	}
	sh := &w.shards[0]
	if len(sh.m) != 0 {
		t.Fatalf("%d keys still busy", len(sh.m))
	}
	for i, a := range sh.free {
		for _, b := range sh.free[i+1:] {
			if a == b {
				t.Fatal("a FIFO was filed twice for reuse")
			}
		}
	}
}
