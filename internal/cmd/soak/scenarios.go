//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// msg16 is the 16-byte message the well-behaved clients and the
// pipeline flood send.
var msg16 = []byte("0123456789abcdef")

// openAll opens n connections, 100 handshakes at a time, and returns
// those that opened and the errors of those that did not.
func openAll(ctx context.Context, e *env, n int, deflate bool) ([]*wsConn, *firstError) {
	conns := make([]*wsConn, n)
	errs := &firstError{}
	forEach(ctx, n, 100, func(i int) {
		w, err := e.dial.open(ctx, deflate, 10*time.Second)
		if err != nil {
			errs.add(err)
			return
		}
		conns[i] = w
	})
	return slices.DeleteFunc(conns, func(w *wsConn) bool { return w == nil }), errs
}

func resetAll(conns []*wsConn) {
	for _, w := range conns {
		reset(w.c)
	}
}

// churnStages are where runChurn resets its connections, in turn.
var churnStages = []string{"on connect", "mid-request", "after the request", "mid-frame-header", "mid-payload", "after an echo"}

// runChurn opens connection after connection and resets each at one of
// churnStages: the server must end every one and keep nothing of it.
func runChurn(ctx context.Context, e *env, r *result) {
	n := e.cfg.churnConns
	head := requestHead(e.srv.addr, false)
	partial := appendHeader(nil, finBit|opBinary, 1000)
	partial = append(partial, make([]byte, 500)...)
	var errs firstError
	start := time.Now()
	forEach(ctx, n, e.cfg.churnConc, func(i int) {
		errs.add(churnOne(ctx, e, i%len(churnStages), head, partial))
	})
	took := time.Since(start)
	r.fig("%d connections reset at %d stages, %d at a time, in %s (%.0f/s)", n, len(churnStages), e.cfg.churnConc, fmtDur(took), float64(n)/took.Seconds())
	r.check(errs.count() == 0, "no connection errors (%s)", &errs)
}

func churnOne(ctx context.Context, e *env, stage int, head, partial []byte) error {
	c, err := e.dial.dial(ctx, 5*time.Second)
	if err != nil {
		return err
	}
	defer reset(c)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	switch stage {
	case 0:
		return nil
	case 1:
		_, err = c.Write(head[:len(head)/2])
		return err
	case 2:
		_, err = c.Write(head)
		return err
	}
	w, err := handshake(c, e.srv.addr, false, 10*time.Second)
	if err != nil {
		return err
	}
	switch stage {
	case 3:
		_, err = c.Write(partial[:1])
	case 4:
		_, err = c.Write(partial)
	default:
		err = w.echo(msg16, 10*time.Second)
	}
	return err
}

// runDeclared30 opens connections that each declare a 30 MiB message and
// then send its payload a byte a second: what the server holds must grow
// by what arrived, not by what was declared.
func runDeclared30(ctx context.Context, e *env, r *result) {
	n := e.cfg.declaredConns
	conns, errs := openAll(ctx, e, n, false)
	defer resetAll(conns)
	hdr := appendHeader(nil, finBit|opBinary, 30<<20)
	open := make([]bool, len(conns))
	for i, w := range conns {
		w.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		_, err := w.c.Write(hdr)
		open[i] = err == nil
	}
	seconds := int(e.cfg.dribble / time.Second)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for range seconds {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for i, w := range conns {
			if open[i] {
				w.c.SetWriteDeadline(time.Now().Add(time.Second))
				_, err := w.c.Write([]byte{'x'})
				open[i] = err == nil
			}
		}
	}
	// Which did the server close, and how? All reads share one deadline.
	var ends tally
	deadline := time.Now().Add(300 * time.Millisecond)
	forEach(ctx, len(conns), 256, func(i int) {
		conns[i].c.SetReadDeadline(deadline)
		code, err := conns[i].readClose()
		if o := outcome(code, err); o == "timeout" {
			ends.add("open")
		} else {
			ends.add(o)
		}
	})
	r.fig("%d connections declared 30 MiB, then sent %d B each over %s; at the end: %s", len(conns), seconds, fmtDur(e.cfg.dribble), &ends)
	r.check(errs.count() == 0, "every connection opened (%s)", errs)
}

// runDeclared1G opens connections that all at once declare a 1 GiB
// message: each must be closed with 1009 at once, before any payload.
func runDeclared1G(ctx context.Context, e *env, r *result) {
	n := e.cfg.declaredConns
	conns, errs := openAll(ctx, e, n, false)
	defer resetAll(conns)
	hdr := appendHeader(nil, finBit|opBinary, 1<<30)
	var codes tally
	var lat latencies
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, w := range conns {
		wg.Go(func() {
			<-start
			t0 := time.Now()
			w.c.SetDeadline(t0.Add(10 * time.Second))
			code, err := 0, error(nil)
			if _, err = w.c.Write(hdr); err == nil {
				code, err = w.readClose()
			}
			codes.add(outcome(code, err))
			if err == nil {
				lat.add(time.Since(t0))
			}
		})
	}
	close(start)
	wg.Wait()
	s := lat.sorted()
	r.fig("%d connections declared 1 GiB: %s, %s", len(conns), &codes, spread(s))
	r.check(errs.count() == 0, "every connection opened (%s)", errs)
	r.check(codes.count("1009") == n, "every connection closed 1009 (%s)", &codes)
	r.check(quantile(s, 0.99) < time.Second, "1009 p99 %s < 1s", fmtDur(quantile(s, 0.99)))
}

