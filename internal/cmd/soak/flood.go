//go:build linux

package main

// The scenarios with a well-behaved client measured alongside the
// hostile ones: what the hostile load costs everybody else.

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// runPipeline floods with 16 B messages pipelined as fast as the sockets
// take them, never reading the echoes.
func runPipeline(ctx context.Context, e *env, r *result) {
	runFlood(ctx, e, r, e.cfg.pipelineConns, "messages", appendFrame(nil, finBit|opBinary, msg16))
}

// runPing floods with pings, never reading the pongs.
func runPing(ctx context.Context, e *env, r *result) {
	runFlood(ctx, e, r, e.cfg.pingConns, "pings", appendFrame(nil, finBit|opPing, msg16))
}

// runFlood has n connections write unit over and over for the flood's
// duration without reading, while a well-behaved client does a round
// trip every 10 ms on a connection of its own.
func runFlood(ctx context.Context, e *env, r *result, n int, what string, unit []byte) {
	batch := bytes.Repeat(unit, (64<<10)/len(unit))
	conns, errs := openAll(ctx, e, n, false)
	defer resetAll(conns)
	probe, err := e.dial.open(ctx, false, 5*time.Second)
	if err != nil {
		r.check(false, "the well-behaved client connects (%v)", err)
		return
	}

	end := time.Now().Add(e.cfg.flood)
	var sent atomic.Int64
	var wg sync.WaitGroup
	for _, w := range conns {
		wg.Go(func() {
			w.c.SetWriteDeadline(end)
			for time.Now().Before(end) {
				k, err := w.c.Write(batch)
				sent.Add(int64(k))
				if err != nil {
					return
				}
			}
		})
	}
	// The control: the same client against a server of its own that
	// nobody floods, during the same flood. Its round trips are what the
	// machine and the load side cost (a shared CPU, this process's own
	// scheduling), which the server under test cannot do better than.
	var control latencies
	var controlErr firstError
	wg.Go(func() {
		ctl, err := e.control.open(ctx, false, 5*time.Second)
		if err != nil {
			controlErr.add(err)
			return
		}
		time.Sleep(floodFill(e.cfg.flood))
		probeUntil(ctx, e.control, ctl, end, &control, &controlErr)
	})
	// The flood fills the sockets' buffers first; measure it once it has.
	time.Sleep(floodFill(e.cfg.flood))
	var rtt latencies
	var lost firstError
	probeUntil(ctx, e.dial, probe, end, &rtt, &lost)
	wg.Wait()
	s := rtt.sorted()
	p99 := quantile(s, 0.99)
	r.p99 = p99
	r.fig("%d connections sent %s MiB of 16 B %s in %s unread; well-behaved client: %d round trips, %s; the same against an idle server meanwhile (control): %s",
		len(conns), mib(sent.Load()), what, fmtDur(e.cfg.flood), len(s), spread(s), spread(control.sorted()))
	if controlErr.count() > 0 {
		r.fig("control: %s", &controlErr)
	}
	r.check(errs.count() == 0, "every flooder connected (%s)", errs)
	r.check(lost.count() == 0, "no round trip lost past 5 s (%s)", &lost)
	r.check(len(s) > 0 && p99 < 50*time.Millisecond, "well-behaved p99 %s < 50ms", fmtDur(p99))
	if g := e.done[r.Scenario+"/goroutine"]; e.mode != "goroutine" && g != nil && g.p99 > 0 {
		bound := max(2*g.p99, g.p99+5*time.Millisecond)
		r.check(p99 <= bound, "well-behaved p99 %s within 2x (or 5 ms) of the goroutine mode's %s", fmtDur(p99), fmtDur(g.p99))
	}
}

// floodFill is how long a flood of d is given to fill the sockets'
// buffers before the well-behaved client is measured: a quarter of it.
// Until they are full, the goroutine mode's readers never block (the
// kernel takes every echo: up to 4 MiB per loopback socket), and a
// woken goroutine queues behind them all; with 50 flooders that lasted
// up to 0.6 s, with 500 up to 2.7 s (DESIGN.md, the goroutine mode at a
// pipeline flood's start), which is what the soak's max showed and what
// a short flood's p99, over a few hundred round trips, caught. The
// steady state is what the targets are about; the max still shows a
// stall past that point (one of 1.1 s after 5 s of 500 flooders).
func floodFill(d time.Duration) time.Duration { return d / 4 }

