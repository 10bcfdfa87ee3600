package conn

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/testutil"
)

// tcpPair returns the two ends of a loopback TCP connection.
// openPair returns an open client Conn and server Conn talking to each other.
func openPair(t testing.TB, cfg *Config) (client, server *Conn) {
	a, b := testutil.LoopbackPair(t)
	client, server = New(a, Client, cfg), New(b, Server, cfg)
	if err := client.Open(nil); err != nil {
		t.Fatal(err)
	}
	if err := server.Open(nil); err != nil {
		t.Fatal(err)
	}
	return client, server
}

// readFrame reads a whole frame with NextFrame and ReadPayload.
func readFrame(c *Conn) (frame.Header, []byte, error) {
	h, err := c.NextFrame()
	if err != nil {
		return h, nil, err
	}
	p, err := c.ReadPayload(nil)
	return h, p, err
}

func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return b
}

func TestRoundTripSizes(t *testing.T) {
	for _, role := range []Role{Client, Server} {
		t.Run(role.String(), func(t *testing.T) {
			client, server := openPair(t, nil)
			w, r := client, server
			if role == Server {
				w, r = server, client
			}
			sizes := []int{0, 1, 125, 126, 4000, 4096, 65535, 65536, 70000, 1 << 20}
			go func() {
				for i, n := range sizes {
					if err := w.WriteFrame(frame.OpBinary, true, 0, pattern(n, byte(i))); err != nil {
						t.Error(err)
						return
					}
				}
			}()
			for i, n := range sizes {
				h, p, err := readFrame(r)
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if h.Masked != (role == Client) {
					t.Errorf("frame %d: masked = %v from a %v", i, h.Masked, role)
				}
				if !bytes.Equal(p, pattern(n, byte(i))) {
					t.Fatalf("frame %d (%d bytes): payload differs", i, n)
				}
			}
		})
	}
}

// TestClientDoesNotModifyPayload: masking happens on a copy.
func TestClientDoesNotModifyPayload(t *testing.T) {
	client, server := openPair(t, nil)
	for _, n := range []int{10, 100 << 10} {
		p := pattern(n, 1)
		orig := bytes.Clone(p)
		go client.WriteFrame(frame.OpBinary, true, 0, p)
		_, got, err := readFrame(server)
		if err != nil || !bytes.Equal(got, orig) {
			t.Fatalf("%d bytes: got %d bytes, %v", n, len(got), err)
		}
		if !bytes.Equal(p, orig) {
			t.Fatalf("%d bytes: WriteFrame modified the caller's payload", n)
		}
	}
}

