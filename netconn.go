package websocket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/rfc6455/websocket/internal/bufpool"
)

// ErrMessageType is what the Read of a NetConn returns, wrapped with the
// types, when a message of the other data type arrives: a text message on
// a binary stream or a binary one on a text stream. Such a message is not
// part of the stream, and skipping it would hide that the peer speaks
// another protocol, so the stream ends there: the message is discarded,
// the connection is closed with 1003 (StatusUnsupportedData, the code RFC
// 6455 §7.4.1 gives an endpoint that received a type of data it cannot
// accept), and every later Read returns the same error.
var ErrMessageType = errors.New("websocket: message of the wrong type")

// netReadSize is the buffer a NetConn reads its first message into; later
// ones get a buffer sized like the message before, up to netReadMax.
const (
	netReadSize = 4096
	netReadMax  = 4 << 20 // bufpool's largest class: past it buffers are not pooled

	// netWriteMax is the largest message a Write sends: what every peer
	// takes by default (coder/websocket's read limit is 32 KiB), and
	// large enough that framing costs nothing next to the copy.
	netWriteMax = 32 << 10
)

// NetConn returns a net.Conn whose byte stream travels in c's messages of
// type typ, for code that wants a net.Conn: a tunnel (io.Copy both ways),
// TLS or SSH over a WebSocket, an RPC library. Use BinaryMessage for
// arbitrary bytes; with TextMessage every Write must be valid UTF-8 on its
// own, which io.Copy's chunks of text need not be. NetConn panics if typ
// is neither.
//
// Each Write sends p as one message, or as several of at most 32 KiB when
// p is longer (split at a character boundary for TextMessage), so that a
// Write of any size passes the peer's message limit: ours defaults to
// 1 MiB, coder/websocket's to 32 KiB, and io.Copy from a source with a
// WriteTo (a bytes.Reader, a file) writes everything in one call. Writes
// take turns: the messages of two Writes never interleave.
// Read returns the bytes of consecutive messages as one stream, without
// regard for their boundaries: a Read may return part of a message and
// the next Read the rest. Empty messages add nothing to the stream. A
// message of the other type ends the stream with ErrMessageType.
//
// The net.Conn does c's reading: nothing else may read c while it is in
// use. (A Conn that an event loop reads, from a Server in IOEventLoop mode,
// cannot be read this way: Read returns ErrEventLoop.) Messages written to
// c directly join the stream the peer reads.
//
// Read returns io.EOF once the peer has closed the connection with 1000
// (StatusNormalClosure) or 1001 (StatusGoingAway), and the *CloseError if
// it closed with another code or the connection failed. Close closes c
// with 1000, after which Read and Write return an error that wraps
// net.ErrClosed.
//
// Deadlines mean what they mean for any net.Conn: once one passes, the
// calls blocked in that direction and the later ones fail with an error
// that is os.ErrDeadlineExceeded (errors.Is) and a net.Error whose Timeout
// is true, until the deadline is moved; moving it, earlier, later or to
// the zero time, also applies to the calls already blocked. A Read that
// times out leaves the connection open, also in the middle of a message:
// what had arrived of it waits for the next Read, and no byte is lost. A
// Write that times out before it starts sends nothing and leaves the
// connection open; one whose deadline passes while its message is under
// way (on the socket, or waiting behind another Write) fails the
// connection, since half a frame cannot be taken back. (A net.Conn does
// not promise more: a TCP write that times out may have sent part of its
// bytes.)
//
// As with any net.Conn, its methods may be called from several goroutines
// at once: Reads take turns, and so do Writes, whose messages never
// interleave.
func NetConn(c *Conn, typ MessageType) net.Conn {
	if typ != TextMessage && typ != BinaryMessage {
		panic("websocket: NetConn with a message type other than TextMessage or BinaryMessage")
	}
	return &netConn{c: c, typ: typ, rsize: netReadSize}
}

// netConn is NetConn's net.Conn. It uses only the message-level methods
// that Conn has in both builds, so it works in the browser build too.
type netConn struct {
	c      *Conn
	typ    MessageType
	rd, wd deadline
	closed atomic.Bool // Close was called

	// wmu keeps the messages of one Write together.
	wmu sync.Mutex

	// The read side, one Read at a time: the stream has one position.
	rmu   sync.Mutex
	rbuf  *bufpool.Buffer // holds the message Reads are handing out; nil between messages
	rest  []byte          // the part of rbuf's message not read yet
	rsize int             // the size of the last message: the next buffer's size
	rerr  error           // a message of the wrong type ended the stream
}

var _ net.Conn = (*netConn)(nil)

