//go:build linux

package main

// The load side speaks raw bytes: its own handshake and framing, so that
// it can stop, lie and misbehave anywhere a hostile peer can, and so that
// a bug in the library's codec cannot hide by being on both sides.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Frame bits and opcodes (RFC 6455 §5.2).
const (
	finBit  = 0x80
	rsv1Bit = 0x40
	rsv2Bit = 0x20

	opCont   = 0x0
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPing   = 0x9
	opPong   = 0xA
)

// The handshake key and its answer are RFC 6455's own example (§1.3).
const (
	wsKey    = "dGhlIHNhbXBsZSBub25jZQ=="
	wsAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
)

// maskKey masks every frame the load sends: one key, so that a payload
// is masked once and written to any number of connections.
var maskKey = [4]byte{0x5a, 0x13, 0xc7, 0x81}

// dialer opens connections to the server from a spread of loopback
// addresses (127.0.0.1, .2, ...), so that many connections never run one
// source address out of ports.
type dialer struct {
	target string
	addrs  []netip.Addr
	next   atomic.Uint32
}

func newDialer(target string, spread int) *dialer {
	d := &dialer{target: target}
	a := netip.MustParseAddr("127.0.0.1")
	for range max(spread, 1) {
		d.addrs = append(d.addrs, a)
		a = a.Next()
	}
	return d
}

// dial opens a TCP connection within timeout.
func (d *dialer) dial(ctx context.Context, timeout time.Duration) (*net.TCPConn, error) {
	src := d.addrs[int(d.next.Add(1))%len(d.addrs)]
	nd := net.Dialer{Timeout: timeout, LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(src, 0))}
	c, err := nd.DialContext(ctx, "tcp", d.target)
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

