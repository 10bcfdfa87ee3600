package websocket_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"

	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/testutil"
)

// netConnPair connects a Dial client to an Accept server and returns the
// client's end as a NetConn of type typ, the client's Conn under it and
// the server's Conn, which nothing reads unless the test does.
func netConnPair(t *testing.T, typ websocket.MessageType) (nc net.Conn, client, server *websocket.Conn) {
	t.Helper()
	return netConnPairWith(t, typ, nil, nil)
}

// netConnPairWith is netConnPair with options for both ends.
func netConnPairWith(t *testing.T, typ websocket.MessageType, aopts *websocket.AcceptOptions, dopts *websocket.DialOptions) (nc net.Conn, client, server *websocket.Conn) {
	t.Helper()
	conns := make(chan *websocket.Conn, 1)
	srv, _ := acceptServer(t, aopts, func(c *websocket.Conn, _ *http.Request) {
		conns <- c
		<-c.Done()
	})
	client, err := websocket.Dial(testCtx(t), wsURL(srv, "/"), dopts)
	if err != nil {
		t.Fatal(err)
	}
	server = <-conns
	nc = websocket.NetConn(client, typ)
	t.Cleanup(func() {
		server.CloseNow()
		nc.Close()
	})
	return nc, client, server
}

// netConnEcho returns a NetConn to a server that echoes every message.
func netConnEcho(tb testing.TB) net.Conn {
	tb.Helper()
	var handlers sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Done()
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := context.Background()
		var buf []byte
		for {
			typ, data, err := c.AppendMessage(ctx, buf[:0])
			if err != nil {
				return
			}
			buf = data
			if err := c.WriteMessage(ctx, typ, data); err != nil {
				return
			}
		}
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/", nil)
	if err != nil {
		srv.Close()
		tb.Fatal(err)
	}
	nc := websocket.NetConn(c, websocket.BinaryMessage)
	tb.Cleanup(func() {
		nc.Close()
		srv.Close()
		handlers.Wait()
	})
	return nc
}

// checkTimeout fails the test unless err is what a net.Conn returns when
// a deadline has passed.
func checkTimeout(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("err = %v, want os.ErrDeadlineExceeded", err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err = %v (%T), want a net.Error whose Timeout is true", err, err)
	}
}

// readResult is what a Read in another goroutine returned.
type readResult struct {
	data string
	err  error
}

func readAsync(nc net.Conn) <-chan readResult {
	done := make(chan readResult, 1)
	go func() {
		buf := make([]byte, 64)
		n, err := nc.Read(buf)
		done <- readResult{string(buf[:n]), err}
	}()
	return done
}

func waitRead(t *testing.T, done <-chan readResult) readResult {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("Read still blocked after 10s")
		return readResult{}
	}
}

// tunnel starts a TCP backend that runs serve on each connection, and a
// WebSocket server that tunnels each of its connections to the backend
// through a NetConn, as a user's would: io.Copy both ways. It returns a
// client's NetConn to it.
func tunnel(t *testing.T, serve func(net.Conn)) net.Conn {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var backends sync.WaitGroup
	backends.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			backends.Go(func() {
				defer c.Close()
				serve(c)
			})
		}
	})
	t.Cleanup(func() {
		l.Close()
		waitGroupTimeout(t, &backends, 5*time.Second)
	})
	srv, _ := acceptServer(t, nil, func(c *websocket.Conn, _ *http.Request) {
		ws := websocket.NetConn(c, websocket.BinaryMessage)
		defer ws.Close()
		tcp, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Error(err)
			return
		}
		defer tcp.Close()
		up := make(chan struct{})
		go func() {
			defer close(up)
			io.Copy(tcp, ws)
			tcp.(*net.TCPConn).CloseWrite() // the client has finished: EOF to the backend
		}()
		io.Copy(ws, tcp)
		ws.Close() // the backend has finished: 1000, EOF to the client
		<-up
	})
	c, err := websocket.Dial(testCtx(t), wsURL(srv, "/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	nc := websocket.NetConn(c, websocket.BinaryMessage)
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	return nc
}

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed)}).Read(b)
	return b
}