// TestConcurrentWriters: frames from many goroutines never interleave and
// each writer's frames arrive in its order.
func TestConcurrentWriters(t *testing.T) {
	for _, role := range []Role{Client, Server} {
		t.Run(role.String(), func(t *testing.T) {
			client, server := openPair(t, nil)
			w, r := client, server
			if role == Server {
				w, r = server, client
			}
			const writers, frames = 8, 200
			var wg sync.WaitGroup
			for id := 0; id < writers; id++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for seq := 0; seq < frames; seq++ {
						msg := fmt.Sprintf("%d:%d:%s", id, seq, bytes.Repeat([]byte{'x'}, seq*37%3000))
						if err := w.WriteFrame(frame.OpText, true, 0, []byte(msg)); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			next := make([]int, writers)
			for i := 0; i < writers*frames; i++ {
				_, p, err := readFrame(r)
				if err != nil {
					t.Fatal(err)
				}
				var id, seq int
				var rest string
				if _, err := fmt.Sscanf(string(p), "%d:%d:%s", &id, &seq, &rest); err != nil && seq*37%3000 != 0 {
					t.Fatalf("garbled frame %q: %v", p[:min(len(p), 40)], err)
				}
				if seq != next[id] {
					t.Fatalf("writer %d: frame %d arrived, want %d", id, seq, next[id])
				}
				if len(rest) != seq*37%3000 {
					t.Fatalf("writer %d frame %d: %d bytes of padding, want %d", id, seq, len(rest), seq*37%3000)
				}
				next[id]++
			}
			wg.Wait()
			st := w.Stats()
			if st.FramesOut != writers*frames || st.MessagesOut != writers*frames {
				t.Errorf("stats: %+v", st)
			}
		})
	}
}

// TestReadDeadlineMidFrame: a read deadline that expires inside a header or
// a payload loses nothing; the next read continues.
func TestReadDeadlineMidFrame(t *testing.T) {
	a, b := testutil.LoopbackPair(t)
	server := New(b, Server, nil)
	server.Open(nil)
	payload := []byte("Hello, deadline")
	h := frame.Header{Fin: true, Opcode: frame.OpText, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Length: int64(len(payload))}
	wire := frame.AppendHeader(nil, h)
	start := len(wire)
	wire = append(wire, payload...)
	frame.Mask(h.Mask, 0, wire[start:])

	timeout := func(step string, err error) {
		t.Helper()
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("%s: want a timeout, got %v", step, err)
		}
		server.SetReadDeadline(time.Now().Add(5 * time.Second))
	}
	// Three bytes of the header, then a deadline.
	a.Write(wire[:3])
	server.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, err := server.NextFrame()
	timeout("inside the header", err)
	// The rest of the header and 5 payload bytes.
	a.Write(wire[3 : start+5])
	got, err := server.NextFrame()
	if err != nil || got.Length != int64(len(payload)) || !got.Fin || got.Opcode != frame.OpText {
		t.Fatalf("NextFrame after the deadline: %+v %v", got, err)
	}
	var buf [64]byte
	n, err := server.Read(buf[:])
	if err != nil || n != 5 {
		t.Fatalf("Read: %d %v, want the 5 bytes sent", n, err)
	}
	server.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, err = server.Read(buf[n:])
	timeout("inside the payload", err)
	a.Write(wire[start+5:])
	rest, err := server.ReadPayload(buf[:n])
	if err != nil || !bytes.Equal(rest, payload) {
		t.Fatalf("payload %q %v, want %q", rest, err, payload)
	}
}

// TestLimitBeforePayload: a frame declaring more than the limit fails with
// 1009 as soon as its header is read, without waiting for the payload.
func TestLimitBeforePayload(t *testing.T) {
	a, b := testutil.LoopbackPair(t)
	server := New(b, Server, &Config{MaxMessageSize: 1 << 20})
	server.Open(nil)
	hdr := frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpBinary, Masked: true, Length: 1 << 40})
	a.Write(hdr)
	server.SetReadDeadline(time.Now().Add(5 * time.Second))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := server.NextFrame()
	runtime.ReadMemStats(&after)
	var pe *frame.ProtocolError
	if !errors.As(err, &pe) || pe.Code != frame.StatusMessageTooBig {
		t.Fatalf("NextFrame: %v, want a 1009 protocol error", err)
	}
	// The error value and the pooled read buffer (4 KiB, allocated the
	// first time) are all NextFrame may allocate: nothing sized by the
	// declared length (1 TiB) or by the limit (1 MiB). TotalAlloc counts
	// the whole process, where the race detector and goroutines of other
	// tests allocate a few KiB meanwhile, so the bound is 64 KiB, far
	// below either size.
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
		t.Errorf("NextFrame allocated %d bytes for a huge declared length", n)
	}
}

