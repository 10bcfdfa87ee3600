package bufpool

import (
	"fmt"
	"sync"
	"testing"
)

func TestGetClasses(t *testing.T) {
	const KiB, MiB = 1 << 10, 1 << 20
	tests := []struct {
		size, wantCap int
	}{
		{0, 256},
		{1, 256},
		{255, 256},
		{256, 256},
		{257, 512},
		{1000, 1 * KiB},
		{1 * KiB, 1 * KiB},
		{1*KiB + 1, 2 * KiB},
		{4095, 4 * KiB},
		{64 * KiB, 64 * KiB},
		{64*KiB + 1, 128 * KiB},
		{2*MiB + 1, 4 * MiB},
		{4 * MiB, 4 * MiB},
		{4*MiB + 1, 4*MiB + 1}, // above the classes: exact, not rounded
		{16 * MiB, 16 * MiB},
	}
	for _, tt := range tests {
		b := Get(tt.size)
		if len(b.B) != 0 || cap(b.B) != tt.wantCap {
			t.Errorf("Get(%d): len %d cap %d, want len 0 cap %d", tt.size, len(b.B), cap(b.B), tt.wantCap)
		}
		Put(b)
	}
}

// Every size from 0 to 64 KiB maps to the smallest class that holds it.
func TestGetSmallestClass(t *testing.T) {
	for size := 0; size <= 64<<10; size++ {
		c := bufferClass(size)
		got := 1 << (minBufferShift + c)
		if got < size || (c > 0 && got/2 >= size) {
			t.Fatalf("bufferClass(%d) = %d (%d bytes), not the smallest class that fits", size, c, got)
		}
	}
}

func TestPutResetsLength(t *testing.T) {
	// Put a full buffer and look for it again: whenever it comes back, it
	// must come back empty.
	for range 100 {
		b := Get(300)
		b.B = append(b.B, "some data"...)
		Put(b)
		if b2 := Get(300); len(b2.B) != 0 {
			t.Fatalf("Get returned len %d", len(b2.B))
		}
	}
}

func TestPutReuses(t *testing.T) {
	// sync.Pool makes no promise and drops items under the race detector,
	// but with a hundred tries a pool that never reuses is broken.
	for range 100 {
		b := Get(1000)
		Put(b)
		if Get(1000) == b {
			return
		}
	}
	t.Fatal("a returned buffer was never handed out again")
}

func TestPutDropsOddCapacities(t *testing.T) {
	odd := []*Buffer{
		{B: make([]byte, 0, 300)},     // between classes
		{B: make([]byte, 0, 100)},     // below the smallest class
		{B: make([]byte, 0, 8<<20)},   // power of two above the largest class
		{B: make([]byte, 0, 4<<20+1)}, // what Get(4<<20+1) returns
		{B: nil},
	}
	for _, b := range odd {
		Put(b)
	}
	Put(nil)
	// No class may hand out one of them: every buffer from a class has
	// exactly the class's capacity.
	for c := range bufferClasses {
		size := 1 << (minBufferShift + c)
		var held []*Buffer
		for range 20 {
			b := Get(size)
			if cap(b.B) != size {
				t.Fatalf("Get(%d) returned cap %d", size, cap(b.B))
			}
			for _, o := range odd {
				if b == o {
					t.Fatalf("Get(%d) returned a dropped buffer of cap %d", size, cap(o.B))
				}
			}
			held = append(held, b)
		}
		for _, b := range held {
			Put(b)
		}
	}
}

func TestPutRefilesGrownBuffer(t *testing.T) {
	// A buffer that append regrew to a class size belongs to that class,
	// whatever class it came from.
	b := Get(256)
	b.B = make([]byte, 0, 1024)
	Put(b)
	for range 100 {
		got := Get(256)
		if got == b {
			t.Fatal("a 1 KiB buffer was returned to the 256 B class")
		}
		Put(got)
	}
	for range 100 {
		b := &Buffer{B: make([]byte, 10, 1024)}
		Put(b)
		if Get(1000) == b {
			return
		}
	}
	t.Fatal("a 1 KiB buffer never came out of the 1 KiB class")
}

func TestGetNegative(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Get(-1) did not panic")
		}
	}()
	Get(-1)
}

func TestBufferAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	for _, size := range []int{0, 256, 5000, 1 << 20, 4 << 20} {
		Put(Get(size)) // warm the class
		if n := testing.AllocsPerRun(1000, func() {
			b := Get(size)
			b.B = append(b.B, 'x')
			Put(b)
		}); n != 0 {
			t.Errorf("Get(%d)+Put: %v allocations per run, want 0", size, n)
		}
	}
}

// Many goroutines share the pools; no buffer may be handed to two holders
// at once. Each holder fills its buffer with its own byte and checks it is
// still there before giving it back.
func TestBufferConcurrent(t *testing.T) {
	const workers, rounds = 8, 500
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			mark := byte(w + 1)
			for i := range rounds {
				size := 200 + (i*w*37)%5000
				b := Get(size)
				b.B = b.B[:size]
				for j := range b.B {
					b.B[j] = mark
				}
				for j, c := range b.B {
					if c != mark {
						errs <- fmt.Errorf("worker %d: byte %d of its buffer is %d: the buffer is shared", w, j, c)
						return
					}
				}
				Put(b)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

var sink []byte

func BenchmarkBuffer(b *testing.B) {
	for _, size := range []int{512, 4 << 10, 64 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("GetPut/%d", size), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				buf := Get(size)
				buf.B = append(buf.B, 1)
				Put(buf)
			}
		})
		b.Run(fmt.Sprintf("make/%d", size), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sink = make([]byte, 0, size)
				sink = append(sink, 1)
			}
		})
	}
	b.Run("GetPut/parallel/4096", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				buf := Get(4096)
				buf.B = append(buf.B, 1)
				Put(buf)
			}
		})
	})
}

// TestCap: Cap tells the capacity Get returns, in and above the classes.
func TestCap(t *testing.T) {
	for _, n := range []int{0, 1, 256, 257, 4000, 4096, 1 << 20, 1<<20 + 1, 4 << 20, 4<<20 + 1} {
		b := Get(n)
		if got := Cap(n); got != cap(b.B) {
			t.Errorf("Cap(%d) = %d, Get gave %d", n, got, cap(b.B))
		}
		Put(b)
	}
}
