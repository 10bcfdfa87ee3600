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
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime/pprof"
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

// emit prints one result line.
func emit(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(append(b, '\n'))
}