func TestStatesAndCallbacks(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	var closeErr error
	closed := make(chan struct{})
	cfg := &Config{
		OnStateChange: func(c *Conn, from, to State) {
			mu.Lock()
			seen = append(seen, fmt.Sprintf("%v>%v", from, to))
			mu.Unlock()
		},
	}
	a, b := testutil.LoopbackPair(t)
	cfgClient := *cfg
	cfgClient.OnClose = func(c *Conn, err error) { closeErr = err; close(closed) }
	client := New(a, Client, &cfgClient)
	if s := client.State(); s != Connecting {
		t.Fatalf("after New: %v", s)
	}
	client.Open(nil)
	server := New(b, Server, nil)
	server.Open(nil)
	if err := client.WriteFrame(frame.OpClose, true, 0, frame.AppendClosePayload(nil, 1000, "")); err != nil {
		t.Fatal(err)
	}
	if s := client.State(); s != Closing {
		t.Fatalf("after sending close: %v", s)
	}
	if err := client.WriteFrame(frame.OpText, true, 0, []byte("late")); !errors.Is(err, ErrCloseSent) {
		t.Fatalf("data after close: %v, want ErrCloseSent", err)
	}
	h, _, err := readFrame(server)
	if err != nil || h.Opcode != frame.OpClose || server.State() != Closing {
		t.Fatalf("server: %v %v %v", h.Opcode, err, server.State())
	}
	client.Close()
	<-closed
	if closeErr != nil {
		t.Errorf("OnClose error %v for a clean close", closeErr)
	}
	mu.Lock()
	want := []string{"connecting>connected", "connected>closing", "closing>closed"}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("transitions %v, want %v", seen, want)
	}
	mu.Unlock()
	if _, err := server.NextFrame(); err != io.EOF {
		t.Errorf("server read after client close: %v, want EOF", err)
	}
}

func TestTransitions(t *testing.T) {
	allowed := map[[2]State]bool{
		{unstarted, Connecting}: true, {Connecting, Connected}: true, {Connected, Closing}: true,
		{unstarted, Closed}: true, {Connecting, Closed}: true, {Connected, Closed}: true, {Closing, Closed}: true,
	}
	for from := unstarted; from <= Closed; from++ {
		for to := unstarted; to <= Closed; to++ {
			if got := canTransition(from, to); got != allowed[[2]State{from, to}] {
				t.Errorf("canTransition(%v, %v) = %v", from, to, got)
			}
		}
	}
}

func TestAbortUnblocksReader(t *testing.T) {
	_, server := openPair(t, nil)
	errc := make(chan error, 1)
	go func() {
		_, err := server.NextFrame()
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond)
	server.Abort(errors.New("test abort"))
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("NextFrame returned nil after Abort")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("reader still blocked after Abort")
	}
	if server.State() != Closed || server.Err() == nil || server.Err().Error() != "test abort" {
		t.Fatalf("state %v, err %v", server.State(), server.Err())
	}
}

