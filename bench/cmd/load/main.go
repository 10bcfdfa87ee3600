// Command load is the load generator of the benchmarks: a WebSocket client
// on raw net.Conn, with its own minimal handshake and framing, that drives
// one echo server and checks every byte it gets back.
//
//	load -addr 127.0.0.1:9001 -mode echo -conns 64 -inflight 16 -size 16 -duration 5s
//	load -addr 127.0.0.1:9001 -mode echo -conns 10000 -inflight 1 -size 1024 -duration 5s
//	load -addr 127.0.0.1:9001 -mode idle -conns 10000
//	load -addr 127.0.0.1:9001 -mode handshake -conns 4 -n 20000
//
// Modes:
//
//   - echo: -conns connections, each with -inflight messages of -size bytes
//     outstanding at all times (pipelined: a new message goes out as soon as
//     an echo comes back), for -warmup and then -duration. Messages are
//     binary, in masked frames with random keys; every echo is checked byte
//     for byte (type, flags, length, content, order; see parser). It reports
//     round trips per second and the round-trip time percentiles. The
//     connections are dialed and upgraded -dial-parallel at a time before any
//     message is sent; -warmup starts once every connection is up.
//   - idle: opens -conns connections (-dial-parallel at a time), upgrades
//     each and echoes one 16-byte message on it, prints {"ready":...} and
//     holds them idle until its standard input closes (or -hold passes);
//     then echoes one more message on every connection, to prove none was
//     dropped, and prints the result.
//     The caller measures the server's memory in between.
//   - handshake: -conns workers repeat dial, upgrade, one 16-byte echo, close
//     handshake (client sends 1000, expects the server's close frame and then
//     the end of the TCP stream), until -n handshakes are done or -duration
//     passes. The caller measures the server's CPU time.
//
// With -tcp (echo mode only) the server is a plain TCP echo: there is no
// opening handshake, and the masked client frames are expected back exactly as
// sent.
//
// The results are JSON objects, one per line, on standard output (echo mode
// also prints {"phase":"start"} and {"phase":"stop"} around the measured
// interval); a failed check
// ends the program with status 1 and a message that names the connection,
// the message and the byte.
package main

import (
	"bufio"
	crand "crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type config struct {
	addr      string
	path      string
	mode      string
	conns     int
	inflight  int
	size      int
	duration  time.Duration
	warmup    time.Duration
	n         int
	hold      time.Duration
	dialPar   int
	syncWrite bool
	tcp       bool
	timeout   time.Duration
	profile   string
}

