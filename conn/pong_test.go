package conn

import (
	"bytes"
	"net"
	"testing"

	"github.com/rfc6455/websocket/frame"
)

// unsentStream is a Transport that takes every write into a buffer and
// says how much of it is unsent: as much as the test sets.
type unsentStream struct {
	Transport
	out    bytes.Buffer
	unsent int
	asked  int // Unsent calls
}

func (s *unsentStream) Write(p []byte) (int, error) { return s.out.Write(p) }

func (s *unsentStream) Writev(bufs *net.Buffers) (int64, error) {
	var n int64
	for _, b := range *bufs {
		k, _ := s.out.Write(b)
		n += int64(k)
	}
	return n, nil
}

func (s *unsentStream) Unsent() int { s.asked++; return s.unsent }

// TestAnswerPing: a ping is answered unless the last pong is still among
// more than pongBacklog unsent bytes; then it is counted instead. A pong
// that left long ago (a large message was sent after it) does not stop
// the next one however much waits, so a slow download's pings are still
// answered.
func TestAnswerPing(t *testing.T) {
	a, _ := net.Pipe()
	defer a.Close()
	st := &unsentStream{Transport: newStream(a)}
	c := NewTransport(st, Server, nil)
	if err := c.Open(nil); err != nil {
		t.Fatal(err)
	}
	pongs := func() int { return bytes.Count(st.out.Bytes(), []byte{0x80 | byte(frame.OpPong), 4}) }
	steps := []struct {
		name       string
		unsent     int
		sendBefore int // bytes of a binary message written before the ping
		answered   bool
	}{
		{"the first ping, much unsent", 1 << 20, 0, true},
		{"the last pong is unsent", pongBacklog + 1, 0, false},
		{"little is unsent", pongBacklog, 0, true},
		{"the last pong is unsent again", 64 << 10, 0, false},
		{"the last pong left before 100 KiB more", 64 << 10, 100 << 10, true},
	}
	var withheld uint64
	for i, step := range steps {
		if step.sendBefore > 0 {
			if err := c.WriteFrame(frame.OpBinary, true, 0, make([]byte, step.sendBefore)); err != nil {
				t.Fatal(err)
			}
		}
		st.unsent = step.unsent
		c.flooded = false // the read that brought this ping cleared it (fillOnce)
		before := pongs()
		if err := c.AnswerPing([]byte("ping")); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		got := pongs() - before
		if !step.answered {
			withheld++
		}
		if want := map[bool]int{true: 1, false: 0}[step.answered]; got != want {
			t.Errorf("step %d, %s: %d pongs written, want %d", i, step.name, got, want)
		}
		if n := c.Stats().PingsUnanswered; n != withheld {
			t.Errorf("step %d, %s: PingsUnanswered = %d, want %d", i, step.name, n, withheld)
		}
	}
	// A second ping of the same read, after one was left unanswered, is
	// counted too, without asking the transport again; the blocking
	// reader's next refill pauses and clears the mark.
	c.flooded = false
	st.unsent = 64 << 10
	if err := c.AnswerPing([]byte("ping")); err != nil || !c.flooded {
		t.Fatalf("a ping over a stuck pong: %v, flooded %v", err, c.flooded)
	}
	asked, before := st.asked, pongs()
	if err := c.AnswerPing([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if st.asked != asked || pongs() != before || c.Stats().PingsUnanswered != withheld+2 {
		t.Errorf("the next ping of the same read: Unsent asked %d more times, %d pongs, %d unanswered; want 0, 0, %d",
			st.asked-asked, pongs()-before, c.Stats().PingsUnanswered, withheld+2)
	}
	if err := c.AnswerPing(make([]byte, frame.MaxControlPayload+1)); err == nil {
		t.Error("AnswerPing with a 126-byte payload: nil error")
	}
}