func (nc *netConn) Read(p []byte) (int, error) {
	nc.rmu.Lock()
	defer nc.rmu.Unlock()
	if nc.closed.Load() {
		return 0, nc.opError("read", net.ErrClosed)
	}
	for len(nc.rest) == 0 {
		if nc.rerr != nil {
			return 0, nc.rerr
		}
		if len(p) == 0 {
			return 0, nil
		}
		if err := nc.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, nc.rest)
	nc.rest = nc.rest[n:]
	if len(nc.rest) == 0 {
		bufpool.Put(nc.rbuf)
		nc.rbuf, nc.rest = nil, nil
	}
	return n, nil
}

// next reads the next message, whole, into a pooled buffer, which becomes
// the unread rest of the stream. A Read that times out in the middle of a
// message leaves what arrived with the Conn, which continues the message
// on the next call; the buffer goes back to the pool either way. rmu is
// held.
func (nc *netConn) next() error {
	ctx, ok := nc.rd.begin()
	if !ok {
		return nc.opError("read", os.ErrDeadlineExceeded)
	}
	b := bufpool.Get(nc.rsize)
	typ, data, err := nc.c.AppendMessage(ctx, b.B)
	timedOut := nc.rd.end(ctx)
	b.B = data // a buffer grown past its class is dropped by Put
	if err != nil {
		bufpool.Put(b)
		return nc.readError(err, timedOut)
	}
	if typ != nc.typ {
		bufpool.Put(b)
		nc.rerr = fmt.Errorf("%w: %v message on a %v stream", ErrMessageType, typ, nc.typ)
		nc.c.Close(StatusUnsupportedData, "unexpected "+typ.String()+" message")
		return nc.rerr
	}
	if len(data) == 0 {
		bufpool.Put(b)
		return nil
	}
	nc.rsize = min(len(data), netReadMax)
	nc.rbuf, nc.rest = b, data
	return nil
}

// readError turns what AppendMessage returned into what a net.Conn's Read
// returns.
func (nc *netConn) readError(err error, timedOut bool) error {
	if nc.closed.Load() {
		return nc.opError("read", net.ErrClosed)
	}
	if timedOut && errors.Is(err, context.Canceled) {
		// The deadline's context ended the read (deadline.expire); the
		// Conn stays open.
		return nc.opError("read", os.ErrDeadlineExceeded)
	}
	var ce *CloseError
	if errors.As(err, &ce) && (ce.Code == StatusNormalClosure || ce.Code == StatusGoingAway) {
		return io.EOF
	}
	return err
}

func (nc *netConn) Write(p []byte) (int, error) {
	nc.wmu.Lock()
	defer nc.wmu.Unlock()
	n := 0
	for {
		if nc.closed.Load() {
			return n, nc.opError("write", net.ErrClosed)
		}
		if len(p) == 0 {
			return n, nil // an empty message would add nothing to the stream
		}
		m := nc.chunk(p)
		if err := nc.writeMessage(p[:m]); err != nil {
			return n, err
		}
		n += m
		p = p[m:]
	}
}

// chunk returns how many bytes of p the next message takes: all of them up
// to netWriteMax, and for text no more than ends on a character boundary.
func (nc *netConn) chunk(p []byte) int {
	if len(p) <= netWriteMax {
		return len(p)
	}
	m := netWriteMax
	if nc.typ == TextMessage {
		// Back up to the start of the character that straddles the cut
		// (at most 3 bytes); invalid text is the caller's error anyway.
		for i := m; i > m-utf8.UTFMax && i > 0; i-- {
			if utf8.RuneStart(p[i]) {
				m = i
				break
			}
		}
	}
	return m
}

// writeMessage sends p as one message under the write deadline.
func (nc *netConn) writeMessage(p []byte) error {
	ctx, ok := nc.wd.begin()
	if !ok {
		return nc.opError("write", os.ErrDeadlineExceeded)
	}
	err := nc.c.WriteMessage(ctx, nc.typ, p)
	timedOut := nc.wd.end(ctx)
	switch {
	case err == nil:
		return nil
	case nc.closed.Load():
		return nc.opError("write", net.ErrClosed)
	case timedOut && errors.Is(err, context.Canceled):
		return nc.opError("write", os.ErrDeadlineExceeded)
	}
	return err
}

// Close closes the connection with 1000 (StatusNormalClosure) and waits
// for the close handshake, which Conn.Close bounds (Options.CloseTimeout).
// Blocked Reads and Writes return an error that wraps net.ErrClosed, as do
// all calls after it, a second Close included.
//
// A Write under way is ended first, which fails the connection: the close
// frame could only follow the rest of its message, which a peer that does
// not read may never take. Close is abrupt then, without the handshake.
func (nc *netConn) Close() error {
	if nc.closed.Swap(true) {
		return nc.opError("close", net.ErrClosed)
	}
	nc.rd.stop(false)
	nc.wd.stop(true)
	err := nc.c.Close(StatusNormalClosure, "")
	if nc.rmu.TryLock() {
		// No Read is running: the unread rest, if any, is dropped now
		// rather than with the netConn.
		bufpool.Put(nc.rbuf)
		nc.rbuf, nc.rest = nil, nil
		nc.rmu.Unlock()
	}
	return err
}

