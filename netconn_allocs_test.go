package websocket_test

import (
	"io"
	"testing"
	"time"
)

// TestNetConnAllocs: in steady state a Write and the Reads that take its
// echo back allocate nothing, deadlines set or not.
func TestNetConnAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	nc := netConnEcho(t)
	msg := make([]byte, 1000)
	buf := make([]byte, 600) // two Reads per message: one leaves a rest
	roundTrip := func() {
		if _, err := nc.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(nc, buf); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(nc, buf[:400]); err != nil {
			t.Fatal(err)
		}
	}
	if allocs := testing.AllocsPerRun(200, roundTrip); allocs != 0 {
		t.Errorf("%v allocations per round trip without deadlines, want 0", allocs)
	}
	nc.SetDeadline(time.Now().Add(time.Minute))
	if allocs := testing.AllocsPerRun(200, roundTrip); allocs != 0 {
		t.Errorf("%v allocations per round trip with deadlines, want 0", allocs)
	}
}