// probeUntil does a round trip every 10 ms on w until end, recording
// each. A round trip not back within 5 s is lost: the connection's state
// is then unknown, so it is reset and a new one opened (through d), and
// the probing goes on.
func probeUntil(ctx context.Context, d *dialer, w *wsConn, end time.Time, rtt *latencies, lost *firstError) {
	for time.Now().Before(end) && ctx.Err() == nil {
		t0 := time.Now()
		if err := w.echo(msg16, 5*time.Second); err != nil {
			lost.add(err)
			reset(w.c)
			if w, err = d.open(ctx, false, 5*time.Second); err != nil {
				lost.add(err)
				return
			}
			continue
		}
		rtt.add(time.Since(t0))
		time.Sleep(10 * time.Millisecond)
	}
	reset(w.c)
}

// errNotDropped is a slowloris connection the server kept past the
// handshake timeout and its slack.
var errNotDropped = errors.New("not dropped")

// runSlowloris opens connections that send their handshake a byte a
// second, never finishing it, while a normal client connects every 50 ms:
// the slow ones must be dropped at the handshake timeout, the normal ones
// served at once.
func runSlowloris(ctx context.Context, e *env, r *result) {
	n := e.cfg.slowlorisConns
	timeout := e.cfg.handshakeTimeout
	slack := 3 * time.Second

	var hs latencies
	var hsErrs firstError
	stopNormal := make(chan struct{})
	normalDone := make(chan struct{})
	go func() {
		defer close(normalDone)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopNormal:
				return
			case <-tick.C:
			}
			t0 := time.Now()
			w, err := e.dial.open(ctx, false, 5*time.Second)
			if err != nil {
				hsErrs.add(err)
				continue
			}
			hs.add(time.Since(t0))
			hsErrs.add(w.echo(msg16, 5*time.Second))
			w.c.Close()
		}
	}()

	var drops latencies
	var errs, kept firstError
	var wg sync.WaitGroup
	dialing := make(chan struct{}, 100)
	for i := 0; i < n && ctx.Err() == nil; i++ {
		dialing <- struct{}{}
		wg.Go(func() {
			// The clock starts before the dial: the server's timeout
			// cannot start before the SYN, whereas the dial's return
			// may be seen late by a loaded load side.
			t0 := time.Now()
			c, err := e.dial.dial(ctx, 5*time.Second)
			<-dialing
			if err != nil {
				errs.add(err)
				return
			}
			defer reset(c)
			d, err := slowloris(c, t0, timeout+slack+2*time.Second)
			if err != nil {
				kept.add(err)
				return
			}
			drops.add(d)
		})
	}
	wg.Wait()
	close(stopNormal)
	<-normalDone

	s := drops.sorted()
	h := hs.sorted()
	r.fig("%d handshakes sent a byte a second: dropped after %s (timeout %s); normal clients alongside: %d handshakes, %s",
		len(s), spread(s), fmtDur(timeout), len(h), spread(h))
	r.check(errs.count() == 0, "every slow connection opened (%s)", &errs)
	r.check(kept.count() == 0, "every slow handshake dropped (%s)", &kept)
	if len(s) > 0 {
		r.check(s[0] >= timeout-100*time.Millisecond, "none dropped before the timeout (first after %s)", fmtDur(s[0]))
		r.check(s[len(s)-1] <= timeout+slack, "all dropped within %s of the timeout (last after %s)", fmtDur(slack), fmtDur(s[len(s)-1]))
	}
	r.check(hsErrs.count() == 0, "every normal client served (%s)", &hsErrs)
	r.check(len(h) > 0 && quantile(h, 0.99) < 250*time.Millisecond, "normal handshake p99 %s < 250ms", fmtDur(quantile(h, 0.99)))
}

// slowloris sends the start of a request on c and then a byte a second,
// until the server ends the connection; it returns how long after t0
// that was, or errNotDropped giveUp after t0.
func slowloris(c *net.TCPConn, t0 time.Time, giveUp time.Duration) (time.Duration, error) {
	end := t0.Add(giveUp)
	c.SetWriteDeadline(end)
	if _, err := c.Write([]byte("GET /slow HTTP/1.1\r\nHost: soak\r\nX-Slow: ")); err != nil {
		return 0, err
	}
	var buf [512]byte
	for time.Now().Before(end) {
		next := time.Now().Add(time.Second)
		if next.After(end) {
			next = end
		}
		c.SetReadDeadline(next)
		_, err := c.Read(buf[:])
		switch {
		case err == nil:
			continue // an answer (a 408, say): read on until the close
		case errors.Is(err, os.ErrDeadlineExceeded):
			if _, err := c.Write([]byte{'a'}); err != nil {
				return time.Since(t0), nil
			}
		default:
			return time.Since(t0), nil // EOF or reset: dropped
		}
	}
	return 0, errNotDropped
}
