// Package bufpool lends byte buffers in size classes, so that connections,
// sessions and the event loops do not allocate a buffer per message or per
// connection. It is plumbing of this module: conn, session, the root
// package and internal/netpoll share it, and no user needs it.
//
// Buffers come in power-of-two size classes from 256 B to 4 MiB, one
// [sync.Pool] per class: [Get] rounds a request up to its class and [Put]
// files a buffer back under the class its capacity names. Rounding up
// wastes at most half of a buffer but keeps the number of pools small and
// lets a buffer grown by append for one message serve the next one of
// similar size. Requests above 4 MiB are rare and long-lived enough that
// pooling them would only pin memory, so they are plain allocations.
//
// The pools hold *Buffer, never bare slices: putting a slice into a
// sync.Pool converts it to an interface and allocates its header, which is
// what pooling is meant to avoid.
//
// There is no pool of connection objects: a connection's state is handed
// to the user (as the *Conn their handler holds), so recycling it when the
// connection ends could give it to a new connection while old code still
// uses it. What is worth reusing per connection, its buffers, comes from
// here and goes back when the connection is idle or ends.
package bufpool

import (
	"math/bits"
	"sync"
)

// Buffer size classes: powers of two from 1<<minBufferShift to
// 1<<maxBufferShift bytes.
const (
	minBufferShift = 8  // 256 B: smaller buffers are cheaper to allocate than to pool
	maxBufferShift = 22 // 4 MiB: the largest buffer worth keeping around
	bufferClasses  = maxBufferShift - minBufferShift + 1
)

// A Buffer is a byte slice on loan from the pool. B is the slice itself:
// callers append to it, read into B[:cap(B)], or reslice it as they like.
// Its contents when it comes from [Get] are unspecified (whatever
// the previous user left there), never assume they are zero.
type Buffer struct {
	B []byte
}

var bufferPools [bufferClasses]sync.Pool

func init() {
	for i := range bufferPools {
		size := 1 << (minBufferShift + i)
		bufferPools[i].New = func() any {
			return &Buffer{B: make([]byte, 0, size)}
		}
	}
}

// bufferClass returns the index of the smallest class that holds size
// bytes, or -1 if size is above the largest class.
func bufferClass(size int) int {
	if size <= 1<<minBufferShift {
		return 0
	}
	if size > 1<<maxBufferShift {
		return -1
	}
	return bits.Len(uint(size-1)) - minBufferShift
}

// Get returns a Buffer with len(B) == 0 and cap(B) >= size. Sizes are
// rounded up to a power of two between 256 B and 4 MiB; a bigger request
// gets a fresh allocation of exactly size bytes that [Put] will not keep.
// It panics if size is negative.
//
// In steady state, when buffers are returned with Put, Get does not
// allocate.
func Get(size int) *Buffer {
	if size < 0 {
		panic("bufpool: negative buffer size")
	}
	c := bufferClass(size)
	if c < 0 {
		return &Buffer{B: make([]byte, 0, size)}
	}
	b := bufferPools[c].Get().(*Buffer)
	b.B = b.B[:0]
	return b
}

// Cap returns the capacity of the buffer Get(size) returns: size rounded
// up to its class, or size itself above the largest class. Callers that
// account for memory (a budget) charge it before they ask.
func Cap(size int) int {
	c := bufferClass(size)
	if c < 0 {
		return size
	}
	return 1 << (minBufferShift + c)
}

// Put returns b to the pool of its class, by capacity, with len(B)
// reset to 0. The caller must not use b, or any slice of b.B, afterwards.
//
// Buffers whose capacity is not exactly a class size (those from requests
// above 4 MiB, or whose B was replaced by a reallocating append to an odd
// size) are dropped for the garbage collector, so the pools never hold a
// buffer smaller than its class promises. Put(nil) does nothing.
func Put(b *Buffer) {
	if b == nil {
		return
	}
	n := cap(b.B)
	if !Keeps(n) {
		return
	}
	b.B = b.B[:0]
	bufferPools[bits.Len(uint(n))-1-minBufferShift].Put(b)
}

// Keeps reports whether [Put] keeps a buffer of capacity n for reuse
// rather than dropping it: whether n is a class size.
func Keeps(n int) bool {
	return n >= 1<<minBufferShift && n <= 1<<maxBufferShift && n&(n-1) == 0
}