func main() {
	var cfg config
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:9001", "server address")
	flag.StringVar(&cfg.path, "path", "/", "request target of the opening handshake")
	flag.StringVar(&cfg.mode, "mode", "echo", "echo, idle or handshake")
	flag.IntVar(&cfg.conns, "conns", 64, "connections (handshake mode: concurrent workers)")
	flag.IntVar(&cfg.inflight, "inflight", 16, "echo mode: messages outstanding per connection")
	flag.IntVar(&cfg.size, "size", 16, "echo mode: payload bytes per message")
	flag.DurationVar(&cfg.duration, "duration", 5*time.Second, "echo mode: measured time; handshake mode: time limit")
	flag.DurationVar(&cfg.warmup, "warmup", 500*time.Millisecond, "echo mode: unmeasured time before -duration starts")
	flag.IntVar(&cfg.n, "n", 20000, "handshake mode: handshakes to do (0: as many as -duration allows)")
	flag.DurationVar(&cfg.hold, "hold", 0, "idle mode: how long to hold the connections (0: until standard input closes)")
	flag.BoolVar(&cfg.syncWrite, "sync-write", false, "echo mode: each connection's reader sends the next message itself when an echo is checked, instead of handing credit to a writer goroutine (one goroutine per connection, no hand-off: cheaper with many connections); needs -inflight x (-size + 14) <= 64 KiB")
	flag.IntVar(&cfg.dialPar, "dial-parallel", 64, "echo and idle modes: connections dialed and upgraded at a time (bounded, so the server's listen backlog never overflows)")
	flag.BoolVar(&cfg.tcp, "tcp", false, "echo mode: the server is a raw TCP echo (no handshake, frames come back masked)")
	flag.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "dial and handshake timeout; also how long a connection may make no progress")
	flag.StringVar(&cfg.profile, "cpuprofile", "", "write the load generator's own CPU profile to this file")
	flag.Parse()
	log.SetPrefix("load: ")
	log.SetFlags(0)

	if cfg.tcp && cfg.mode != "echo" {
		log.Fatalf("-tcp works in echo mode only")
	}
	if cfg.conns < 1 || cfg.inflight < 1 || cfg.size < 0 || cfg.dialPar < 1 {
		log.Fatalf("need -conns >= 1, -inflight >= 1, -size >= 0, -dial-parallel >= 1")
	}
	if cfg.syncWrite && (cfg.mode != "echo" || cfg.inflight*(cfg.size+14) > syncWriteMax) {
		log.Fatalf("-sync-write works in echo mode with at most %d bytes of frames in flight per connection", syncWriteMax)
	}
	if err := raiseFileLimit(cfg.conns + fdSlack); err != nil {
		log.Fatal(err)
	}
	if cfg.profile != "" {
		f, err := os.Create(cfg.profile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	var err error
	switch cfg.mode {
	case "echo":
		err = runEcho(&cfg)
	case "idle":
		err = runIdle(&cfg)
	case "handshake":
		err = runHandshake(&cfg)
	default:
		err = fmt.Errorf("unknown -mode %q", cfg.mode)
	}
	if err != nil {
		pprof.StopCPUProfile()
		log.Printf("FAIL: %v", err)
		os.Exit(1)
	}
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fdSlack is how many descriptors beyond its sockets the load generator may
// need: standard streams, the runtime's epoll and pipe, a profile file.
const fdSlack = 32

// raiseFileLimit lifts the soft limit on open files to the hard limit, and
// fails when even that is below need: the idle and busy scenarios hold 10,000
// to 15,000 sockets. (Go programs raise the soft limit themselves since Go
// 1.19; doing it explicitly documents the need and reports a low hard limit
// up front instead of as an accept or dial error halfway through.)
func raiseFileLimit(need int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return err
		}
	}
	if lim.Cur < uint64(need) { // RLIM_INFINITY is the largest uint64
		return fmt.Errorf("open files limited to %d (ulimit -Hn), and %d connections need %d", lim.Cur, need-fdSlack, need)
	}
	return nil
}

// emit prints one result line.
func emit(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(append(b, '\n'))
}

// newPattern returns random bytes from which every message's payload is
// cut (see message).
func newPattern(size int) []byte {
	p := make([]byte, size+patternSlack)
	crand.Read(p)
	return p
}