// writeChunks writes data in chunks of random sizes up to 64 KiB, each a
// message, and reports the first error.
func writeChunks(w io.Writer, data []byte, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 1))
	for len(data) > 0 {
		n := min(len(data), 1+rng.IntN(64<<10))
		if _, err := w.Write(data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// TestNetConnTunnel sends data through a tunnel of two NetConns and a TCP
// backend with io.Copy in every direction: echoed, downloaded to the
// backend's EOF, uploaded to the client's Close.
func TestNetConnTunnel(t *testing.T) {
	const size = 4 << 20
	t.Run("echo", func(t *testing.T) {
		nc := tunnel(t, func(c net.Conn) { io.Copy(c, c) })
		data := randomBytes(size, 1)
		written := make(chan error, 1)
		go func() { written <- writeChunks(nc, data, 1) }()
		got := make([]byte, size)
		if _, err := io.ReadFull(nc, got); err != nil {
			t.Fatal(err)
		}
		if err := <-written; err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Fatal("the data came back changed")
		}
	})
	t.Run("download", func(t *testing.T) {
		data := randomBytes(size, 2)
		nc := tunnel(t, func(c net.Conn) { writeChunks(c, data, 2) })
		got, err := io.ReadAll(nc) // to io.EOF: the server's 1000
		if err != nil {
			t.Fatalf("ReadAll after %d bytes: %v", len(got), err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("got %d bytes, not the %d sent", len(got), len(data))
		}
	})
	t.Run("upload", func(t *testing.T) {
		data := randomBytes(size, 3)
		received := make(chan []byte, 1)
		nc := tunnel(t, func(c net.Conn) {
			b, _ := io.ReadAll(c) // to the EOF the client's Close becomes
			received <- b
		})
		if _, err := io.Copy(nc, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		if err := nc.Close(); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-received:
			if !bytes.Equal(got, data) {
				t.Fatalf("the backend got %d bytes, not the %d sent", len(got), len(data))
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the backend saw no EOF")
		}
	})
}

// TestNetConnReadDeadline: a Read whose deadline passes times out, later
// Reads too until the deadline moves, and then reading goes on.
func TestNetConnReadDeadline(t *testing.T) {
	nc, client, server := netConnPair(t, websocket.BinaryMessage)
	ctx := testCtx(t)
	buf := make([]byte, 64)
	nc.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, err := nc.Read(buf)
	checkTimeout(t, err)
	_, err = nc.Read(buf)
	checkTimeout(t, err)

	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := server.WriteMessage(ctx, websocket.BinaryMessage, []byte("extended")); err != nil {
		t.Fatal(err)
	}
	if n, err := nc.Read(buf); err != nil || string(buf[:n]) != "extended" {
		t.Fatalf("Read after the deadline was extended = %q, %v", buf[:n], err)
	}

	// Once more, with a deadline in the past and then none at all.
	nc.SetReadDeadline(time.Now().Add(-time.Second))
	_, err = nc.Read(buf)
	checkTimeout(t, err)
	nc.SetReadDeadline(time.Time{})
	if err := server.WriteMessage(ctx, websocket.BinaryMessage, []byte("cleared")); err != nil {
		t.Fatal(err)
	}
	if n, err := nc.Read(buf); err != nil || string(buf[:n]) != "cleared" {
		t.Fatalf("Read after the deadline was cleared = %q, %v", buf[:n], err)
	}
	if err := client.Err(); err != nil {
		t.Fatalf("the connection ended: %v", err)
	}
}

// timeOutMidMessage lets short read deadlines pass on nc until c has read
// the first frame of a message, then once more in the middle of it: each
// Read must time out, and none may lose a byte of the message.
func timeOutMidMessage(t *testing.T, nc net.Conn, c *websocket.Conn) {
	t.Helper()
	buf := make([]byte, 4)
	for i := 0; ; i++ {
		if i == 500 {
			t.Fatal("the first frame was not read")
		}
		in := c.Stats().FramesIn > 0
		nc.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		_, err := nc.Read(buf)
		checkTimeout(t, err)
		if in {
			return // this Read timed out in the middle of the message
		}
	}
}

// TestNetConnReadDeadlineMidMessage: a deadline that passes after the
// first frame of a message has been read loses none of it.
func TestNetConnReadDeadlineMidMessage(t *testing.T) {
	proceed := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(proceed) }) }
	s := newRawServer(t, func(p *rawPeer) {
		p.send(false, 0, frame.OpBinary, []byte("first half, "))
		<-proceed
		p.send(false, 0, frame.OpContinuation, []byte("second half"))
		p.send(true, 0, frame.OpContinuation, nil)
		p.send(true, 0, frame.OpBinary, []byte("; the next message"))
		p.send(true, 0, frame.OpClose, frame.AppendClosePayload(nil, websocket.StatusNormalClosure, ""))
		p.expectFrameClose(websocket.StatusNormalClosure)
	})
	t.Cleanup(release) // before the server's own cleanup, which waits for the script
	c, err := websocket.Dial(testCtx(t), "ws://"+s.addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	nc := websocket.NetConn(c, websocket.BinaryMessage)
	defer nc.Close()

	timeOutMidMessage(t, nc, c)

	release()
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(iotest.OneByteReader(nc))
	if want := "first half, second half; the next message"; err != nil || string(got) != want {
		t.Fatalf("read %q, %v; want %q and io.EOF", got, err, want)
	}
}

// TestNetConnReadDeadlineMidCompressedMessage: the same in the middle of
// a compressed message, whose input the Conn keeps compressed meanwhile.
func TestNetConnReadDeadlineMidCompressedMessage(t *testing.T) {
	opts := websocket.Options{Compression: &websocket.CompressionOptions{}, FragmentSize: 4096}
	nc, client, server := netConnPairWith(t, websocket.BinaryMessage,
		&websocket.AcceptOptions{Options: opts}, &websocket.DialOptions{Options: opts})
	if !client.Compressed() {
		t.Fatal("compression was not agreed")
	}
	want := randomBytes(64<<10, 4) // incompressible: every fragment has output
	w, err := server.NextWriter(testCtx(t), websocket.BinaryMessage)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Write(want[:32<<10]); err != nil {
		t.Fatal(err)
	}
	timeOutMidMessage(t, nc, client)

	if _, err := w.Write(want[32<<10:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := make([]byte, len(want))
	if _, err := io.ReadFull(nc, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the message came through changed")
	}
}

// TestNetConnDeadlineMovedWhileBlocked: moving the read deadline applies to
// a Read already blocked: earlier wakes it, later or none keeps it waiting.
func TestNetConnDeadlineMovedWhileBlocked(t *testing.T) {
	t.Run("earlier", func(t *testing.T) {
		nc, client, _ := netConnPair(t, websocket.BinaryMessage)
		done := readAsync(nc) // no deadline yet
		time.Sleep(20 * time.Millisecond)
		nc.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		checkTimeout(t, waitRead(t, done).err)
		if err := client.Err(); err != nil {
			t.Fatalf("the connection ended: %v", err)
		}
	})
	for _, later := range []time.Time{time.Now().Add(time.Hour), {}} {
		name := "later"
		if later.IsZero() {
			name = "cleared"
		}
		t.Run(name, func(t *testing.T) {
			nc, _, server := netConnPair(t, websocket.BinaryMessage)
			first := time.Now().Add(300 * time.Millisecond)
			nc.SetReadDeadline(first)
			done := readAsync(nc)
			time.Sleep(20 * time.Millisecond)
			nc.SetReadDeadline(later)
			select {
			case r := <-done:
				t.Fatalf("Read returned %q, %v; the deadline had moved later", r.data, r.err)
			case <-time.After(time.Until(first) + 300*time.Millisecond):
			}
			if err := server.WriteMessage(testCtx(t), websocket.BinaryMessage, []byte("late")); err != nil {
				t.Fatal(err)
			}
			if r := waitRead(t, done); r.err != nil || r.data != "late" {
				t.Fatalf("Read = %q, %v; want \"late\"", r.data, r.err)
			}
		})
	}
}

// TestNetConnWriteDeadline: a Write whose deadline has passed sends nothing
// and leaves the connection; against a peer that does not read, a Write
// blocks until its deadline, which fails the connection.
func TestNetConnWriteDeadline(t *testing.T) {
	nc, client, server := netConnPair(t, websocket.BinaryMessage)
	nc.SetWriteDeadline(time.Now().Add(-time.Second))
	_, err := nc.Write([]byte("never sent"))
	checkTimeout(t, err)
	nc.SetWriteDeadline(time.Time{})
	if _, err := nc.Write([]byte("sent")); err != nil {
		t.Fatal(err)
	}
	if _, data, err := server.ReadMessage(testCtx(t)); err != nil || string(data) != "sent" {
		t.Fatalf("the server read %q, %v; want \"sent\"", data, err)
	}

	// The server reads no more. Messages larger than the socket's
	// buffers make it all but certain that the deadline passes during a
	// Write, not between two.
	nc.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
	chunk := make([]byte, 16<<20)
	err = nil
	for i := 0; err == nil; i++ {
		if i == 64 {
			t.Fatal("1 GiB written to a peer that does not read")
		}
		_, err = nc.Write(chunk)
	}
	checkTimeout(t, err)
	_, err = nc.Write(chunk)
	checkTimeout(t, err)
	select {
	case <-client.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a Write timed out during its message, and the connection is still open")
	}
	var ce *websocket.CloseError
	if !errors.As(client.Err(), &ce) || ce.Code != websocket.StatusAbnormalClosure {
		t.Fatalf("Err = %v, want a CloseError with 1006", client.Err())
	}
}

// TestNetConnPeerClose: the peer's close with 1000 or 1001 is io.EOF, after
// the data sent before it; another code is the *CloseError. Either stays.
func TestNetConnPeerClose(t *testing.T) {
	for _, code := range []websocket.StatusCode{
		websocket.StatusNormalClosure, websocket.StatusGoingAway, websocket.StatusInternalError,
	} {
		t.Run(code.String(), func(t *testing.T) {
			nc, _, server := netConnPair(t, websocket.BinaryMessage)
			nc.SetDeadline(time.Now().Add(10 * time.Second))
			if err := server.WriteMessage(testCtx(t), websocket.BinaryMessage, []byte("last words")); err != nil {
				t.Fatal(err)
			}
			closed := make(chan error, 1)
			go func() { closed <- server.Close(code, "bye") }()
			got, err := io.ReadAll(nc)
			if string(got) != "last words" {
				t.Fatalf("read %q before the end, want \"last words\"", got)
			}
			check := func(err error) {
				t.Helper()
				var ce *websocket.CloseError
				switch {
				case code != websocket.StatusInternalError:
					if err != nil { // ReadAll's nil is Read's io.EOF
						t.Fatalf("err = %v, want io.EOF", err)
					}
				case !errors.As(err, &ce) || ce.Code != code || ce.Reason != "bye":
					t.Fatalf("err = %v, want the CloseError with %v, \"bye\"", err, code)
				}
			}
			check(err)
			_, err = nc.Read(make([]byte, 1))
			if err == io.EOF {
				err = nil
			}
			check(err)
			if err := <-closed; err != nil {
				t.Fatalf("the server's Close: %v", err)
			}
		})
	}
}

// TestNetConnClose: Close runs the close handshake with 1000, wakes a
// blocked Read, and every later call returns net.ErrClosed.
func TestNetConnClose(t *testing.T) {
	nc, _, server := netConnPair(t, websocket.BinaryMessage)
	serverRead := make(chan error, 1)
	go func() {
		_, _, err := server.ReadMessage(context.Background())
		serverRead <- err
	}()
	done := readAsync(nc)
	time.Sleep(20 * time.Millisecond)
	if err := nc.Close(); err != nil {
		t.Fatal(err)
	}
	if r := waitRead(t, done); !errors.Is(r.err, net.ErrClosed) {
		t.Fatalf("blocked Read = %v, want net.ErrClosed", r.err)
	}
	var ce *websocket.CloseError
	if err := <-serverRead; !errors.As(err, &ce) || ce.Code != websocket.StatusNormalClosure {
		t.Fatalf("the server read %v, want a CloseError with 1000", err)
	}
	if _, err := nc.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Read after Close = %v", err)
	}
	if _, err := nc.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after Close = %v", err)
	}
	if err := nc.SetDeadline(time.Now()); !errors.Is(err, net.ErrClosed) {
		t.Errorf("SetDeadline after Close = %v", err)
	}
	if err := nc.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close = %v", err)
	}
}

