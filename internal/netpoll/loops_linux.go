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
const (
	highWater  = 256 << 10
	lowWater   = 64 << 10
	maxPending = 64 << 20
)

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
