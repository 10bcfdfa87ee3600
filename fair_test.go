package websocket_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/frame"
)

// Peers that take more than their share: floods of messages and pings,
// and a peer that half-closes.

// TestLoopServerFloodFairness: on one loop, peers that pipeline small
// messages as fast as they can (and read the echoes, so that they are
// never paused) do not hold up a well-behaved client on the same loop:
// while it waits for each echo, the loop handles at most a share of each
// flood per round. (Before the shares, the loop read a flood until the
// kernel had nothing left, which such a peer never allows.)
func TestLoopServerFloodFairness(t *testing.T) {
	if err := loopsProbe(); err != nil {
		t.Skipf("no event loops here (%v)", err)
	}
	const floods = 4
	var flooded atomic.Int64 // flood messages the server has handled
	seen := make(chan int64, 1)
	_, addr := startPush(t, websocket.IOEventLoop, func(s *websocket.Server) {
		s.Loops = 1
		s.Options.OnMessage = func(c *websocket.Conn, typ websocket.MessageType, data []byte) {
			if len(data) > 0 && data[0] == 'w' {
				seen <- flooded.Load()
			} else {
				flooded.Add(1)
			}
			c.WriteMessage(context.Background(), typ, data)
		}
	})

	stop := make(chan struct{})
	var peers sync.WaitGroup
	defer peers.Wait()
	defer close(stop)
	const payload = 16
	var batch []byte
	for range 2000 {
		batch = append(batch, maskedFrame(true, 0, frame.OpBinary, bytes.Repeat([]byte{'f'}, payload))...)
	}
	for range floods {
		p := dialRaw(t, addr)
		p.nc.SetDeadline(time.Time{})
		peers.Go(func() { io.Copy(io.Discard, p.nc) }) // ends when the peer's socket is closed
		peers.Go(func() {
			defer p.nc.Close()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := p.nc.Write(batch); err != nil {
					return
				}
			}
		})
	}
	waitFor(t, func() bool { return flooded.Load() > 100000 }) // the floods are on

	ctx := testCtx(t)
	c, err := websocket.Dial(ctx, "ws://"+addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	// A share is at most readShare (2) reads of a 4 KiB read buffer, each
	// frame 6+16 bytes; allow three rounds of every flood's share, as the
	// loop may be anywhere in one when the message arrives.
	const share = 2*4096/(6+payload) + 1
	const bound = 3 * floods * share
	var worst int64
	for i := range 30 {
		before := flooded.Load()
		echoOnce(t, c, "well-behaved")
		var at int64
		select {
		case at = <-seen:
		default:
			t.Fatalf("round trip %d: the server's OnMessage did not see the message", i)
		}
		worst = max(worst, at-before)
	}
	t.Logf("%d flood messages handled; at most %d while the well-behaved client waited", flooded.Load(), worst)
	if worst > bound {
		t.Errorf("the loop handled %d flood messages while the well-behaved client waited for an echo, want at most %d (three rounds of shares)", worst, bound)
	}
}

