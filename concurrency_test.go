package websocket_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/rfc6455/websocket"
)

// TestConcurrentSenders: many goroutines call SendText on one client Conn
// while another goroutine reads the echoes. Messages never interleave (each
// arrives whole) and each sender's order is kept. Run with -race.
func TestConcurrentSenders(t *testing.T) {
	addr := startServer(t, &websocket.Server{Handler: echoHandler})
	opts := &websocket.DialOptions{}
	opts.FragmentSize = 16 // most messages span several frames
	ctx := testCtx(t)
	c, err := websocket.Dial(ctx, "ws://"+addr+"/", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()

	const senders, perSender = 8, 150
	readErr := make(chan error, 1)
	go func() {
		next := make([]int, senders) // the sequence number expected from each sender
		for i := 0; i < senders*perSender; i++ {
			_, data, err := c.ReadMessage(ctx)
			if err != nil {
				readErr <- fmt.Errorf("message %d: %w", i, err)
				return
			}
			var g, seq int
			var pad string
			if _, err := fmt.Sscanf(string(data), "sender %d message %d %s", &g, &seq, &pad); err != nil || g < 0 || g >= senders {
				readErr <- fmt.Errorf("message %d mangled: %q", i, data)
				return
			}
			if seq != next[g] {
				readErr <- fmt.Errorf("sender %d: message %d arrived when %d was due", g, seq, next[g])
				return
			}
			if want := padding(g, seq); pad != want {
				readErr <- fmt.Errorf("sender %d message %d: padding %q, want %q", g, seq, pad, want)
				return
			}
			next[g]++
		}
		readErr <- nil
	}()

	var wg sync.WaitGroup
	for g := 0; g < senders; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; seq < perSender; seq++ {
				if err := c.SendText(ctx, fmt.Sprintf("sender %d message %d %s", g, seq, padding(g, seq))); err != nil {
					t.Errorf("sender %d: %v", g, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := <-readErr; err != nil {
		t.Fatal(err)
	}
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
}

// padding makes messages of varied lengths (some one frame, some many) whose
// content can be checked.
func padding(g, seq int) string {
	b := make([]byte, 1+(g*7+seq*13)%60)
	for i := range b {
		b[i] = 'a' + byte((g+seq+i)%26)
	}
	return string(b)
}