func (nc *netConn) LocalAddr() net.Addr  { return nc.c.LocalAddr() }
func (nc *netConn) RemoteAddr() net.Addr { return nc.c.RemoteAddr() }

func (nc *netConn) SetDeadline(t time.Time) error {
	if !nc.rd.set(t) || !nc.wd.set(t) {
		return nc.opError("set", net.ErrClosed)
	}
	return nil
}

func (nc *netConn) SetReadDeadline(t time.Time) error {
	if !nc.rd.set(t) {
		return nc.opError("set", net.ErrClosed)
	}
	return nil
}

func (nc *netConn) SetWriteDeadline(t time.Time) error {
	if !nc.wd.set(t) {
		return nc.opError("set", net.ErrClosed)
	}
	return nil
}

// opError wraps err as the net package's connections do, so that
// errors.Is and net.Error see through it: os.ErrDeadlineExceeded is a
// net.Error whose Timeout is true.
func (nc *netConn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "websocket", Source: nc.c.LocalAddr(), Addr: nc.c.RemoteAddr(), Err: err}
}

// deadline is the deadline of one direction of a netConn, as the context
// its calls pass to the Conn. The Conn ends a call when its context ends
// and keeps the connection (a write only if it had not started), so a
// deadline needs no more than a context that ends when the deadline
// passes. A context cannot be revived, so once one has ended and the
// deadline is moved, the calls to come get a new one; until then it lasts,
// and calls allocate nothing. One timer per direction, reset when the
// deadline moves: no goroutine per call.
//
// The context ends only while a call is under way (calls > 0). A deadline
// that passes between calls is only recorded (passed), and the next call
// fails without reaching the Conn. The Conn keeps its registration of a
// context from one call to the next, and a context that ended with no call
// under way would put the socket's deadline in the past for whatever reads
// or writes outside the calls meanwhile (Close's handshake, the heartbeat).
type deadline struct {
	mu      sync.Mutex
	at      time.Time          // zero: none
	timer   *time.Timer        // runs fire at at; nil until a deadline is first set
	passed  bool               // at has passed: calls fail at once
	calls   int                // calls under way
	ctx     context.Context    // what calls pass to the Conn; nil until needed, or once ended
	cancel  context.CancelFunc // ends ctx
	stopped bool               // the netConn is closed
}

// begin returns the context for a call, or false if the deadline has
// passed. A call begin lets through must call end.
func (d *deadline) begin() (context.Context, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.passed {
		return nil, false
	}
	if d.ctx == nil {
		// Made here rather than when a deadline is set, so that a call
		// blocked before any deadline was set still has one to end.
		d.ctx, d.cancel = context.WithCancel(context.Background())
	}
	d.calls++
	return d.ctx, true
}

// end marks the end of a call and reports whether the deadline ended its
// context while it ran.
func (d *deadline) end(ctx context.Context) bool {
	d.mu.Lock()
	d.calls--
	d.mu.Unlock()
	return ctx.Err() != nil
}

// set moves the deadline to t (zero: none). It returns false once stop was
// called.
func (d *deadline) set(t time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return false
	}
	d.at = t
	if d.passed {
		d.passed = false
		if d.ctx != nil && d.ctx.Err() != nil {
			d.ctx, d.cancel = nil, nil // ended: the calls to come need a new one
		}
	}
	if t.IsZero() {
		if d.timer != nil {
			d.timer.Stop()
		}
		return true
	}
	wait := time.Until(t)
	switch {
	case wait <= 0:
		if d.timer != nil {
			d.timer.Stop()
		}
		d.expire()
	case d.timer == nil:
		d.timer = time.AfterFunc(wait, d.fire)
	default:
		d.timer.Reset(wait)
	}
	return true
}

// fire is the timer's function. A run that the deadline's moving has made
// stale (it was under way as set reset the timer) finds the deadline not
// passed yet, or gone, and does nothing but wait again.
func (d *deadline) fire() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.passed || d.at.IsZero() || d.stopped {
		return
	}
	if wait := time.Until(d.at); wait > 0 {
		d.timer.Reset(wait)
		return
	}
	d.expire()
}

// expire records that the deadline has passed and ends the calls under
// way. mu is held. Ending the context runs nothing of ours: the Conn's
// own hooks on it run on goroutines of their own.
func (d *deadline) expire() {
	d.passed = true
	if d.calls > 0 && d.cancel != nil {
		d.cancel()
	}
}

// stop stops the timer for good, the netConn being closed, and ends the
// calls under way if endCalls is set.
func (d *deadline) stop(endCalls bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopped = true
	if d.timer != nil {
		d.timer.Stop()
	}
	if endCalls && d.calls > 0 && d.cancel != nil {
		d.cancel()
	}
}
