package main

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// scenarioNamed returns the scenario called name.
func scenarioNamed(t *testing.T, name string) scenario {
	t.Helper()
	i := slices.IndexFunc(scenarios, func(s scenario) bool { return s.name == name })
	if i < 0 {
		t.Fatalf("no scenario %q", name)
	}
	return scenarios[i]
}

// ok returns successful runs with the given values.
func ok(v ...float64) []result {
	var rs []result
	for _, x := range v {
		rs = append(rs, result{value: x})
	}
	return rs
}

// rtt returns successful echo runs with a rate and p50/p99 in µs each.
func rtt(v ...[3]float64) []result {
	var rs []result
	for _, x := range v {
		rs = append(rs, result{value: x[0], p50: x[1], p99: x[2]})
	}
	return rs
}

// wantLines fails the test for each line of want that got lacks.
func wantLines(t *testing.T, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("render output lacks\n%s\ngot:\n%s", w, got)
		}
	}
}

func TestRender(t *testing.T) {
	cfg := &config{
		scenarios:   []scenario{scenarioNamed(t, "echo-16B"), scenarioNamed(t, "idle")},
		contestants: []string{ours, "gorilla", "gws", tcp},
		rounds:      3,
	}
	results := map[string]map[string][]result{
		"echo-16B": {
			ours:      ok(300e3, 100e3, 200e3), // median 200k
			"gorilla": ok(150e3, 160e3, 170e3),
			"gws": {{value: 1}, {err: errors.New("load: FAIL: connection 3: message 7: payload byte 9 is 0x00, sent 0x01\nmore")},
				{value: 2}},
			tcp: ok(1e6, 1e6, 1e6),
		},
		"idle": {
			ours:      ok(5, 6, 7),
			"gorilla": ok(17, 17, 17),
			"gws":     ok(10, 11, 12),
		},
	}
	got := render(cfg, results)
	wantLines(t, got,
		"| scenario | unit | rfc6455 | gorilla | gws | tcp | ours/best peer | ours/tcp |\n|---|---|---:|---:|---:|---:|---:|---:|\n",
		"| echo-16B (16 B, 64 conns x 16 in flight) | round trips/s | 200k | 160k | FAIL | 1.00M | 1.25 (gorilla) | 0.20 |",
		"| idle (idle upgraded connections) | KiB RSS per connection (lower is better) | 6.0 | 17.0 | 11.0 | - | 0.55 (gws) | - |",
		"- echo-16B, gws, round 2: load: FAIL: connection 3: message 7: payload byte 9 is 0x00, sent 0x01 / more",
	)
	// Without the event-loop contestant the table keeps its old columns.
	if strings.Contains(got, "el/") {
		t.Errorf("el columns without %s:\n%s", oursEL, got)
	}
}

