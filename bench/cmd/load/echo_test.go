package main

import (
	"encoding/json"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// TestEchoModes runs the echo mode against an in-process TCP echo (-tcp:
// the masked frames must come back exactly as sent), with the writer
// goroutine and with -sync-write, dialing in parallel, and checks the
// result line. A lost, reordered or corrupted frame fails runEcho itself.
func TestEchoModes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()

	for _, tc := range []struct {
		sync bool
		size int
	}{{false, 100}, {true, 100}, {false, premaskMin + 3}} {
		sync := tc.sync
		cfg := &config{
			addr: ln.Addr().String(), mode: "echo", conns: 40, inflight: 2, size: tc.size,
			duration: 200 * time.Millisecond, warmup: 50 * time.Millisecond,
			dialPar: 8, syncWrite: sync, tcp: true, timeout: 5 * time.Second,
		}
		stopping.Store(false)
		out := captureStdout(t, func() {
			if err := runEcho(cfg); err != nil {
				t.Errorf("sync-write %v: %v", sync, err)
			}
		})
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 3 {
			t.Fatalf("sync-write %v: output %q, want start, stop and the result", sync, out)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(lines[2]), &m); err != nil {
			t.Fatal(err)
		}
		if rt, _ := m["roundtrips"].(float64); rt < float64(cfg.conns) {
			t.Errorf("sync-write %v: %v round trips, want at least one per connection", sync, m["roundtrips"])
		}
		if p99, _ := m["p99_us"].(float64); p99 <= 0 {
			t.Errorf("sync-write %v: p99 %v, want a round-trip time", sync, m["p99_us"])
		}
		if _, ok := m["dial_seconds"].(float64); !ok {
			t.Errorf("sync-write %v: no dial_seconds in %v", sync, m)
		}
	}
}

// captureStdout returns what f printed on os.Stdout.
func captureStdout(t *testing.T, f func()) string {
	t.Helper()
	tmp, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	defer tmp.Close()
	saved := os.Stdout
	os.Stdout = tmp
	defer func() { os.Stdout = saved }()
	f()
	b, err := os.ReadFile(tmp.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
