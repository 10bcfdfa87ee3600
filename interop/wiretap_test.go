package interop

import (
	"bufio"
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/websocket/frame"
)

// A tap is a TCP relay on 127.0.0.1 that records the bytes going through it
// both ways, so that a test can read the wire the way neither side reports
// it: the handshake's headers, each frame's RSV1 bit and compressed size.
// Both sides keep their real sockets (our side's *net.TCPConn is never
// wrapped, so its raw-read path is the one under test); only the address
// the client dials changes.
type tap struct {
	l      net.Listener
	target string
	wg     sync.WaitGroup

	mu     sync.Mutex
	conns  []*tapConn
	closed bool
}

// A tapConn is one relayed connection and what crossed it.
type tapConn struct {
	client, server net.Conn
	up, down       capture // client to server, server to client
}

// maxCapture bounds what a tap keeps per direction and connection: the
// deflate scenario moves about 1.2 MB each way uncompressed.
const maxCapture = 8 << 20

// capture is one direction's bytes, in order.
type capture struct {
	mu        sync.Mutex
	buf       []byte
	truncated bool
}

func (c *capture) write(p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.buf)+len(p) > maxCapture {
		c.truncated = true
		return
	}
	c.buf = append(c.buf, p...)
}

// bytes returns a copy of what was captured so far.
func (c *capture) bytes() ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.buf), c.truncated
}

// startTap relays connections to target until the test ends.
func startTap(t *testing.T, target string) *tap {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tp := &tap{l: l, target: target}
	tp.wg.Add(1)
	go tp.serve()
	t.Cleanup(tp.close)
	return tp
}

func (tp *tap) addr() string { return tp.l.Addr().String() }

func (tp *tap) serve() {
	defer tp.wg.Done()
	for {
		client, err := tp.l.Accept()
		if err != nil {
			return
		}
		server, err := net.DialTimeout("tcp", tp.target, 5*time.Second)
		if err != nil {
			client.Close()
			continue
		}
		tc := &tapConn{client: client, server: server}
		tp.mu.Lock()
		if tp.closed {
			tp.mu.Unlock()
			client.Close()
			server.Close()
			return
		}
		tp.conns = append(tp.conns, tc)
		tp.wg.Add(2)
		tp.mu.Unlock()
		go tp.pipe(server, client, &tc.up)
		go tp.pipe(client, server, &tc.down)
	}
}

// pipe copies src to dst, recording, and passes src's end of stream on as
// a half close, so that each side sees the other's FIN as it was sent.
func (tp *tap) pipe(dst, src net.Conn, rec *capture) {
	defer tp.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			rec.write(buf[:n])
			if _, werr := dst.Write(buf[:n]); werr != nil {
				src.Close() // the other way can stop too: its reader is gone
				return
			}
		}
		if err != nil {
			break
		}
	}
	if tc, ok := dst.(*net.TCPConn); ok {
		tc.CloseWrite()
	} else {
		dst.Close()
	}
}

// close stops the relay and every connection, and waits for its goroutines.
func (tp *tap) close() {
	tp.l.Close()
	tp.mu.Lock()
	tp.closed = true
	for _, tc := range tp.conns {
		tc.client.Close()
		tc.server.Close()
	}
	tp.mu.Unlock()
	tp.wg.Wait()
}

// wsConn returns the first relayed connection that opened a WebSocket (a
// browser also fetches its page and modules through the tap).
func (tp *tap) wsConn() *tapConn {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	for _, tc := range tp.conns {
		up, _ := tc.up.bytes()
		head, _, ok := bytes.Cut(up, []byte("\r\n\r\n"))
		if ok && bytes.Contains(bytes.ToLower(head), []byte("\r\nupgrade: websocket")) {
			return tc
		}
	}
	return nil
}

// A wire is one WebSocket connection as the tap saw it.
type wire struct {
	offer, answer string // Sec-WebSocket-Extensions of the request and of the 101
	up, down      []wireMessage
}

// wireMessage is one data message as it crossed the wire.
type wireMessage struct {
	op      frame.Opcode
	rsv1    bool   // compressed: RSV1 on its first frame
	frames  int    // how many frames carried it
	payload []byte // its frames' payloads, unmasked and joined
}