// fragmented returns msg as one binary message of len(msg) frames, a
// byte each.
func fragmented(msg []byte) []byte {
	out := make([]byte, 0, 7*len(msg))
	for i := range msg {
		var b0 byte = opCont
		if i == 0 {
			b0 = opBinary
		}
		if i == len(msg)-1 {
			b0 |= finBit
		}
		out = appendFrame(out, b0, msg[i:i+1])
	}
	return out
}

// runFragments sends messages of many one-byte fragments, all at once,
// and checks every echo.
func runFragments(ctx context.Context, e *env, r *result) {
	n, f := e.cfg.fragmentConns, e.cfg.fragments
	want := make([]byte, f)
	for i := range want {
		want[i] = byte(i * 7)
	}
	stream := fragmented(want)
	conns, errs := openAll(ctx, e, n, false)
	defer resetAll(conns)
	var lat latencies
	var bad firstError
	var wg sync.WaitGroup
	for _, w := range conns {
		wg.Go(func() {
			t0 := time.Now()
			w.c.SetDeadline(t0.Add(60 * time.Second))
			if _, err := w.c.Write(stream); err != nil {
				bad.add(err)
				return
			}
			got, err := w.readMessage(f)
			if err != nil {
				bad.add(err)
				return
			}
			if !bytes.Equal(got, want) {
				bad.add(fmt.Errorf("echo of %d bytes differs from the %d sent", len(got), len(want)))
				return
			}
			lat.add(time.Since(t0))
		})
	}
	wg.Wait()
	r.fig("%d messages of %d fragments (%s MiB of frames each), echoed in %s", len(conns), f, mib(int64(len(stream))), spread(lat.sorted()))
	r.check(errs.count() == 0, "every connection opened (%s)", errs)
	r.check(bad.count() == 0, "every echo whole and right (%s)", &bad)
}

// A garbage kind is one way to break the protocol, and the answer it must
// get: a close code, or an HTTP status for a request that is not one.
type garbageKind struct {
	name  string
	want  string
	bytes []byte
	http  bool // sent instead of the opening handshake
}

var garbageKinds = []garbageKind{
	{name: "unmasked frame", want: "1002", bytes: []byte{finBit | opBinary, 5, 'h', 'e', 'l', 'l', 'o'}},
	{name: "reserved opcode", want: "1002", bytes: appendFrame(nil, finBit|0x3, nil)},
	{name: "reserved control opcode", want: "1002", bytes: appendFrame(nil, finBit|0xB, nil)},
	{name: "RSV2", want: "1002", bytes: appendFrame(nil, finBit|rsv2Bit|opBinary, []byte("x"))},
	{name: "RSV1 without deflate", want: "1002", bytes: appendFrame(nil, finBit|rsv1Bit|opText, []byte("x"))},
	{name: "invalid UTF-8", want: "1007", bytes: appendFrame(nil, finBit|opText, []byte{'o', 'k', 0xff, 'n', 'o'})},
	{name: "control over 125 bytes", want: "1002", bytes: appendFrame(nil, finBit|opPing, make([]byte, 126))},
	{name: "fragmented control", want: "1002", bytes: appendFrame(nil, opPing, nil)},
	{name: "continuation first", want: "1002", bytes: appendFrame(nil, finBit|opCont, []byte("x"))},
	{name: "close code 999", want: "1002", bytes: appendFrame(nil, finBit|opClose, []byte{0x03, 0xe7})},
	{name: "not HTTP", want: "400", bytes: []byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03soak\r\n\r\n"), http: true},
}

// runGarbage opens connections, then all at once sends each one kind of
// garbage and times the answer.
func runGarbage(ctx context.Context, e *env, r *result) {
	n := e.cfg.garbageConns
	type victim struct {
		w    *wsConn
		kind garbageKind
	}
	victims := make([]victim, n)
	var errs firstError
	forEach(ctx, n, 100, func(i int) {
		k := garbageKinds[i%len(garbageKinds)]
		var w *wsConn
		if k.http {
			c, err := e.dial.dial(ctx, 10*time.Second)
			if err != nil {
				errs.add(err)
				return
			}
			w = &wsConn{c: c, br: newReader(c)}
		} else {
			var err error
			if w, err = e.dial.open(ctx, false, 10*time.Second); err != nil {
				errs.add(err)
				return
			}
		}
		victims[i] = victim{w, k}
	})
	victims = slices.DeleteFunc(victims, func(v victim) bool { return v.w == nil })
	defer func() {
		for _, v := range victims {
			reset(v.w.c)
		}
	}()
	var seen tally
	var wrong firstError
	var lat latencies
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, v := range victims {
		wg.Go(func() {
			<-start
			t0 := time.Now()
			v.w.c.SetDeadline(t0.Add(10 * time.Second))
			code, err := 0, error(nil)
			if _, err = v.w.c.Write(v.kind.bytes); err == nil {
				if v.kind.http {
					code, err = v.w.readStatus()
				} else {
					code, err = v.w.readClose()
				}
			}
			got := outcome(code, err)
			seen.add(got)
			if got != v.kind.want {
				wrong.add(fmt.Errorf("%s: got %s, want %s", v.kind.name, got, v.kind.want))
				return
			}
			lat.add(time.Since(t0))
		})
	}
	close(start)
	wg.Wait()
	s := lat.sorted()
	r.fig("%d connections, %d kinds of garbage: %s, answered in %s", len(victims), len(garbageKinds), &seen, spread(s))
	r.check(errs.count() == 0, "every connection opened (%s)", &errs)
	r.check(wrong.count() == 0, "every one answered with its code (wrong: %s)", &wrong)
	r.check(quantile(s, 0.99) < 500*time.Millisecond, "answer p99 %s < 500ms", fmtDur(quantile(s, 0.99)))
}
