package main

// ours is the contestant built from the parent module, run in the
// Server's default I/O mode (a goroutine per connection).
const ours = "rfc6455"

// oursEL is the same binary as ours, run with the Server's event-loop
// (epoll) I/O mode.
const oursEL = "rfc6455-el"

// tcp is the plain TCP echo baseline.
const tcp = "tcp"

var allContestants = []string{ours, oursEL, "gorilla", "gobwas", "coder", "gws", "nbio", tcp}

// isOurs reports whether c is one of this library's contestants, which share
// one binary built from the parent module.
func isOurs(c string) bool { return c == ours || c == oursEL }

// ioMode is the value of the echo server's -io flag for one of ours.
func ioMode(c string) string {
	if c == oursEL {
		return "eventloop"
	}
	return "goroutine"
}

// binName is the file name of c's echo server in the build directory.
func binName(c string) string {
	if isOurs(c) {
		return "echo-" + ours
	}
	return "echo-" + c
}

type scenario struct {
	name     string
	mode     string // load generator mode
	conns    int
	inflight int
	size     int
	what     string // for the table
	// rtt, when set, asks for a table of the round-trip time percentiles
	// of this scenario; it says what the scenario sends.
	rtt string
	// syncWrite runs the load generator with -sync-write: one goroutine
	// per connection instead of two, which with many connections and one
	// small message in flight on each saves it a goroutine hand-off per
	// message, so that it is less often the limit.
	syncWrite bool
}

// manyConns is the connection count from which ours needs its connection
// limit lifted (the Server's default MaxConnections is 10,000, and the
// driver's port probe may still hold a slot).
const manyConns = 1000

// conns is how many connections a run of sc holds at once.
func (cfg *config) conns(sc scenario) int {
	if sc.mode == "idle" {
		return cfg.idleConns
	}
	return sc.conns
}

var scenarios = []scenario{
	{name: "echo-16B", mode: "echo", conns: 64, inflight: 16, size: 16, what: "16 B, 64 conns x 16 in flight"},
	{name: "echo-1KiB", mode: "echo", conns: 64, inflight: 4, size: 1 << 10, what: "1 KiB, 64 x 4"},
	{name: "echo-64KiB", mode: "echo", conns: 8, inflight: 2, size: 64 << 10, what: "64 KiB, 8 x 2"},
	{name: "echo-1MiB", mode: "echo", conns: 2, inflight: 1, size: 1 << 20, what: "1 MiB, 2 x 1"},
	{name: "latency", mode: "echo", conns: 1, inflight: 1, size: 16, what: "16 B, 1 x 1",
		rtt: "16 B, one connection, one message in flight"},
	{name: "busy-10k", mode: "echo", conns: 10000, inflight: 1, size: 1 << 10, what: "1 KiB, 10,000 conns x 1",
		rtt: "1 KiB, 10,000 connections, one message in flight on each", syncWrite: true},
	{name: "idle", mode: "idle", what: "idle upgraded connections"},
	{name: "handshake", mode: "handshake", conns: 4, what: "dial, upgrade, 16 B echo, close"},
}

// unit describes a scenario's metric.
func (s scenario) unit() string {
	switch s.mode {
	case "idle":
		return "KiB RSS per connection (lower is better)"
	case "handshake":
		return "µs server CPU per handshake (lower is better)"
	}
	return "round trips/s"
}

func (s scenario) lowerIsBetter() bool { return s.mode != "echo" }

// result is one run.
type result struct {
	value     float64 // the scenario's metric
	p50, p99  float64 // µs, echo modes
	serverCPU float64 // cores the server used during the run
	loadCPU   float64 // cores the load generator used while measuring
	dial      float64 // seconds the load generator took to dial and upgrade its connections (echo modes)
	// foreign is the share of the benchmark's CPUs (0 and 1 when pinned)
	// that other processes, or the hypervisor (steal time), took during
	// the run: the sign of a busy machine, whose numbers are worthless.
	foreign float64
	err     error
}