// read parses tc's two directions: the opening handshake, then the frames.
func (tc *tapConn) read() (*wire, error) {
	up, upTrunc := tc.up.bytes()
	down, downTrunc := tc.down.bytes()
	if upTrunc || downTrunc {
		return nil, fmt.Errorf("more than %d bytes went one way; the capture is incomplete", maxCapture)
	}
	w := &wire{}
	// The frames start where the HTTP head ends: what neither the
	// bufio.Reader nor the bytes.Reader under it has handed out.
	rd := bytes.NewReader(up)
	br := bufio.NewReader(rd)
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, fmt.Errorf("client's handshake: %w", err)
	}
	w.offer = strings.Join(req.Header.Values("Sec-WebSocket-Extensions"), ", ")
	upFrames := up[len(up)-br.Buffered()-rd.Len():]
	rd = bytes.NewReader(down)
	br = bufio.NewReader(rd)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return nil, fmt.Errorf("server's handshake: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return nil, fmt.Errorf("server answered %s", resp.Status)
	}
	w.answer = strings.Join(resp.Header.Values("Sec-WebSocket-Extensions"), ", ")
	downFrames := down[len(down)-br.Buffered()-rd.Len():]
	if w.up, err = parseFrames(upFrames); err != nil {
		return nil, fmt.Errorf("client to server: %w", err)
	}
	if w.down, err = parseFrames(downFrames); err != nil {
		return nil, fmt.Errorf("server to client: %w", err)
	}
	return w, nil
}

// parseFrames splits a stream of frames into data messages, unmasking
// payloads; control frames are left out, and so is a message still open
// when the stream ends (the tap may stop in the middle of one).
func parseFrames(b []byte) ([]wireMessage, error) {
	var msgs []wireMessage
	var cur *wireMessage
	for off := 0; off < len(b); {
		h, n, err := frame.ParseHeader(b[off:])
		if err != nil {
			return msgs, fmt.Errorf("frame at byte %d: %w", off, err)
		}
		if n == 0 || int64(len(b)-off-n) < h.Length {
			break // cut short
		}
		off += n
		payload := b[off : off+int(h.Length)]
		off += int(h.Length)
		if h.Masked {
			payload = bytes.Clone(payload)
			frame.Mask(h.Mask, 0, payload)
		}
		switch {
		case h.Opcode.IsControl():
			continue
		case h.Opcode == frame.OpContinuation:
			if cur == nil {
				return msgs, fmt.Errorf("continuation frame outside a message at byte %d", off)
			}
		default:
			if cur != nil {
				return msgs, fmt.Errorf("new message inside a fragmented one at byte %d", off)
			}
			cur = &wireMessage{op: h.Opcode, rsv1: h.Rsv&frame.Rsv1 != 0}
		}
		cur.frames++
		cur.payload = append(cur.payload, payload...)
		if h.Fin {
			msgs = append(msgs, *cur)
			cur = nil
		}
	}
	return msgs, nil
}

// inflateWire decompresses one direction's messages with compress/flate,
// independently of both endpoints: each compressed message's payload with
// the 00 00 ff ff tail that RFC 7692 §7.2.1 has the sender remove put back,
// and, when the sender keeps its context, the output of its earlier
// compressed messages as the dictionary. Uncompressed messages come back as
// they were; they are no part of the compression context (§6.1).
func inflateWire(msgs []wireMessage, takeover bool) ([][]byte, error) {
	const window = 32 << 10
	var history []byte
	out := make([][]byte, len(msgs))
	for i, m := range msgs {
		if !m.rsv1 {
			out[i] = m.payload
			continue
		}
		var dict []byte
		if takeover {
			dict = history[max(0, len(history)-window):]
		}
		data, err := io.ReadAll(flate.NewReaderDict(bytes.NewReader(withTail(m.payload)), dict))
		if err != nil {
			return out, fmt.Errorf("message %d: %w (first compressed bytes: % x)", i+1, err, head(m.payload, 32))
		}
		out[i] = data
		if takeover {
			history = append(history, data...)
			if len(history) > 2*window {
				history = append(history[:0], history[len(history)-window:]...)
			}
		}
	}
	return out, nil
}

// withTail returns a compressed message's payload as a whole DEFLATE
// stream: the 00 00 ff ff tail ends the message's last (non-final) block,
// and a final empty stored block ends the stream, so that readers report
// io.EOF rather than running out of input.
func withTail(payload []byte) []byte {
	return append(bytes.Clone(payload), 0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff)
}

func head(b []byte, n int) []byte { return b[:min(len(b), n)] }
