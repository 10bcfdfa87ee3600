package pool

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// The worker pool benchmarks run b.N small tasks (a few hundred
// nanoseconds of arithmetic each, about what decoding a small message
// costs) and wait for the last one. They compare Workers with the two
// things a user would write by hand: a goroutine per task, and one
// channel feeding runtime.NumCPU() goroutines. Run with
//
//	go test -run '^$' -bench 'Workers|GoPerTask|ChannelWorkers' -benchmem ./pool

const benchSpin = 200

// countdown counts finished tasks and wakes the benchmark at the last.
type countdown struct {
	left atomic.Int64
	done chan struct{}
}

func newCountdown(n int) *countdown {
	c := &countdown{done: make(chan struct{})}
	c.left.Store(int64(n))
	if n == 0 {
		close(c.done)
	}
	return c
}

func (c *countdown) task() {
	spinFor(benchSpin)
	if c.left.Add(-1) == 0 {
		close(c.done)
	}
}

func BenchmarkWorkersPost(b *testing.B) {
	w := NewWorkers(WorkersConfig{})
	w.Start()
	defer w.Shutdown(context.Background())
	c := newCountdown(b.N)
	task := c.task // one func value for every post: posting must not allocate
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := w.Post(ctx, task); err != nil {
			b.Fatal(err)
		}
	}
	<-c.done
}

// Many goroutines post at once, as the read loops of a server do.
func BenchmarkWorkersPostParallel(b *testing.B) {
	w := NewWorkers(WorkersConfig{})
	w.Start()
	defer w.Shutdown(context.Background())
	c := newCountdown(b.N)
	task := c.task
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := w.Post(ctx, task); err != nil {
				b.Error(err)
				return
			}
		}
	})
	<-c.done
}

// 1000 keys, as 1000 sessions with a message each in turn.
func BenchmarkWorkersPostKeyed(b *testing.B) {
	w := NewWorkers(WorkersConfig{})
	w.Start()
	defer w.Shutdown(context.Background())
	c := newCountdown(b.N)
	task := c.task
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := w.PostKeyed(ctx, uint64(i%1000), task); err != nil {
			b.Fatal(err)
		}
	}
	<-c.done
}

// One key: every task runs after the previous one, the worst case for
// the drain hand-off.
func BenchmarkWorkersPostKeyedOneKey(b *testing.B) {
	w := NewWorkers(WorkersConfig{})
	w.Start()
	defer w.Shutdown(context.Background())
	c := newCountdown(b.N)
	task := c.task
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := w.PostKeyed(ctx, 42, task); err != nil {
			b.Fatal(err)
		}
	}
	<-c.done
}

func BenchmarkGoPerTask(b *testing.B) {
	c := newCountdown(b.N)
	task := c.task
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		go task()
	}
	<-c.done
}

func BenchmarkChannelWorkers(b *testing.B) {
	c := newCountdown(b.N)
	tasks := make(chan func(), 1024*runtime.NumCPU()) // the same capacity as the default Workers
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range tasks {
				t()
			}
		}()
	}
	task := c.task
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		tasks <- task
	}
	<-c.done
	b.StopTimer()
	close(tasks)
	wg.Wait()
}
