package stack

import (
	"testing"
	"unsafe"
)

// depth uses about n bytes of stack, in frames of a little over 128 bytes.
//
//go:noinline
func depth(n int) byte {
	var b [128]byte
	b[n&127] = byte(n)
	if n <= 128 {
		return b[0]
	}
	return depth(n-128) + b[(n*3)&127]
}

// moved runs f on a fresh goroutine and reports whether its stack moved
// (grew) during f, and whether it moved during the preparation.
func moved(prepare func(), f func()) (duringPrepare, duringF bool) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		var marker byte
		a := uintptr(unsafe.Pointer(&marker))
		prepare()
		b := uintptr(unsafe.Pointer(&marker))
		f()
		c := uintptr(unsafe.Pointer(&marker))
		duringPrepare, duringF = a != b, b != c
	}()
	<-done
	return
}

// TestGrow checks that after Grow, 2.5 KiB of frames (1.5 KiB with the race
// detector) fit without another growth, and that without it the same
// frames make the stack grow (unless the runtime started the goroutine with
// a large stack, which its adaptive initial size may do; the test then says
// so rather than fail).
func TestGrow(t *testing.T) {
	room := 2560
	if raceEnabled {
		// The race detector doubles the stack guard (928 to 1856 bytes):
		// the same stack leaves less room.
		room = 1536
	}
	deep := func() { depth(room) }
	_, grewWithout := moved(func() {}, deep)
	grewInGrow, grewAfter := moved(Grow, deep)
	if grewAfter {
		t.Error("the stack grew again after Grow: Grow leaves too little room")
	}
	if !grewWithout {
		if grewInGrow {
			t.Error("Grow moved a stack that had room for the work")
		}
		t.Log("goroutines start with a large stack here (adaptive initial size): Grow had nothing to do")
		return
	}
	if !grewInGrow {
		t.Error("Grow did not grow a stack that was too small for the work")
	}
}

// TestGrowIdempotent checks that a second Grow does not move the stack.
func TestGrowIdempotent(t *testing.T) {
	_, again := moved(Grow, Grow)
	if again {
		t.Error("a second Grow moved the stack")
	}
}
