// Package stack grows a goroutine's stack ahead of deep work.
//
// Goroutines start with small stacks (2 KiB, or the runtime's running
// average) and grow them on demand by copying: the runtime allocates a
// stack twice the size and walks every frame of the old one to move it,
// adjusting the pointers into it. Deep inside a write to a socket, twenty
// frames down, that walk costs microseconds; two frames down it costs
// little. A goroutine that is about to do deep work, and would grow its
// stack anyway, calls Grow first, while its stack is shallow.
package stack

// frame is the size of grow's frame: large enough that a 2 KiB stack
// cannot hold it (so it grows), small enough that one doubling to 4 KiB
// does. 4 KiB covers reading a frame, handling it and writing a reply
// through the net package, which 2 KiB does not.
const frame = 2 << 10

// Grow makes sure the calling goroutine's stack can take about 3 KiB of
// frames below the caller before it has to grow again: it grows the stack
// now (one copy of a shallow stack) if it is smaller. On a stack that is
// large enough already it costs the clearing of 2 KiB.
func Grow() { grow(0) }

// grow has a frame of the given size: the array cannot live anywhere
// else, since it is indexed with a value the compiler does not know.
//
//go:noinline
func grow(i int) byte {
	var pad [frame]byte
	pad[i&(frame-1)] = 1
	return pad[(i*7)&(frame-1)]
}