// TestNetConnCloseEndsBlockedWrite: Close does not wait behind a Write that
// a peer that does not read holds up.
func TestNetConnCloseEndsBlockedWrite(t *testing.T) {
	nc, client, _ := netConnPair(t, websocket.BinaryMessage)
	wrote := make(chan error, 1)
	go func() {
		chunk := make([]byte, 16<<20) // larger than the socket's buffers: the Write blocks
		for i := 0; i < 64; i++ {
			if _, err := nc.Write(chunk); err != nil {
				wrote <- err
				return
			}
		}
		wrote <- errors.New("1 GiB written to a peer that does not read")
	}()
	waitFor(t, func() bool { return client.Stats().BytesOut > 1<<20 })
	time.Sleep(50 * time.Millisecond) // the socket's buffers fill; the Write blocks
	closed := make(chan error, 1)
	go func() { closed <- nc.Close() }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited behind a blocked Write")
	}
	select {
	case err := <-wrote:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Write = %v, want net.ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the Write still blocked after Close")
	}
}

// TestNetConnWrongType: a text message on a binary stream ends the stream
// with ErrMessageType and closes the connection with 1003.
func TestNetConnWrongType(t *testing.T) {
	nc, _, server := netConnPair(t, websocket.BinaryMessage)
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	ctx := testCtx(t)
	serverRead := make(chan error, 1)
	if err := server.WriteMessage(ctx, websocket.BinaryMessage, []byte("bytes")); err != nil {
		t.Fatal(err)
	}
	if err := server.WriteMessage(ctx, websocket.TextMessage, []byte("text")); err != nil {
		t.Fatal(err)
	}
	go func() {
		_, _, err := server.ReadMessage(ctx)
		serverRead <- err
	}()
	buf := make([]byte, 64)
	if n, err := nc.Read(buf); err != nil || string(buf[:n]) != "bytes" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
	for range 2 {
		if _, err := nc.Read(buf); !errors.Is(err, websocket.ErrMessageType) {
			t.Fatalf("Read = %v, want ErrMessageType", err)
		}
	}
	var ce *websocket.CloseError
	if err := <-serverRead; !errors.As(err, &ce) || ce.Code != websocket.StatusUnsupportedData {
		t.Fatalf("the server read %v, want a CloseError with 1003", err)
	}
}