// TestZeroAllocs: reading and writing frames that fit the buffers does not
// allocate.
func TestZeroAllocs(t *testing.T) {
	client, server := openPair(t, nil)
	msg := pattern(1024, 3)
	buf := make([]byte, 0, 2048)
	for _, w := range []struct {
		name string
		w, r *Conn
	}{{"client to server", client, server}, {"server to client", server, client}} {
		// Warm the pools.
		w.w.WriteFrame(frame.OpBinary, true, 0, msg)
		readFrame(w.r)
		allocs := testing.AllocsPerRun(200, func() {
			if err := w.w.WriteFrame(frame.OpBinary, true, 0, msg); err != nil {
				t.Fatal(err)
			}
			if _, err := w.r.NextFrame(); err != nil {
				t.Fatal(err)
			}
			if _, err := w.r.ReadPayload(buf[:0]); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per frame, want 0", w.name, allocs)
		}
	}
}

// serveFrames reads frames until an error and hands each one, with its
// whole payload, to fn: a push-style loop over NextFrame and ReadPayload.
// payload is valid only during the call. It returns the read error that
// stopped it, or fn's error.
func serveFrames(c *Conn, fn func(h frame.Header, payload []byte) error) error {
	var buf []byte
	for {
		h, err := c.NextFrame()
		if err != nil {
			return err
		}
		if buf, err = c.ReadPayload(buf[:0]); err != nil {
			return err
		}
		if err := fn(h, buf); err != nil {
			return err
		}
	}
}

// TestServe: the push-style loop sees every frame with its payload and
// stops with the callback's error.
func TestServe(t *testing.T) {
	client, server := openPair(t, nil)
	go func() {
		client.WriteFrame(frame.OpText, false, 0, []byte("frag"))
		client.WriteFrame(frame.OpPing, true, 0, []byte("p"))
		client.WriteFrame(frame.OpContinuation, true, 0, []byte("ment"))
		client.WriteFrame(frame.OpBinary, true, 0, []byte("stop"))
	}()
	var got []string
	stop := errors.New("stop")
	err := serveFrames(server, func(h frame.Header, payload []byte) error {
		got = append(got, fmt.Sprintf("%v:%v:%s", h.Opcode, h.Fin, payload))
		if string(payload) == "stop" {
			return stop
		}
		return nil
	})
	want := "[text:false:frag ping:true:p continuation:true:ment binary:true:stop]"
	if err != stop || fmt.Sprint(got) != want {
		t.Fatalf("Serve: %v, frames %v, want %s", err, got, want)
	}
}

// lazyStream is a Transport whose ReadLazy, like the goroutine mode's
// socket streams, borrows the buffer only once bytes are there: it waits
// for them in a bufio.Reader of its own first.
type lazyStream struct {
	Transport
	br    *bufio.Reader
	lends int
}

func (s *lazyStream) Read(p []byte) (int, error) { return s.br.Read(p) }

func (s *lazyStream) ReadLazy(b bufferLender) (int, error) {
	if _, err := s.br.Peek(1); err != nil {
		return 0, err
	}
	s.lends++
	return s.br.Read(b.Lend())
}

// TestIdleHoldsNoReadBuffer: a connection over a Transport that can wait
// without a buffer, waiting for bytes with nothing partial buffered, gives
// its read buffer back to the pool, and keeps it while a frame is half
// read.
func TestIdleHoldsNoReadBuffer(t *testing.T) {
	a, b := testutil.LoopbackPair(t)
	ls := &lazyStream{Transport: newStream(b), br: bufio.NewReader(b)}
	server := NewTransport(ls, Server, nil)
	server.Open(nil)
	msg := frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpText, Masked: true, Length: 5})
	msg = append(msg, "hello"...)
	half := len(msg) - 2
	a.Write(msg[:half])
	server.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := server.NextFrame(); err != nil {
		t.Fatal(err)
	}
	server.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	p := make([]byte, 5)
	n, err := server.Read(p)
	if err != nil || n != 3 {
		t.Fatalf("Read = %d, %v; want the 3 bytes that arrived", n, err)
	}
	if _, err := server.Read(p[n:]); !isTimeout(err) {
		t.Fatalf("Read: %v, want a timeout", err)
	}
	a.Write(msg[half:])
	server.SetReadDeadline(time.Now().Add(5 * time.Second))
	m, err := server.Read(p[n:])
	if err != nil || string(p[:n+m]) != "hello" {
		t.Fatalf("payload %q, %v", p[:n+m], err)
	}
	server.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := server.NextFrame(); !isTimeout(err) {
		t.Fatalf("NextFrame: %v, want a timeout", err)
	}
	if server.rbuf != nil {
		t.Errorf("an idle connection holds a %d-byte read buffer", len(server.rbuf))
	}
	if ls.lends == 0 {
		t.Error("ReadLazy never borrowed the buffer")
	}
	// And it still reads what comes next.
	a.Write(msg)
	server.SetReadDeadline(time.Now().Add(5 * time.Second))
	h, err := server.NextFrame()
	if err != nil || h.Length != 5 {
		t.Fatalf("NextFrame after idling: %+v, %v", h, err)
	}
}

