package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// client is one connection of the echo mode: a writer goroutine that keeps
// -inflight messages outstanding and a reader goroutine that checks the
// echoes and hands credit back to the writer. Two goroutines, so that a
// large message being written never stops the echo of an earlier one from
// being read. With -sync-write, where little is ever in flight, the reader
// writes too and there is no writer goroutine.
type client struct {
	id   int
	cfg  *config
	nc   net.Conn
	rest []byte // bytes that arrived with the handshake response
	msg  message
	seed [2]uint64  // of the mask key sequence, replayed by the raw parser
	pre  *premasked // large messages: bodies masked once

	credits atomic.Int64
	wake    chan struct{}
	sent    []atomic.Int64 // send time of message seq at seq % inflight
	done    atomic.Int64   // messages echoed and checked
	hist    *lockedHist    // round-trip times while measuring, shared with other connections
}

var (
	base      = time.Now()
	measuring atomic.Bool
	stopping  atomic.Bool
)

func now() int64 { return int64(time.Since(base)) }

func runEcho(cfg *config) error {
	pattern := newPattern(cfg.size)
	hists := make([]lockedHist, min(cfg.conns, histShards))
	clients := make([]*client, cfg.conns)
	// Every connection is up before the first message leaves: dialing is
	// neither warm-up nor measured time. Dial -dial-parallel at a time, so
	// the server's accept queue (and SYN backlog) never overflows, which
	// would cost a connection a 1 s SYN retransmission, or more.
	dialStart := time.Now()
	err := parallel(len(clients), cfg.dialPar, func(i int) error {
		nc, rest, err := dial(cfg)
		if err != nil {
			return err
		}
		c := &client{
			id: i, cfg: cfg, nc: nc, rest: rest,
			msg:  message{size: cfg.size, salt: randomUint64(), pattern: pattern},
			seed: [2]uint64{randomUint64(), randomUint64()},
			wake: make(chan struct{}, 1),
			sent: make([]atomic.Int64, cfg.inflight),
			hist: &hists[i%len(hists)],
		}
		if cfg.size >= premaskMin {
			rng := rand.New(rand.NewPCG(c.seed[0], c.seed[1]))
			c.pre = c.msg.premask(func() uint32 { return uint32(rng.Uint64()) })
		}
		c.credits.Store(int64(cfg.inflight))
		clients[i] = c
		return nil
	})
	if err != nil {
		for _, c := range clients {
			if c != nil {
				c.nc.Close()
			}
		}
		return err
	}
	dialSecs := time.Since(dialStart).Seconds()

	var wg sync.WaitGroup
	failed := make(chan error, 2*len(clients))
	quit := make(chan struct{})
	for _, c := range clients {
		if !cfg.syncWrite {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := c.write(quit); err != nil && !stopping.Load() {
					failed <- fmt.Errorf("connection %d: %w", c.id, err)
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.read() // it only ever returns with an error
			if !stopping.Load() {
				failed <- fmt.Errorf("connection %d: %w", c.id, err)
			}
		}()
	}
	total := func() int64 {
		var n int64
		for _, c := range clients {
			n += c.done.Load()
		}
		return n
	}
	stop := func() {
		stopping.Store(true)
		close(quit)
		for _, c := range clients {
			c.nc.Close()
		}
		wg.Wait()
	}

	// Watch for failures and for connections that stop making progress
	// (a server that hangs must fail the run, not stall it).
	last := make([]int64, len(clients))
	lastMove := make([]time.Time, len(clients))
	for i := range lastMove {
		lastMove[i] = time.Now()
	}
	wait := func(d time.Duration) error {
		end := time.Now().Add(d)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for time.Now().Before(end) {
			select {
			case err := <-failed:
				return err
			case <-tick.C:
			}
			for i, c := range clients {
				if d := c.done.Load(); d != last[i] {
					last[i], lastMove[i] = d, time.Now()
				} else if time.Since(lastMove[i]) > cfg.timeout {
					return fmt.Errorf("connection %d: no echo for %v after %d messages", i, cfg.timeout, d)
				}
			}
		}
		return nil
	}

	if err := wait(cfg.warmup); err != nil {
		stop()
		return err
	}
	// The phase lines let the caller read the server's CPU time over
	// exactly the measured interval.
	emit(map[string]any{"phase": "start"})
	measuring.Store(true)
	n0, t0, cpu0 := total(), time.Now(), cpuTime()
	if err := wait(cfg.duration); err != nil {
		stop()
		return err
	}
	n1, t1, cpu1 := total(), time.Now(), cpuTime()
	measuring.Store(false)
	emit(map[string]any{"phase": "stop"})
	stop()
	select {
	case err := <-failed:
		return err
	default:
	}

	var h histogram
	for i := range hists {
		h.merge(&hists[i].h)
	}
	secs := t1.Sub(t0).Seconds()
	emit(map[string]any{
		"mode":       "echo",
		"conns":      cfg.conns,
		"inflight":   cfg.inflight,
		"size":       cfg.size,
		"tcp":        cfg.tcp,
		"roundtrips": n1 - n0,
		"seconds":    secs,
		"rate":       float64(n1-n0) / secs,
		"p50_us":     h.percentile(0.50).Seconds() * 1e6,
		"p99_us":     h.percentile(0.99).Seconds() * 1e6,
		"gomaxprocs": runtime.GOMAXPROCS(0),
		// The load generator's CPU use over the measured time, in cores: near
		// 1 with GOMAXPROCS=1 means it, not the server, may be the limit.
		"load_cpu": (cpu1 - cpu0).Seconds() / secs,
		// How long dialing and upgrading every connection took, before
		// the warm-up.
		"dial_seconds": dialSecs,
	})
	return nil
}

// write sends messages whenever the reader has handed back credit, as many
// as it can in one write call.
func (c *client) write(quit <-chan struct{}) error {
	s := c.newSender()
	for {
		n := c.credits.Swap(0)
		if n == 0 {
			select {
			case <-c.wake:
				continue
			case <-quit:
				return nil
			}
		}
		if err := s.send(n); err != nil {
			return err
		}
	}
}

// syncWriteMax is the most bytes of frames -sync-write allows in flight per
// connection: far below a loopback socket's buffers, so that the reader's
// own writes can never block for long on a server that is itself blocked
// writing echoes the reader is not reading meanwhile.
const syncWriteMax = 64 << 10

// read checks echoes as they arrive and returns credit to the writer; with
// -sync-write it sends the first -inflight messages and then, for every
// echo checked, the next message itself.
func (c *client) read() error {
	var s *sender
	if c.cfg.syncWrite {
		s = c.newSender()
		if err := s.send(int64(c.cfg.inflight)); err != nil {
			return err
		}
	}
	ps := &parser{msg: &c.msg, raw: c.cfg.tcp}
	if c.cfg.tcp {
		if c.pre != nil {
			var seq uint64
			ps.keys = func() uint32 {
				seq++
				return c.pre.keys[(seq-1)%premaskVariants]
			}
		} else {
			rng := rand.New(rand.NewPCG(c.seed[0], c.seed[1]))
			ps.keys = func() uint32 { return uint32(rng.Uint64()) }
		}
	}
	size := min(max(c.cfg.inflight*(c.cfg.size+14), 4<<10), 256<<10)
	buf := make([]byte, size)
	k := uint64(c.cfg.inflight)
	p := c.rest
	for {
		if len(p) == 0 {
			n, err := c.nc.Read(buf)
			if err != nil {
				if err == io.EOF {
					err = fmt.Errorf("server closed the connection after %d messages", ps.seq)
				}
				return err
			}
			p = buf[:n]
		}
		first := ps.seq
		done, err := ps.feed(p)
		if err != nil {
			return err
		}
		p = nil
		if done == 0 {
			continue
		}
		if measuring.Load() {
			t := now()
			c.hist.mu.Lock()
			for q := first; q < ps.seq; q++ {
				c.hist.h.record(t - c.sent[q%k].Load())
			}
			c.hist.mu.Unlock()
		}
		c.done.Add(int64(done))
		if s != nil {
			if err := s.send(int64(done)); err != nil {
				return err
			}
			continue
		}
		c.credits.Add(int64(done))
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}