// TestNetConnConcurrent reads while two goroutines write and a third
// moves the deadlines: whole messages, none interleaved, none lost.
func TestNetConnConcurrent(t *testing.T) {
	nc := netConnEcho(t)
	const writers, blocks, size = 2, 300, 1000
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			block := bytes.Repeat([]byte{'a' + byte(w)}, size)
			for range blocks {
				if _, err := nc.Write(block); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	stop := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				nc.SetDeadline(time.Now().Add(30 * time.Second))
			}
		}
	})
	counts := make(map[byte]int)
	buf := make([]byte, size)
	for range writers * blocks {
		if _, err := io.ReadFull(nc, buf); err != nil {
			t.Fatal(err)
		}
		if bytes.Count(buf, buf[:1]) != size {
			t.Fatalf("a block mixes two writers' bytes: %q...", buf[:32])
		}
		counts[buf[0]]++
	}
	close(stop)
	wg.Wait()
	for w := range writers {
		if n := counts['a'+byte(w)]; n != blocks {
			t.Errorf("writer %d: %d blocks came back, want %d", w, n, blocks)
		}
	}
}

// TestNetConnNoLeaks: deadlines set, expired and moved, then Close, leave
// no goroutine behind.
func TestNetConnNoLeaks(t *testing.T) {
	defer testutil.CheckGoroutines(t)()
	t.Run("", func(t *testing.T) {
		nc, _, server := netConnPair(t, websocket.BinaryMessage)
		nc.SetDeadline(time.Now().Add(time.Hour))
		nc.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		_, err := nc.Read(make([]byte, 8))
		checkTimeout(t, err)
		nc.SetReadDeadline(time.Now().Add(time.Hour))
		if _, err := nc.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := server.WriteMessage(testCtx(t), websocket.BinaryMessage, []byte("y")); err != nil {
			t.Fatal(err)
		}
		if r := waitRead(t, readAsync(nc)); r.err != nil || r.data != "y" {
			t.Fatalf("Read = %q, %v", r.data, r.err)
		}
	})
}