// TestInterrupt: Interrupt wakes WaitReadable with ErrInterrupted and puts
// the read deadline back; a read anywhere else absorbs it and goes on.
func TestInterrupt(t *testing.T) {
	a, b := testutil.LoopbackPair(t)
	server := New(b, Server, nil)
	server.Open(nil)
	server.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	go func() {
		time.Sleep(20 * time.Millisecond)
		server.Interrupt()
	}()
	if err := server.WaitReadable(); err != ErrInterrupted {
		t.Fatalf("WaitReadable: %v, want ErrInterrupted", err)
	}
	// The 300 ms deadline is back in force.
	start := time.Now()
	if err := server.WaitReadable(); !isTimeout(err) {
		t.Fatalf("WaitReadable: %v, want the deadline's timeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the deadline took %v to fire", d)
	}

	// A frame read in progress does not see an interrupt.
	server.SetReadDeadline(time.Time{})
	msg := frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpText, Masked: true, Length: 2})
	msg = append(msg, "hi"...)
	go func() {
		time.Sleep(20 * time.Millisecond)
		server.Interrupt()
		time.Sleep(20 * time.Millisecond)
		a.Write(msg)
	}()
	h, err := server.NextFrame()
	if err != nil || h.Length != 2 {
		t.Fatalf("NextFrame across an interrupt: %+v, %v", h, err)
	}
}

// TestPeekOpcode: the next frame's opcode is known from its first header
// byte, before and after a read that stopped inside the header, and
// nothing is consumed; during a frame's payload there is none.
func TestPeekOpcode(t *testing.T) {
	a, b := testutil.LoopbackPair(t)
	server := New(b, Server, nil)
	server.Open(nil)
	masked := func(op frame.Opcode, payload string) []byte {
		h := frame.Header{Fin: true, Opcode: op, Masked: true, Mask: [4]byte{9, 8, 7, 6}, Length: int64(len(payload))}
		wire := frame.AppendHeader(nil, h)
		start := len(wire)
		wire = append(wire, payload...)
		frame.Mask(h.Mask, 0, wire[start:])
		return wire
	}
	if op, ok := server.PeekOpcode(); ok {
		t.Fatalf("PeekOpcode() = %v, true with nothing received", op)
	}
	ping := masked(frame.OpPing, "are you there")
	a.Write(ping[:1])
	server.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := server.WaitReadable(); err != nil {
		t.Fatal(err)
	}
	if op, ok := server.PeekOpcode(); !ok || op != frame.OpPing {
		t.Fatalf("PeekOpcode() = %v, %v with a byte of a ping's header, want ping", op, ok)
	}
	if server.Buffered() != 1 {
		t.Fatalf("PeekOpcode consumed: %d bytes buffered, want 1", server.Buffered())
	}
	server.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := server.NextFrame(); !isTimeout(err) {
		t.Fatalf("NextFrame inside the header: %v, want a timeout", err)
	}
	if op, ok := server.PeekOpcode(); !ok || op != frame.OpPing {
		t.Fatalf("PeekOpcode() = %v, %v after a read stopped in the header, want ping", op, ok)
	}
	server.SetReadDeadline(time.Now().Add(5 * time.Second))
	text := masked(frame.OpText, "data, left whole")
	a.Write(append(ping[1:], text...))
	if h, p, err := readFrame(server); err != nil || h.Opcode != frame.OpPing || string(p) != "are you there" {
		t.Fatalf("the ping: %+v %q %v", h, p, err)
	}
	if err := server.WaitReadable(); err != nil {
		t.Fatal(err)
	}
	if op, ok := server.PeekOpcode(); !ok || op != frame.OpText {
		t.Fatalf("PeekOpcode() = %v, %v before the text frame, want text", op, ok)
	}
	h, err := server.NextFrame()
	if err != nil || h.Opcode != frame.OpText || h.Length != int64(len("data, left whole")) {
		t.Fatalf("the text frame after PeekOpcode: %+v %v", h, err)
	}
	var one [1]byte
	if _, err := server.Read(one[:]); err != nil {
		t.Fatal(err)
	}
	if op, ok := server.PeekOpcode(); ok {
		t.Fatalf("PeekOpcode() = %v, true inside a frame's payload", op)
	}
}