// requestHead is a client's opening handshake (§4.1).
func requestHead(host string, deflate bool) []byte {
	var b bytes.Buffer
	b.WriteString("GET /soak HTTP/1.1\r\nHost: " + host + "\r\n")
	b.WriteString("Upgrade: websocket\r\nConnection: Upgrade\r\n")
	b.WriteString("Sec-WebSocket-Key: " + wsKey + "\r\nSec-WebSocket-Version: 13\r\n")
	if deflate {
		b.WriteString("Sec-WebSocket-Extensions: permessage-deflate\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// wsConn is an open WebSocket connection on the load side.
type wsConn struct {
	c   *net.TCPConn
	br  *bufio.Reader
	buf []byte // the last frame's payload
}

// statusError is a handshake answered with a status other than 101.
type statusError struct{ code int }

func (e *statusError) Error() string { return fmt.Sprintf("handshake answered %d", e.code) }

// open dials and completes the opening handshake within timeout.
func (d *dialer) open(ctx context.Context, deflate bool, timeout time.Duration) (*wsConn, error) {
	c, err := d.dial(ctx, timeout)
	if err != nil {
		return nil, err
	}
	w, err := handshake(c, d.target, deflate, timeout)
	if err != nil {
		c.Close()
		return nil, err
	}
	return w, nil
}

// handshake sends the opening handshake on c and checks the answer.
func handshake(c *net.TCPConn, host string, deflate bool, timeout time.Duration) (*wsConn, error) {
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write(requestHead(host, deflate)); err != nil {
		return nil, err
	}
	w := &wsConn{c: c, br: newReader(c)}
	status, err := w.readStatus()
	if err != nil {
		return nil, err
	}
	var accept, ext string
	for {
		line, err := w.readLine()
		if err != nil {
			return nil, err
		}
		if line == "" {
			break
		}
		name, val, _ := strings.Cut(line, ":")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "sec-websocket-accept":
			accept = strings.TrimSpace(val)
		case "sec-websocket-extensions":
			ext = strings.TrimSpace(val)
		}
	}
	if status != 101 {
		return nil, &statusError{status}
	}
	if accept != wsAccept {
		return nil, fmt.Errorf("handshake: Sec-WebSocket-Accept %q, want %q", accept, wsAccept)
	}
	if deflate != strings.HasPrefix(ext, "permessage-deflate") {
		return nil, fmt.Errorf("handshake: offered deflate %v, got extensions %q", deflate, ext)
	}
	c.SetDeadline(time.Time{})
	return w, nil
}

// newReader buffers what the server sends on c: enough for a handshake
// answer's lines and a few frames.
func newReader(c net.Conn) *bufio.Reader { return bufio.NewReaderSize(c, 1024) }

// readStatus reads an HTTP status line and returns its code.
func (w *wsConn) readStatus() (int, error) {
	line, err := w.readLine()
	if err != nil {
		return 0, err
	}
	f := strings.Fields(line)
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/1.") {
		return 0, fmt.Errorf("handshake: status line %q", line)
	}
	return strconv.Atoi(f[1])
}

// readLine reads one line of an HTTP head, bounded by the reader's buffer.
func (w *wsConn) readLine() (string, error) {
	b, err := w.br.ReadSlice('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// appendHeader appends a masked frame header: first byte b0 (FIN, RSV,
// opcode), a declared payload length n, and maskKey.
func appendHeader(dst []byte, b0 byte, n int64) []byte {
	dst = append(dst, b0)
	switch {
	case n <= 125:
		dst = append(dst, 0x80|byte(n))
	case n <= 0xFFFF:
		dst = append(dst, 0x80|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x80|127)
		for i := 7; i >= 0; i-- {
			dst = append(dst, byte(n>>(8*i)))
		}
	}
	return append(dst, maskKey[:]...)
}

// appendFrame appends a whole masked frame carrying payload.
func appendFrame(dst []byte, b0 byte, payload []byte) []byte {
	dst = appendHeader(dst, b0, int64(len(payload)))
	start := len(dst)
	dst = append(dst, payload...)
	for i := range payload {
		dst[start+i] ^= maskKey[i&3]
	}
	return dst
}

// closeError is a close frame from the server; code 1005 when it had none.
type closeError struct{ code int }

func (e *closeError) Error() string { return fmt.Sprintf("closed with %d", e.code) }

// errTooLarge is a frame from the server longer than the reader takes.
var errTooLarge = errors.New("frame longer than expected")

// readFrame reads one frame from the server, its payload into w.buf if it
// is at most limit bytes long (else errTooLarge, the payload unread).
func (w *wsConn) readFrame(limit int) (b0 byte, payload []byte, err error) {
	var hdr [14]byte
	if _, err := io.ReadFull(w.br, hdr[:2]); err != nil {
		return 0, nil, err
	}
	n := int64(hdr[1] & 0x7F)
	switch n {
	case 126:
		if _, err := io.ReadFull(w.br, hdr[2:4]); err != nil {
			return 0, nil, err
		}
		n = int64(hdr[2])<<8 | int64(hdr[3])
	case 127:
		if _, err := io.ReadFull(w.br, hdr[2:10]); err != nil {
			return 0, nil, err
		}
		n = 0
		for _, c := range hdr[2:10] {
			n = n<<8 | int64(c)
		}
	}
	var key [4]byte
	masked := hdr[1]&0x80 != 0
	if masked {
		if _, err := io.ReadFull(w.br, key[:]); err != nil {
			return 0, nil, err
		}
	}
	if n < 0 || n > int64(limit) {
		return hdr[0], nil, errTooLarge
	}
	if cap(w.buf) < int(n) {
		w.buf = make([]byte, n)
	}
	payload = w.buf[:n]
	if _, err := io.ReadFull(w.br, payload); err != nil {
		return 0, nil, err
	}
	if masked {
		for i := range payload {
			payload[i] ^= key[i&3]
		}
	}
	return hdr[0], payload, nil
}

// readMessage reads the next data message, up to limit bytes in all,
// skipping control frames; a close frame is returned as a *closeError.
func (w *wsConn) readMessage(limit int) ([]byte, error) {
	var msg []byte
	for {
		b0, p, err := w.readFrame(limit - len(msg))
		if err != nil {
			return nil, err
		}
		switch op := b0 & 0x0F; op {
		case opClose:
			return nil, closeOf(p)
		case opPing, opPong:
			continue
		}
		msg = append(msg, p...)
		if b0&finBit != 0 {
			return msg, nil
		}
	}
}

// readClose reads until the server's close frame and returns its code,
// skipping anything else. The caller bounds it with a read deadline.
func (w *wsConn) readClose() (int, error) {
	for {
		b0, p, err := w.readFrame(1 << 20)
		if err != nil {
			return 0, err
		}
		if b0&0x0F == opClose {
			return closeOf(p).code, nil
		}
	}
}

func closeOf(p []byte) *closeError {
	if len(p) < 2 {
		return &closeError{1005}
	}
	return &closeError{int(p[0])<<8 | int(p[1])}
}

// echo sends msg as one binary message and waits for it to come back.
func (w *wsConn) echo(msg []byte, timeout time.Duration) error {
	w.c.SetDeadline(time.Now().Add(timeout))
	defer w.c.SetDeadline(time.Time{})
	if _, err := w.c.Write(appendFrame(nil, finBit|opBinary, msg)); err != nil {
		return err
	}
	got, err := w.readMessage(len(msg))
	if err != nil {
		return err
	}
	if !bytes.Equal(got, msg) {
		return fmt.Errorf("echo: got %d bytes %.16x, want %d bytes %.16x", len(got), got, len(msg), msg)
	}
	return nil
}

// close runs the close handshake (1000) and closes the connection.
func (w *wsConn) close(timeout time.Duration) error {
	defer w.c.Close()
	w.c.SetDeadline(time.Now().Add(timeout))
	if _, err := w.c.Write(appendFrame(nil, finBit|opClose, []byte{0x03, 0xe8})); err != nil {
		return err
	}
	code, err := w.readClose()
	if err == nil && code != 1000 {
		err = &closeError{code}
	}
	return err
}

// reset closes c with an RST, not a FIN: the abrupt end a crashed or
// hostile peer gives, and one that leaves no TIME_WAIT behind.
func reset(c *net.TCPConn) {
	c.SetLinger(0)
	c.Close()
}

// outcome names how a read that waited for the server ended: a close
// code, an HTTP status, or what the socket said.
func outcome(code int, err error) string {
	var se *statusError
	var ce *closeError
	var ne net.Error
	switch {
	case err == nil:
		return strconv.Itoa(code)
	case errors.As(err, &se):
		return strconv.Itoa(se.code)
	case errors.As(err, &ce):
		return strconv.Itoa(ce.code)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, errTooLarge):
		return "data"
	}
	return "error"
}
