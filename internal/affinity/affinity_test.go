package affinity

import (
	"runtime"
	"slices"
	"testing"
)

// PinThread leaves the goroutine's thread free to run on one CPU only, one
// of those the process may use, and leaves the caller's thread alone.
func TestPinThread(t *testing.T) {
	allowed := CPUs()
	if runtime.GOOS != "linux" {
		if allowed != nil {
			t.Fatalf("CPUs() = %v off Linux, want nil", allowed)
		}
		t.Skip("affinity does nothing off Linux")
	}
	if len(allowed) == 0 {
		t.Skip("sched_getaffinity unavailable")
	}
	if !slices.IsSorted(allowed) {
		t.Errorf("CPUs() = %v, not in ascending order", allowed)
	}
	for _, i := range []int{0, 1, len(allowed), 2*len(allowed) + 1} {
		got := make(chan []int)
		go func() {
			// The thread stays locked: the runtime ends it when this
			// goroutine returns.
			PinThread(i)
			got <- CPUs()
		}()
		want := allowed[i%len(allowed)]
		if cpus := <-got; !slices.Equal(cpus, []int{want}) {
			t.Errorf("PinThread(%d): the thread may run on %v, want [%d]", i, cpus, want)
		}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if got := CPUs(); !slices.Equal(got, allowed) {
		t.Errorf("the test's thread may now run on %v, want %v", got, allowed)
	}
}

func TestPinOutOfRange(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("affinity does nothing off Linux")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := CPUs()
	for _, cpu := range []int{-1, 1 << 20} {
		if err := Pin(cpu); err == nil {
			t.Errorf("Pin(%d) succeeded", cpu)
		}
	}
	if got := CPUs(); !slices.Equal(got, before) {
		t.Errorf("a failed Pin changed the thread's CPUs from %v to %v", before, got)
	}
}