// TestRenderEventLoop is issue 7's table: both of ours and nbio, idle and
// busy-10k.
func TestRenderEventLoop(t *testing.T) {
	cfg := &config{
		scenarios:   []scenario{scenarioNamed(t, "idle"), scenarioNamed(t, "busy-10k")},
		contestants: []string{ours, oursEL, "nbio"},
		rounds:      3,
	}
	results := map[string]map[string][]result{
		"idle": {
			ours:   ok(7, 8, 9),
			oursEL: ok(0.9, 1.0, 0.8), // median 0.9
			"nbio": ok(1.8, 1.8, 1.8),
		},
		"busy-10k": {
			ours:   rtt([3]float64{100e3, 40e3, 90e3}, [3]float64{80e3, 50e3, 100e3}, [3]float64{90e3, 45e3, 95e3}),
			oursEL: rtt([3]float64{99e3, 44e3, 96e3}, [3]float64{99e3, 45e3, 96e3}, [3]float64{99e3, 46e3, 96e3}),
			"nbio": {{value: 50e3, p50: 8e3, p99: 200e3}, {err: errors.New("load: FAIL: connection 9999: no echo for 10s after 3 messages")}, {value: 1}},
		},
	}
	got := render(cfg, results)
	wantLines(t, got,
		"| scenario | unit | rfc6455 | rfc6455-el | nbio | ours/best peer | ours/tcp | el/best peer | el/goroutine |\n"+
			"|---|---|---:|---:|---:|---:|---:|---:|---:|\n",
		// el/best peer 0.9/1.8, el/goroutine 0.9/8.
		"| idle (idle upgraded connections) | KiB RSS per connection (lower is better) | 8.0 | 0.9 | 1.8 | 4.44 (nbio) | - | 0.50 (nbio) | 0.11 |",
		// nbio failed a round: no peer to divide by.
		"| busy-10k (1 KiB, 10,000 conns x 1) | round trips/s | 90.0k | 99.0k | FAIL | - | - | - | 1.10 |",
		"Round-trip time of the busy-10k scenario (1 KiB, 10,000 connections, one message in flight on each), medians of the rounds:\n\n"+
			"| contestant | round trips/s | p50 | p99 |\n|---|---:|---:|---:|\n"+
			"| rfc6455 | 90.0k | 45.0 ms | 95.0 ms |\n"+
			"| rfc6455-el | 99.0k | 45.0 ms | 96.0 ms |\n"+
			"| nbio | FAIL | | |\n"+
			"| el/goroutine | 1.10 | 1.00 | 1.01 |\n",
		"- busy-10k, nbio, round 2: load: FAIL: connection 9999: no echo for 10s after 3 messages",
		"el/goroutine by rfc6455.",
	)
	if strings.Contains(got, "latency scenario") {
		t.Errorf("latency table without the latency scenario:\n%s", got)
	}
}