func randomUint64() uint64 {
	var b [8]byte
	crand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

// dial opens a connection and, unless raw, performs the opening handshake.
func dial(cfg *config) (net.Conn, []byte, error) {
	nc, err := net.DialTimeout("tcp", cfg.addr, cfg.timeout)
	if err != nil {
		return nil, nil, err
	}
	if cfg.tcp {
		return nc, nil, nil
	}
	rest, err := upgrade(nc, cfg.addr, cfg.path, cfg.timeout)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, rest, nil
}

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

// flushAt is how many bytes of frames the sender gathers at most before
// it writes them.
const flushAt = 64 << 10

// sender writes a connection's messages: it owns the sequence numbers, the
// mask key sequence and the write buffer. The writer goroutine uses it, or
// with -sync-write the reader.
type sender struct {
	c   *client
	rng *rand.Rand
	buf []byte
	seq uint64
	iov [][]byte // premasked: heads and bodies, for writev
}

func (c *client) newSender() *sender {
	frameSize := c.cfg.size + 14
	// At most -inflight frames are ever pending (credit is never more), and
	// a write goes out once flushAt is reached: size the buffer to the
	// smaller, so that 10,000 connections with one small message in
	// flight do not hold 64 KiB each.
	return &sender{
		c:   c,
		rng: rand.New(rand.NewPCG(c.seed[0], c.seed[1])),
		buf: make([]byte, 0, min(c.cfg.inflight*frameSize, max(flushAt, frameSize)+frameSize)),
	}
}

// send writes the next n messages, as few write calls as flushAt allows.
func (s *sender) send(n int64) error {
	c := s.c
	if c.pre != nil {
		return s.sendPremasked(n)
	}
	k := uint64(c.cfg.inflight)
	t := now()
	for ; n > 0; n-- {
		c.sent[s.seq%k].Store(t)
		s.buf = c.msg.appendFrame(s.buf, s.seq, uint32(s.rng.Uint64()))
		s.seq++
		if len(s.buf) >= flushAt {
			if _, err := c.nc.Write(s.buf); err != nil {
				return err
			}
			s.buf = s.buf[:0]
			t = now()
		}
	}
	if len(s.buf) > 0 {
		if _, err := c.nc.Write(s.buf); err != nil {
			return err
		}
		s.buf = s.buf[:0]
	}
	return nil
}

// premaskBatch is how many large messages go out in one writev at most.
const premaskBatch = 16

// sendPremasked is send for large messages: each frame is its head, made
// now, and a body masked in advance, written together with writev.
func (s *sender) sendPremasked(n int64) error {
	c := s.c
	k := uint64(c.cfg.inflight)
	for n > 0 {
		batch := min(n, premaskBatch)
		if cap(s.buf) < premaskBatch*maxHead {
			s.buf = make([]byte, 0, premaskBatch*maxHead)
		}
		heads, iov := s.buf[:0], s.iov[:0]
		t := now()
		for range batch {
			v := s.seq % premaskVariants
			c.sent[s.seq%k].Store(t)
			start := len(heads)
			heads = c.msg.appendHead(heads, s.seq, c.pre.keys[v])
			iov = append(iov, heads[start:], c.pre.bodies[v])
			s.seq++
		}
		s.iov = iov
		bufs := net.Buffers(iov)
		if _, err := bufs.WriteTo(c.nc); err != nil {
			return err
		}
		n -= batch
	}
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

// conn is one connection of the idle and handshake modes, used
// synchronously: write a frame, read until the answer is complete.
type conn struct {
	nc   net.Conn
	br   []byte
	rest []byte
	msg  message
	ps   parser
	seq  uint64
}

func newConn(cfg *config, pattern []byte) (*conn, error) {
	nc, rest, err := dial(cfg)
	if err != nil {
		return nil, err
	}
	c := &conn{nc: nc, rest: rest, msg: message{size: 16, salt: randomUint64(), pattern: pattern}}
	c.ps.msg = &c.msg
	return c, nil
}

// echo sends one 16-byte message and waits for its checked echo.
func (c *conn) echo(timeout time.Duration) error {
	var frame [64]byte
	b := c.msg.appendFrame(frame[:0], c.seq, uint32(randomUint64()))
	c.seq++
	c.nc.SetDeadline(time.Now().Add(timeout))
	defer c.nc.SetDeadline(time.Time{})
	if _, err := c.nc.Write(b); err != nil {
		return err
	}
	return c.readUntil(func() bool { return c.ps.seq == c.seq })
}

// readUntil feeds the parser until cond holds.
func (c *conn) readUntil(cond func() bool) error {
	if c.br == nil {
		c.br = make([]byte, 512)
	}
	for !cond() {
		p := c.rest
		c.rest = nil
		if len(p) == 0 {
			n, err := c.nc.Read(c.br)
			if err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return err
			}
			p = c.br[:n]
		}
		if _, err := c.ps.feed(p); err != nil {
			return err
		}
	}
	c.br = nil // idle connections keep no read buffer
	return nil
}

// closeHandshake sends close 1000, expects the server's close frame (1000
// or no code) and then the end of the stream: the server closes TCP first
// (RFC 6455 §7.1.1).
func (c *conn) closeHandshake(timeout time.Duration) error {
	var frame [16]byte
	key := uint32(randomUint64())
	b := appendHeader(frame[:0], opClose, 2, key)
	b = binary.BigEndian.AppendUint16(b, 1000)
	maskXor(b[len(b)-2:], b[len(b)-2:], key, 0)
	c.nc.SetDeadline(time.Now().Add(timeout))
	if _, err := c.nc.Write(b); err != nil {
		return err
	}
	c.ps.closeOK = true
	if err := c.readUntil(func() bool { return c.ps.gotClose }); err != nil {
		return fmt.Errorf("waiting for the server's close frame: %w", err)
	}
	if c.ps.code != 1000 && c.ps.code != 0 {
		return fmt.Errorf("server answered close 1000 with code %d", c.ps.code)
	}
	var one [1]byte
	n, err := c.nc.Read(one[:])
	if n > 0 {
		return errors.New("server sent data after its close frame")
	}
	if err != io.EOF {
		return fmt.Errorf("waiting for the server to close TCP: %w", err)
	}
	return nil
}

func runIdle(cfg *config) error {
	pattern := newPattern(16)
	conns := make([]*conn, cfg.conns)
	start := time.Now()
	// Dial and echo a few at a time: enough to be quick, few enough not to
	// overflow the listen backlog.
	err := parallel(len(conns), cfg.dialPar, func(i int) error {
		c, err := newConn(cfg, pattern)
		if err != nil {
			return err
		}
		conns[i] = c
		return c.echo(cfg.timeout)
	})
	if err != nil {
		closeAll(conns)
		return err
	}
	setup := time.Since(start)
	emit(map[string]any{"mode": "idle", "ready": true, "conns": len(conns), "setup_seconds": setup.Seconds()})

	if cfg.hold > 0 {
		time.Sleep(cfg.hold)
	} else {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
		eof := make(chan struct{})
		go func() {
			io.Copy(io.Discard, bufio.NewReader(os.Stdin))
			close(eof)
		}()
		select {
		case <-eof:
		case <-sig:
		}
	}

	var alive atomic.Int64
	err = parallel(len(conns), cfg.dialPar, func(i int) error {
		if err := conns[i].echo(cfg.timeout); err != nil {
			return err
		}
		alive.Add(1)
		return nil
	})
	closeAll(conns)
	emit(map[string]any{"mode": "idle", "conns": len(conns), "alive": alive.Load()})
	if err != nil {
		return fmt.Errorf("after holding: %w", err)
	}
	return nil
}

func runHandshake(cfg *config) error {
	pattern := newPattern(16)
	var count atomic.Int64
	deadline := time.Now().Add(cfg.duration)
	start := time.Now()
	err := parallel(cfg.conns, cfg.conns, func(int) error {
		for time.Now().Before(deadline) {
			if cfg.n > 0 && count.Add(1) > int64(cfg.n) {
				count.Add(-1)
				return nil
			}
			if cfg.n <= 0 {
				count.Add(1)
			}
			c, err := newConn(cfg, pattern)
			if err != nil {
				return err
			}
			err = c.echo(cfg.timeout)
			if err == nil {
				err = c.closeHandshake(cfg.timeout)
			}
			c.nc.Close()
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	n := count.Load()
	emit(map[string]any{"mode": "handshake", "handshakes": n, "seconds": secs, "rate": float64(n) / secs})
	return nil
}

// parallel calls f(0..n-1) on at most width goroutines and returns the
// first error (after which no new calls start).
func parallel(n, width int, f func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	var failed atomic.Bool
	for range min(width, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { first = fmt.Errorf("connection %d: %w", i, err) })
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	return first
}

func closeAll(conns []*conn) {
	for _, c := range conns {
		if c != nil {
			c.nc.Close()
		}
	}
}
