package pool

import "sync"

// A keyShard holds the FIFOs of the busy keys that hash to it.
type keyShard struct {
	mu   sync.Mutex
	m    map[uint64]*keyQueue
	free []*keyQueue // FIFOs of keys gone idle, for reuse
	_    [64]byte
}

// A keyQueue is the FIFO of one busy key: a ring of tasks.
type keyQueue struct {
	shard   *keyShard
	key     uint64
	ring    []func()
	head, n int
	posting bool          // its drain is not queued yet; posters wait
	idle    bool          // drained while posting was set: the poster releases it
	changed chan struct{} // closed on pop, or when posting ends; nil if no one waits
}

// alloc returns an empty FIFO for key, registered in the map. sh.mu is held.
func (sh *keyShard) alloc(key uint64) *keyQueue {
	var kq *keyQueue
	if k := len(sh.free); k > 0 {
		kq = sh.free[k-1]
		sh.free[k-1] = nil
		sh.free = sh.free[:k-1]
	} else {
		kq = &keyQueue{shard: sh, ring: make([]func(), 4)}
	}
	kq.key, kq.posting, kq.idle = key, false, false
	sh.m[key] = kq
	return kq
}

// release unregisters an empty FIFO and keeps it for reuse. sh.mu is held.
func (sh *keyShard) release(kq *keyQueue) {
	delete(sh.m, kq.key)
	kq.signal() // waiters look the key up again and find it idle
	const maxFree = 64
	if len(sh.free) < maxFree && cap(kq.ring) <= 64 {
		kq.head = 0
		sh.free = append(sh.free, kq)
	}
}

func (kq *keyQueue) push(fn func()) {
	if kq.n == len(kq.ring) {
		ring := make([]func(), 2*len(kq.ring))
		k := copy(ring, kq.ring[kq.head:])
		copy(ring[k:], kq.ring[:kq.head])
		kq.ring, kq.head = ring, 0
	}
	kq.ring[(kq.head+kq.n)%len(kq.ring)] = fn
	kq.n++
}

func (kq *keyQueue) pop() func() {
	fn := kq.ring[kq.head]
	kq.ring[kq.head] = nil // let the closure be collected
	kq.head = (kq.head + 1) % len(kq.ring)
	kq.n--
	return fn
}

// waitCh returns the channel that the next change to kq closes.
func (kq *keyQueue) waitCh() chan struct{} {
	if kq.changed == nil {
		kq.changed = make(chan struct{})
	}
	return kq.changed
}

// signal wakes the posters waiting on kq.
func (kq *keyQueue) signal() {
	if kq.changed != nil {
		close(kq.changed)
		kq.changed = nil
	}
}
