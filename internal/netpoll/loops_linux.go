//go:build linux

package netpoll

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/rfc6455/websocket/internal/affinity"
)

// Loops is a fixed set of event loops (see the package doc). Loops exist
// on Linux only; elsewhere Start returns an error. The zero Loops is ready
// to Start.
type Loops struct {
	// N is the number of loops. Default runtime.GOMAXPROCS(0).
	N int

	// Affinity pins each loop to a CPU of its own (loop i to the i-th
	// CPU the process may use), as pool.WorkersConfig.Affinity does for
	// workers: on a machine that runs little else, a loop keeps its
	// caches warm. A pinned loop has its thread to itself and waits in
	// epoll_wait there. Default false.
	Affinity bool

	loops  []*loop
	next   atomic.Uint32
	wg     sync.WaitGroup
	closed atomic.Bool
}

// The write side's marks: a socket with more than highWater bytes waiting
// holds back writers (see WaitRoom for which), and its own loop stops
// reading it until it is down to lowWater; past maxPending a write fails
// the connection (a peer that reads nothing while it is sent everything).
//
// The loop checks the mark before each read, and a read adds at most one
// read's replies, so a socket whose peer reads nothing holds about
// highWater plus a read buffer's worth of replies (in a buffer that append
// grew to about 1.25 times that): some 90 KiB at 64 KiB. 500 such peers
// then cost the server about 45 MiB, less than the goroutine mode, where
// the kernel's buffers hold the replies and a blocked writer's goroutine
// its stack. Below 64 KiB the loop would pause a peer that is only a
// round trip behind on a fast link, and flush more often for writers that
// are not on the loop; 256 KiB, the mark before, cost 450 KiB per
// flooding peer.
const (
	highWater  = 64 << 10
	lowWater   = 16 << 10
	maxPending = 64 << 20
)

// readShare is how many reads a socket gets per turn of its loop: after
// that many, Read says "would block" until the loop comes back to it, so
// that a peer that keeps sending cannot keep its loop from the others.
// With conn's 4 KiB read buffer, two reads are up to 8 KiB of small
// frames (about 370 messages of 16 bytes, a tenth of a millisecond of an
// echo's work). 250 flooding peers on one loop would make a turn of 5 to
// 8 ms; a turn serves at most heavyQuota of those that spent their share
// (fair_linux.go).
// A read into a large message's own buffer may take more bytes at once,
// but those cost a copy, not a message's work. The loop comes back without
// a new event: its epoll set is level-triggered, and a socket that stopped
// for its share left the rest in the kernel (conn goes to the socket only
// when it has no whole frame buffered), so the next wait reports it again.
const readShare = 2

// newLoops starts n event loops (runtime.GOMAXPROCS(0) if n <= 0).
func newLoops(n int) (*Loops, error) {
	ls := &Loops{N: n}
	if err := ls.Start(); err != nil {
		return nil, err
	}
	return ls, nil
}

// Start starts the loops. It may be called once.
func (ls *Loops) Start() error {
	if ls.loops != nil {
		return errors.New("websocket: Loops started twice")
	}
	n := ls.N
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	for range n {
		l, err := newLoop(!ls.Affinity)
		if err != nil {
			for _, l := range ls.loops {
				l.closeFDs()
			}
			ls.loops = nil
			return err
		}
		ls.loops = append(ls.loops, l)
	}
	for i, l := range ls.loops {
		ls.wg.Go(func() {
			if ls.Affinity {
				affinity.PinThread(i)
			}
			l.run()
		})
	}
	return nil
}

// Close stops the loops and closes every socket still open on them (their
// handlers' Closed is called). It waits for the loops to return.
func (ls *Loops) Close() error {
	if ls.closed.Swap(true) {
		return nil
	}
	for _, l := range ls.loops {
		l.mu.Lock()
		l.quit = true
		l.mu.Unlock()
		l.wake()
	}
	ls.wg.Wait()
	return nil
}

// ErrListener is returned by Listen for a listener it cannot take sockets
// from without the runtime's poller: anything but a TCP or Unix listener
// (a TLS listener, for one).
var ErrListener = errors.New("websocket: event loops need a *net.TCPListener or *net.UnixListener")
