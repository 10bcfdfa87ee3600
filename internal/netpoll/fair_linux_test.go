//go:build linux

package netpoll

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The read buffer the tests' handlers read into: conn's default.
const testReadBuf = 4 << 10

// startFloods accepts n sockets on ls whose handlers read all the loop
// lets them per Ready call, telling count how much each call read, and
// whose peers send without pause until the test ends.
func startFloods(t *testing.T, ls *Loops, l net.Listener, n int, count func(i int, call int64)) {
	stop := make(chan struct{})
	var writers sync.WaitGroup
	t.Cleanup(func() { close(stop); writers.Wait() })
	for i := range n {
		client, s := acceptPair(t, ls, l, false)
		buf := make([]byte, testReadBuf)
		s.Start(newTestHandler(func() {
			var call int64
			for {
				k, err := s.Read(buf)
				if k == 0 {
					if err != nil {
						s.Close()
					}
					break
				}
				call += int64(k)
			}
			count(i, call)
		}))
		writers.Go(func() {
			chunk := fill(64<<10, 3)
			for {
				select {
				case <-stop:
					return
				default:
				}
				client.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
				if _, err := client.Write(chunk); err != nil && !isTimeoutErr(err) {
					return
				}
			}
		})
	}
}

// worstWait starts a well-behaved socket on ls, which echoes a byte, and
// returns the most of the floods the loop read (flooded, in bytes) while
// its peer waited for an echo, over 50 round trips.
func worstWait(t *testing.T, ls *Loops, l net.Listener, flooded *atomic.Int64) int64 {
	client, s := acceptPair(t, ls, l, false)
	seen := make(chan int64, 1)
	s.Start(newTestHandler(func() {
		var b [16]byte
		n, err := s.Read(b[:])
		if n > 0 {
			seen <- flooded.Load()
			s.Write(b[:n])
		} else if err != nil {
			s.Close()
		}
	}))
	client.SetDeadline(time.Now().Add(20 * time.Second))
	var worst int64
	for i := range 50 {
		// On loopback the byte is in the socket's queue once Write returns;
		// counting from then, a test goroutine slow to get here only makes
		// the count smaller.
		if _, err := client.Write([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		before := flooded.Load()
		var at int64
		select {
		case at = <-seen:
		case <-time.After(20 * time.Second):
			t.Fatalf("round trip %d: the well-behaved socket was not served", i)
		}
		var b [1]byte
		if _, err := io.ReadFull(client, b[:]); err != nil || b[0] != byte(i) {
			t.Fatalf("round trip %d: echo %v, %v", i, b, err)
		}
		worst = max(worst, at-before)
	}
	return worst
}

// TestLoopFairShare: on one loop, flooding sockets whose peers never stop
// sending are each read at most their share per Ready call, and a
// well-behaved socket on the same loop gets its turn within a round or two
// of the floods: while its peer waits for an echo, the loop reads at most
// a share from each flood per round, however fast the floods send. (Before
// the shares, a handler read a flood until the kernel had nothing left,
// which a peer that sends faster than the loop reads never allows.)
func TestLoopFairShare(t *testing.T) {
	ls := newTestLoops(t, 1)
	l := listenTCP(t, false)
	const floods = 4
	var flooded atomic.Int64 // bytes the loop read from the floods
	var maxCall atomic.Int64 // the most a flood's Ready call read
	startFloods(t, ls, l, floods, func(_ int, call int64) {
		flooded.Add(call)
		if call > maxCall.Load() {
			maxCall.Store(call) // only the loop stores
		}
	})
	waitUntil(t, func() bool { return flooded.Load() > 1<<20 }) // the floods are on

	// A round is every flood's share and ours; the loop may be anywhere
	// in one when the byte arrives, and the byte may miss the next wait,
	// so allow three rounds.
	const share = readShare * testReadBuf
	const bound = 3 * (floods + 1) * share
	worst := worstWait(t, ls, l, &flooded)
	t.Logf("the floods: %d bytes read, at most %d per call; at most %d read while the well-behaved peer waited", flooded.Load(), maxCall.Load(), worst)
	if m := maxCall.Load(); m > share {
		t.Errorf("a flood's Ready call read %d bytes, more than its share of %d", m, share)
	}
	if worst > bound {
		t.Errorf("the loop read %d bytes of the floods while the well-behaved peer waited, want at most %d (three rounds of shares)", worst, bound)
	}
}

// TestLoopHeavyQuota: with many more flooding sockets on a loop than a
// turn serves (heavyQuota), a well-behaved socket waits for a few turns'
// quotas of the floods, not for a round of all of them, and every flood is
// still served.
func TestLoopHeavyQuota(t *testing.T) {
	ls := newTestLoops(t, 1)
	l := listenTCP(t, false)
	const floods = 8 * heavyQuota
	var flooded atomic.Int64 // bytes the loop read from the floods
	var each [floods]atomic.Int64
	startFloods(t, ls, l, floods, func(i int, call int64) {
		flooded.Add(call)
		each[i].Add(call)
	})
	waitUntil(t, func() bool { return flooded.Load() > 8<<20 })

	// The byte may arrive during a turn and miss the next wait, and the
	// turns after it may serve their quota of floods before it: four
	// turns' quotas (half a round), against two rounds or more of every
	// flood's share without them (measured: 2 MiB).
	const share = readShare * testReadBuf
	const bound = (4*heavyQuota + 1) * share
	worst := worstWait(t, ls, l, &flooded)
	t.Logf("%d floods: %d bytes read; at most %d read while the well-behaved peer waited (a round is %d)", floods, flooded.Load(), worst, floods*share)
	if worst > bound {
		t.Errorf("the loop read %d bytes of the floods while the well-behaved peer waited, want at most %d (four turns' quotas)", worst, bound)
	}
	for i := range floods {
		if each[i].Load() == 0 {
			t.Errorf("flood %d was never served", i)
		}
	}
}

// TestSocketBacklogBound: a handler that echoes on the loop to a peer that
// reads nothing keeps at most the high-water mark, 64 KiB, plus one read's
// echo: the loop checks the mark before every read, and stops reading.
func TestSocketBacklogBound(t *testing.T) {
	ls := newTestLoops(t, 1)
	client, s := acceptPair(t, ls, listenTCP(t, true), true)
	var most, read atomic.Int64
	buf := make([]byte, testReadBuf)
	s.Start(newTestHandler(func() {
		for {
			n, err := s.Read(buf)
			if n == 0 {
				if err != nil {
					s.Close()
				}
				return
			}
			read.Add(int64(n))
			if _, err := s.Write(buf[:n]); err != nil {
				s.Close()
				return
			}
			if u := int64(s.Unsent()); u > most.Load() {
				most.Store(u) // only the loop stores
			}
		}
	}))
	const total = 2 << 20
	wrote := make(chan error, 1)
	go func() {
		client.SetWriteDeadline(time.Now().Add(30 * time.Second))
		_, err := client.Write(fill(total, 5))
		wrote <- err
	}()
	// Reading stops once the mark is passed: wait until it has.
	waitUntil(t, func() bool { return most.Load() > highWater })
	r1 := read.Load()
	time.Sleep(100 * time.Millisecond)
	if r2 := read.Load(); r2 != r1 {
		t.Errorf("the loop kept reading past the high-water mark (%d, then %d bytes)", r1, r2)
	}
	// The mark, written out: 64 KiB keeps 500 such peers within the
	// goroutine mode's memory (see highWater). It was 256 KiB.
	const bound = 64<<10 + testReadBuf
	if m := most.Load(); m > bound {
		t.Errorf("the socket kept %d bytes for a peer that reads nothing, want at most %d", m, bound)
	}
	// Once the peer reads, everything comes back.
	client.SetReadDeadline(time.Now().Add(30 * time.Second))
	if n, err := io.CopyN(io.Discard, client, total); err != nil {
		t.Fatalf("reading the echo: %d bytes, %v", n, err)
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
}

func isTimeoutErr(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// waitUntil polls cond for up to 10 s.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}