func TestMedianAndSI(t *testing.T) {
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median of 1..4 = %v, want 2.5", m)
	}
	for v, want := range map[float64]string{1.5e6: "1.50M", 171234: "171k", 2900: "2.90k", 36400: "36.4k", 950: "950", 1.91: "1.91"} {
		if got := si(v); got != want {
			t.Errorf("si(%v) = %q, want %q", v, got, want)
		}
	}
	for v, want := range map[float64]string{21.24: "21.2 µs", 9999: "9999.0 µs", 10e3: "10.0 ms", 637950: "638.0 ms"} {
		if got := micros(v); got != want {
			t.Errorf("micros(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestServerArgs(t *testing.T) {
	idle, busy, latency := scenarioNamed(t, "idle"), scenarioNamed(t, "busy-10k"), scenarioNamed(t, "latency")
	const addr = "127.0.0.1:9"
	for _, tc := range []struct {
		ioFlag     bool
		sc         scenario
		contestant string
		want       string // the arguments joined by spaces, or "error"
	}{
		{true, latency, ours, "-addr 127.0.0.1:9 -io goroutine"},
		{true, latency, oursEL, "-addr 127.0.0.1:9 -io eventloop"},
		{true, idle, oursEL, "-addr 127.0.0.1:9 -io eventloop -max-conns -1"},
		{true, busy, ours, "-addr 127.0.0.1:9 -io goroutine -max-conns -1"},
		{true, busy, "nbio", "-addr 127.0.0.1:9"},
		{true, idle, "gws", "-addr 127.0.0.1:9"},
		// A server without -io: ours runs in its only mode, el cannot.
		{false, idle, ours, "-addr 127.0.0.1:9 -max-conns -1"},
		{false, latency, oursEL, "error"},
	} {
		cfg := &config{ioFlag: tc.ioFlag, idleConns: 15000}
		args, err := serverArgs(cfg, tc.sc, tc.contestant, addr)
		got := strings.Join(args, " ")
		if err != nil {
			got = "error"
		}
		if got != tc.want {
			t.Errorf("serverArgs(ioFlag %v, %s, %s) = %q, want %q", tc.ioFlag, tc.sc.name, tc.contestant, got, tc.want)
		}
	}
}

// TestHasFlag reads the usage text a Go program prints for -h.
func TestHasFlag(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "echoserver")
	usage := "#!/bin/sh\ncat >&2 <<'END'\nUsage of echoserver:\n  -addr string\n    \taddress to listen on (default \"127.0.0.1:9001\")\n" +
		"  -io string\n    \tI/O mode: goroutine or eventloop (default \"goroutine\")\n  -max-conns int\n    \tconnection limit\nEND\nexit 0\n"
	if err := os.WriteFile(prog, []byte(usage), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for name, want := range map[string]bool{"io": true, "addr": true, "max-conns": true, "i": false, "deflate": false, "listen": false} {
		if got := hasFlag(ctx, prog, name); got != want {
			t.Errorf("hasFlag(%q) = %v, want %v", name, got, want)
		}
	}
	if hasFlag(ctx, filepath.Join(dir, "missing"), "io") {
		t.Error("hasFlag on a missing program = true")
	}
}

// cpu returns successful echo runs, each a rate and the server's cores.
func cpu(v ...[2]float64) []result {
	var rs []result
	for _, x := range v {
		rs = append(rs, result{value: x[0], serverCPU: x[1]})
	}
	return rs
}

func TestRenderCPUPerRoundTrip(t *testing.T) {
	cfg := &config{
		scenarios:   []scenario{scenarioNamed(t, "echo-1KiB"), scenarioNamed(t, "handshake")},
		contestants: []string{ours, oursEL, "gws", "gobwas", "gorilla", tcp},
		rounds:      3,
	}
	results := map[string]map[string][]result{
		"echo-1KiB": {
			// 1 core at 250k/s is 4 µs per round trip; the median of 4, 5, 8.
			ours:      cpu([2]float64{250e3, 1}, [2]float64{200e3, 1}, [2]float64{100e3, 0.8}),
			oursEL:    cpu([2]float64{200e3, 0.9}, [2]float64{200e3, 0.9}, [2]float64{200e3, 0.9}),
			"gws":     cpu([2]float64{100e3, 1}, [2]float64{100e3, 1}, [2]float64{125e3, 1}),
			"gobwas":  cpu([2]float64{125e3, 1}, [2]float64{100e3, 1}, [2]float64{125e3, 0.75}),
			"gorilla": append(cpu([2]float64{250e3, 1}), result{err: errors.New("load: FAIL")}, result{value: 250e3, serverCPU: 1}),
			tcp:       cpu([2]float64{500e3, 1}, [2]float64{500e3, 1}, [2]float64{500e3, 1}),
		},
		"handshake": {ours: ok(90, 95, 100), "gws": ok(100, 100, 100)},
	}
	got := render(cfg, results)
	wantLines(t, got,
		"Server CPU per round trip (µs, lower is better), medians of the rounds:\n\n"+
			"| scenario | rfc6455 | rfc6455-el | gws | gobwas | gorilla | tcp | ours/best peer | el/best peer |\n"+
			"|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"+
			// gorilla failed a round: FAIL, as in the table of rates, and
			// out of the running for best peer though its other rounds
			// were the cheapest.
			"| echo-1KiB | 5.00 | 4.50 | 10.0 | 8.00 | FAIL | 2.00 | 0.62 (gobwas) | 0.56 (gobwas) |\n",
	)
	// The handshake scenario measures CPU already: it gets no row.
	if strings.Contains(got, "| handshake |") {
		t.Errorf("CPU per round trip row for the handshake scenario:\n%s", got)
	}
}

func TestRenderCPUPerRoundTripNeedsServerCPU(t *testing.T) {
	cfg := &config{scenarios: []scenario{scenarioNamed(t, "echo-16B")}, contestants: []string{ours, "gws"}, rounds: 1}
	results := map[string]map[string][]result{"echo-16B": {ours: ok(1e6), "gws": ok(1e5)}}
	if got := render(cfg, results); strings.Contains(got, "Server CPU per round trip") {
		t.Errorf("CPU table without any server CPU measured:\n%s", got)
	}
}