// TestNetConnEmptyMessages: empty messages add nothing to the stream, and
// an empty Write sends none.
func TestNetConnEmptyMessages(t *testing.T) {
	nc, _, server := netConnPair(t, websocket.BinaryMessage)
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	ctx := testCtx(t)
	for _, m := range []string{"", "", "x"} {
		if err := server.WriteMessage(ctx, websocket.BinaryMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 8)
	if n, err := nc.Read(buf); err != nil || string(buf[:n]) != "x" {
		t.Fatalf("Read = %q, %v; want \"x\"", buf[:n], err)
	}
	if n, err := nc.Write(nil); n != 0 || err != nil {
		t.Fatalf("Write(nil) = %d, %v", n, err)
	}
	if _, err := nc.Write([]byte("y")); err != nil {
		t.Fatal(err)
	}
	if _, data, err := server.ReadMessage(ctx); err != nil || string(data) != "y" {
		t.Fatalf("the server read %q, %v; want \"y\" first", data, err)
	}
}

func TestNetConnAddrs(t *testing.T) {
	nc, client, _ := netConnPair(t, websocket.BinaryMessage)
	if nc.LocalAddr().String() != client.LocalAddr().String() || nc.RemoteAddr().String() != client.RemoteAddr().String() {
		t.Fatalf("addresses %v -> %v, want the Conn's %v -> %v", nc.LocalAddr(), nc.RemoteAddr(), client.LocalAddr(), client.RemoteAddr())
	}
}

func BenchmarkNetConnRoundTrip(b *testing.B) {
	for _, size := range []int{64, 16 << 10} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			nc := netConnEcho(b)
			msg := make([]byte, size)
			buf := make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := nc.Write(msg); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(nc, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestNetConnLargeWrite writes far more than the peer's message limit in
// one Write: it must arrive whole, in messages of at most 32 KiB, and for
// text each message must be valid UTF-8 on its own (the peer checks it and
// would close with 1007).
func TestNetConnLargeWrite(t *testing.T) {
	for _, typ := range []websocket.MessageType{websocket.BinaryMessage, websocket.TextMessage} {
		t.Run(typ.String(), func(t *testing.T) {
			aopts := &websocket.AcceptOptions{}
			aopts.MaxMessageSize = 64 << 10 // far below the Write
			nc, _, server := netConnPairWith(t, typ, aopts, nil)
			nc.SetDeadline(time.Now().Add(20 * time.Second))
			// 2-byte and 3-byte characters, so that 32 KiB cuts inside
			// one.
			data := []byte(strings.Repeat("é€x", 200<<10/6))
			if typ == websocket.BinaryMessage {
				data = randomBytes(2<<20+5, 7)
			}
			written := make(chan error, 1)
			go func() {
				n, err := nc.Write(data)
				if err == nil && n != len(data) {
					err = fmt.Errorf("Write = %d, want %d", n, len(data))
				}
				written <- err
			}()
			ctx := testCtx(t)
			var got []byte
			for len(got) < len(data) {
				mt, m, err := server.ReadMessage(ctx)
				if err != nil {
					t.Fatalf("after %d bytes: %v", len(got), err)
				}
				if mt != typ || len(m) > 32<<10 || len(m) == 0 {
					t.Fatalf("a message of type %v and %d bytes", mt, len(m))
				}
				if typ == websocket.TextMessage && !utf8.Valid(m) {
					t.Fatal("a text message cut inside a character")
				}
				got = append(got, m...)
			}
			if err := <-written; err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Fatal("the data arrived changed")
			}
		})
	}
}