// TestServerPingFlood: a peer that floods pings and reads none of the
// pongs gets a bounded number of them: past a few KiB of unsent bytes the
// server stops answering, counts the pings it left unanswered (in the
// connection's Stats and the Server's), and goes on reading, in both I/O
// modes. Every ping is either answered or counted, and a data message
// after the flood is still echoed. (Before, the pongs piled up until the
// loop stopped reading the peer, or the goroutine mode's reader blocked
// writing a pong, and the flood was never read to its end.)
func TestServerPingFlood(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		srv, addr := startPushOn(t, mode, listenSmall(t), func(s *websocket.Server) { s.Loops = 1 })
		p := dialRawSmall(t, addr)
		c := serverConn(t, srv)
		const pings = 20000 // 2.5 MiB of pongs, if all were answered
		ping := maskedFrame(true, 0, frame.OpPing, bytes.Repeat([]byte{'p'}, frame.MaxControlPayload))
		flood := bytes.Repeat(ping, pings)
		wrote := make(chan error, 1)
		go func() {
			_, err := p.nc.Write(flood)
			wrote <- err
		}()
		deadline := time.Now().Add(20 * time.Second)
		for c.Stats().FramesIn < pings {
			if time.Now().After(deadline) {
				t.Fatalf("the server read %d of %d pings from a peer that reads no pongs (%d left unanswered)", c.Stats().FramesIn, pings, c.Stats().PingsUnanswered)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err := <-wrote; err != nil {
			t.Fatalf("writing the pings: %v", err)
		}
		unanswered := c.Stats().PingsUnanswered
		if unanswered == 0 {
			t.Fatalf("every one of %d pings was answered to a peer that reads nothing", pings)
		}
		if got := srv.Stats().PingsUnanswered; got != unanswered {
			t.Errorf("ServerStats.PingsUnanswered = %d, want the connection's %d", got, unanswered)
		}

		// A message after the flood: its echo follows the pongs sent.
		p.write(maskedFrame(true, 0, frame.OpText, []byte("after")))
		pongs := uint64(0)
		for {
			h, data, err := p.next()
			if err != nil {
				t.Fatalf("after %d pongs: %v", pongs, err)
			}
			if h.Opcode == frame.OpPong {
				pongs++
				continue
			}
			if h.Opcode != frame.OpText || string(data) != "after" {
				t.Fatalf("after %d pongs: a %v frame %q, want the echo", pongs, h.Opcode, data)
			}
			break
		}
		t.Logf("%v: %d pongs, %d pings unanswered", mode, pongs, unanswered)
		if pongs+unanswered != pings {
			t.Errorf("%d pongs and %d pings unanswered, of %d pings", pongs, unanswered, pings)
		}
	})
}

// TestServerHalfCloseFIN: a client that sends a message and half-closes
// (FIN, no close frame) gets the echo and then the end of the stream, not
// a reset: the server ends the connection with FIN after what it wrote, in
// both I/O modes. (It used to reset it, SO_LINGER 0, which can destroy
// replies still on their way to a peer that only stopped writing.)
func TestServerHalfCloseFIN(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		closed, onClose := closeCh()
		_, addr := startPush(t, mode, func(s *websocket.Server) { s.Options.OnClose = onClose })
		p := dialRaw(t, addr)
		msg := bytes.Repeat([]byte("half-close "), 1000)
		p.write(maskedFrame(true, 0, frame.OpText, msg))
		if err := p.nc.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		p.expectFrame(frame.OpText, msg)
		if _, _, err := p.next(); err != io.EOF {
			t.Fatalf("after the echo: %v, want io.EOF (FIN, not a reset)", err)
		}
		err := recvErr(t, closed, "OnClose")
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.StatusAbnormalClosure || !errors.Is(err, io.EOF) {
			t.Errorf("the server's connection ended with %v, want a 1006 CloseError wrapping io.EOF", err)
		}
	})
}

// TestServerFailLingers: a server that refuses a message part way (1009,
// declared past the limit) while its peer is still sending it closes
// lingering, in both I/O modes: the peer's writes go on succeeding (the
// server reads and drops them), and the peer then reads the close frame
// and the end of the stream, not a reset. (Closing with the peer's bytes
// unread made TCP reset the connection: the peer's writes failed with
// ECONNRESET before it could read why.)
func TestServerFailLingers(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		closed, onClose := closeCh()
		_, addr := startPush(t, mode, func(s *websocket.Server) {
			s.Options.MaxMessageSize = 64 << 10
			s.Options.OnClose = onClose
		})
		p := dialRaw(t, addr)
		const size = 16 << 20
		h := frame.Header{Fin: true, Opcode: frame.OpBinary, Length: size, Masked: true}
		p.write(frame.AppendHeader(nil, h))
		// The server refuses at the header; the payload keeps coming.
		chunk := make([]byte, 64<<10)
		for sent := 0; sent < size; sent += len(chunk) {
			if _, err := p.nc.Write(chunk); err != nil {
				t.Fatalf("writing the refused message, %d bytes in: %v (want them read and dropped)", sent, err)
			}
		}
		p.expectFrameClose(frame.StatusMessageTooBig)
		if _, _, err := p.next(); err != io.EOF {
			t.Fatalf("after the close frame: %v, want io.EOF (FIN, not a reset)", err)
		}
		err := recvErr(t, closed, "OnClose")
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.StatusMessageTooBig {
			t.Errorf("the server's connection ended with %v, want a 1009 CloseError", err)
		}
	})
}
