package conn

import (
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/pool"
)

// Defaults used when a Config field is zero.
const (
	DefaultReadBufferSize  = 4096
	DefaultWriteBufferSize = 4096
	// DefaultMaxMessageSize lets a 16 MiB message through (the Autobahn
	// testsuite's largest) with room to spare, and bounds what one peer can
	// make a connection hold.
	DefaultMaxMessageSize = 32 << 20
	// DefaultCloseFlushTimeout bounds how long Close waits to flush.
	DefaultCloseFlushTimeout = 2 * time.Second
)

// Errors returned by Conn.
var (
	// ErrCloseSent is returned by WriteFrame for a data frame once a close
	// frame has been written: RFC 6455 §5.5.1 forbids data after it.
	ErrCloseSent = errors.New("websocket: close frame already sent")
	// ErrNotConnected is returned when a Conn is used before Open.
	ErrNotConnected = errors.New("websocket: connection not open")
	// ErrInterrupted is returned by WaitReadable after Interrupt.
	ErrInterrupted = errors.New("websocket: wait interrupted")
	// ErrWouldBlock is what the reading methods return when the
	// connection's Transport is non-blocking (Evented) and has no bytes
	// ready. It is not an error of the connection: whoever owns the
	// transport calls the reader again when bytes arrive, and the next
	// read continues where this one stopped.
	ErrWouldBlock = errors.New("websocket: no bytes ready")
)

// aLongTimeAgo is a deadline that has passed: it wakes a blocked read.
var aLongTimeAgo = time.Unix(1, 0)

// Config configures a Conn. The zero value (or a nil *Config) gives the
// defaults documented on each field.
type Config struct {
	// ReadBufferSize is the size of the read buffer. Frames and payload
	// bytes that arrive together are parsed from it without a system call
	// each. Default 4096. Larger values help large messages a little and
	// cost memory on every connection.
	ReadBufferSize int

	// WriteBufferSize is the size of the pooled buffer that frames are
	// encoded into before one write. It is only held while writing.
	// Default 4096.
	WriteBufferSize int

	// MaxFrameSize is the largest frame payload accepted; a larger frame
	// fails the connection with 1009 before its payload is read. Default:
	// MaxMessageSize. Negative: no limit (not recommended).
	MaxFrameSize int64

	// MaxMessageSize is the largest sum of frame payloads in one data
	// message; past it the connection fails with 1009 before the
	// offending payload is read. Default DefaultMaxMessageSize (32 MiB).
	// Negative: no limit (not recommended: a peer can then make the
	// application buffer without bound).
	MaxMessageSize int64

	// AllowedRsv is the set of RSV bits (frame.Rsv1 ...) a negotiated
	// extension allows on the first frame of a data message. Default none.
	AllowedRsv uint8

	// WriteTimeout bounds each write system call; a write that takes
	// longer fails the connection. Default 0: no bound beyond the
	// deadlines set with SetWriteDeadline.
	WriteTimeout time.Duration

	// OnStateChange, if set, is called after every state change, from the
	// goroutine that caused it. It must not block.
	OnStateChange func(c *Conn, from, to State)

	// OnClose, if set, is called once when the connection reaches Closed,
	// with the first error that ended it (nil for a clean Close).
	OnClose func(c *Conn, err error)
}

func (cfg *Config) readBufferSize() int {
	if cfg == nil || cfg.ReadBufferSize <= 0 {
		return DefaultReadBufferSize
	}
	return cfg.ReadBufferSize
}

func (cfg *Config) writeBufferSize() int {
	if cfg == nil || cfg.WriteBufferSize <= 0 {
		return DefaultWriteBufferSize
	}
	return cfg.WriteBufferSize
}

func limit(v, def int64) int64 {
	switch {
	case v < 0:
		return 0 // the decoder's "no limit"
	case v == 0:
		return def
	}
	return v
}

// settings are the parts of a Config that a Conn keeps after New, compact
// because every connection carries them.
type settings struct {
	readBufferSize, writeBufferSize int32
	writeTimeout                    time.Duration
	hooks                           *hooks // nil without callbacks
}

// hooks are the Config's callbacks, which few connections have.
type hooks struct {
	onStateChange func(c *Conn, from, to State)
	onClose       func(c *Conn, err error)
}

func (s *settings) readBufSize() int  { return int(s.readBufferSize) }
func (s *settings) writeBufSize() int { return int(s.writeBufferSize) }

// Conn is a WebSocket connection at the frame level.
//
// One goroutine at a time may read (NextFrame, Read, ReadFrame). Any number of
// goroutines may write (WriteFrame, Flush, Close, Abort) at once: frames are
// written whole, in the order their writers acquired the write lock.
type Conn struct {
	t   Transport
	cfg settings

	since int64 // unix nanoseconds of Open

	// Read side, owned by the reader. rbuf is nil while an idle
	// connection waits for bytes with nothing partial buffered, over a
	// Transport whose ReadLazy can wait without a buffer: then it holds
	// no read buffer at all.
	dec  frame.Decoder
	rbuf []byte
	rpb  *pool.Buffer // the pooled buffer rbuf lives in, if any
	r, w int
	rerr error        // sticky read error
	rdl  atomic.Int64 // the read deadline set, unix nanos, 0 for none

	// Write side, guarded by wmu.
	wbuf *pool.Buffer // held only while a batch is being written
	werr error        // sticky write error
	keys *maskKeys    // a client's random bytes for mask keys

	closeErr atomic.Pointer[error] // the first error that ended the connection
	stats    counters
	wmu      sync.Mutex

	// The small fields together, which every connection carries.
	state     atomic.Int32
	irq       atomic.Int32 // irqPending: the next timeout is Interrupt's; irqLock
	waiting   atomic.Int32 // writers waiting for wmu, for coalescing
	finished  atomic.Bool  // Close or Abort has run
	role      Role
	nb        bool // t is non-blocking: reads may say ErrWouldBlock
	opened    bool // Open was called; reader
	holds     bool // CorkUntilRead is in effect: fill releases it; reader
	ctl       bool // a control frame's header was returned with its payload not all buffered; reader
	corked    bool // wmu
	held      bool // CorkUntilRead: corked until the reader waits; wmu
	sentClose bool // wmu
}

// maskKeys are a client's random bytes for mask keys, refilled in batches.
type maskKeys struct {
	b   [64]byte
	pos int
}

type counters struct {
	bytesIn, bytesOut       atomic.Uint64
	framesIn, framesOut     atomic.Uint64
	messagesIn, messagesOut atomic.Uint64
}

// Stats is a snapshot of a connection's counters.
type Stats struct {
	BytesIn     uint64 // bytes read from the socket
	BytesOut    uint64 // bytes written to the socket
	FramesIn    uint64 // frame headers read
	FramesOut   uint64 // frames written
	MessagesIn  uint64 // final frames of data messages read
	MessagesOut uint64 // final frames of data messages written
	// Since is when the connection opened; Uptime is the time since.
	Since  time.Time
	Uptime time.Duration
}

// New returns a Conn over nc in state Connecting: the caller runs the opening
// handshake on nc, then calls Open (or Abort when the handshake fails). cfg
// may be nil. It is NewTransport(NewStream(nc), role, cfg): a blocking
// stream that holds a read buffer while it waits.
func New(nc net.Conn, role Role, cfg *Config) *Conn {
	return NewTransport(NewStream(nc), role, cfg)
}

// NewTransport is New over any Transport t.
func NewTransport(t Transport, role Role, cfg *Config) *Conn {
	c := &Conn{t: t, role: role, nb: t.Nonblocking()}
	var zero Config
	if cfg == nil {
		cfg = &zero
	}
	c.cfg = settings{
		readBufferSize:  int32(min(cfg.readBufferSize(), 1<<30)),
		writeBufferSize: int32(min(cfg.writeBufferSize(), 1<<30)),
		writeTimeout:    cfg.WriteTimeout,
	}
	if cfg.OnStateChange != nil || cfg.OnClose != nil {
		c.cfg.hooks = &hooks{onStateChange: cfg.OnStateChange, onClose: cfg.OnClose}
	}
	maxMsg := limit(cfg.MaxMessageSize, DefaultMaxMessageSize)
	maxFrame := limit(cfg.MaxFrameSize, maxMsg)
	if maxMsg > 0 && (maxFrame == 0 || maxFrame > maxMsg) {
		maxFrame = maxMsg
	}
	c.dec = frame.Decoder{
		ExpectMasked:   role == Server,
		AllowedRsv:     cfg.AllowedRsv,
		MaxFrameSize:   maxFrame,
		MaxMessageSize: maxMsg,
	}
	if role == Client {
		c.keys = &maskKeys{pos: 64}
	}
	c.transition(Disconnected, Connecting)
	return c
}

// Open moves a Conn from Connecting to Connected. buffered holds the bytes
// that the handshake read past its end (they belong to the frame stream); it
// is copied.
func (c *Conn) Open(buffered []byte) error {
	c.opened = true
	if len(buffered) > c.cfg.readBufSize() {
		// Bytes from the handshake that do not fit a pooled buffer: an
		// owned buffer for the connection's life.
		c.rbuf = make([]byte, len(buffered))
	} else if len(buffered) > 0 {
		c.getReadBuffer()
	}
	c.w = copy(c.rbuf, buffered)
	c.since = time.Now().UnixNano()
	if !c.transition(Connecting, Connected) {
		return ErrNotConnected
	}
	return nil
}

// Role returns the connection's role.
func (c *Conn) Role() Role { return c.role }

// State returns the current state.
func (c *Conn) State() State { return State(c.state.Load()) }

// Evented reports whether the connection's Transport is non-blocking (an
// event loop's socket): reads never wait and return ErrWouldBlock when no
// bytes are ready, and whoever owns the socket calls the reader again when
// they arrive.
func (c *Conn) Evented() bool { return c.nb }

// AfterFunc runs f after d: on the connection's event loop if it has one,
// else in a goroutine of its own like time.AfterFunc (Transport.AfterFunc).
func (c *Conn) AfterFunc(d time.Duration, f func()) Timer {
	return c.t.AfterFunc(d, f)
}

// NetConn returns the net.Conn under the connection, or nil if its
// Transport is not over one.
func (c *Conn) NetConn() net.Conn {
	if t, ok := c.t.(interface{ NetConn() net.Conn }); ok {
		return t.NetConn()
	}
	if nc, ok := c.t.(net.Conn); ok {
		return nc
	}
	return nil
}

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.t.LocalAddr() }

// RemoteAddr returns the remote network address.
func (c *Conn) RemoteAddr() net.Addr { return c.t.RemoteAddr() }

// SetReadDeadline sets the deadline for reads. A read that times out
// returns an error for which os.IsTimeout holds and leaves the connection
// usable: the next read continues where this one stopped.
func (c *Conn) SetReadDeadline(t time.Time) error {
	var n int64
	if !t.IsZero() {
		n = max(t.UnixNano(), 1)
	}
	c.rdl.Store(n)
	return c.t.SetReadDeadline(t)
}

// Interrupt wakes the reader if it is waiting in WaitReadable, which then
// returns ErrInterrupted. A reader anywhere else does not notice: the
// wake-up is absorbed and the read goes on. Any goroutine may call it.
func (c *Conn) Interrupt() {
	c.lockIRQ()
	c.t.SetReadDeadline(aLongTimeAgo)
	c.irq.Store(irqPending)
}

// The bits of Conn.irq. irqLock makes setting the deadline and the pending
// bit one step, against a timeout that fires in between and would
// otherwise leave a passed deadline behind with no pending interrupt.
const (
	irqPending = 1 << iota
	irqLock
)

// lockIRQ takes irqLock and returns the bits as they were. Both holders
// only set a deadline, so the wait is short.
func (c *Conn) lockIRQ() int32 {
	for {
		v := c.irq.Load()
		if v&irqLock == 0 && c.irq.CompareAndSwap(v, v|irqLock) {
			return v
		}
		runtime.Gosched()
	}
}

// readDeadline is the deadline last set with SetReadDeadline.
func (c *Conn) readDeadline() time.Time {
	if n := c.rdl.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// SetWriteDeadline sets the deadline for writes. A write that times out
// fails the connection, since part of a frame may have been sent.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.t.SetWriteDeadline(t) }

// Stats returns a snapshot of the connection's counters. It may be called
// at any time from any goroutine.
func (c *Conn) Stats() Stats {
	s := Stats{
		BytesIn:     c.stats.bytesIn.Load(),
		BytesOut:    c.stats.bytesOut.Load(),
		FramesIn:    c.stats.framesIn.Load(),
		FramesOut:   c.stats.framesOut.Load(),
		MessagesIn:  c.stats.messagesIn.Load(),
		MessagesOut: c.stats.messagesOut.Load(),
	}
	if c.since != 0 {
		s.Since = time.Unix(0, c.since)
		s.Uptime = time.Since(s.Since)
	}
	return s
}

// Err returns the error that ended the connection, or nil while it is open
// or if it was closed cleanly.
func (c *Conn) Err() error {
	if p := c.closeErr.Load(); p != nil {
		return *p
	}
	return nil
}

// transition moves the state from one of the given states to to. It returns
// false if the current state is not from.
func (c *Conn) transition(from, to State) bool {
	if !CanTransition(from, to) || !c.state.CompareAndSwap(int32(from), int32(to)) {
		return false
	}
	if h := c.cfg.hooks; h != nil && h.onStateChange != nil {
		h.onStateChange(c, from, to)
	}
	return true
}

// toClosing moves Connected to Closing; other states are left alone.
func (c *Conn) toClosing() { c.transition(Connected, Closing) }

// isTimeout reports whether err is a deadline error, after which a read may
// be retried.
func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// ---------------------------------------------------------------------------
// Reading

// NextFrame returns the header of the next frame, checked against the
// framing rules and limits (errors are *frame.ProtocolError carrying the
// close code to send). Any payload of the previous frame that was not read is
// discarded first. Control frames come back like any other frame; the caller
// handles them.
func (c *Conn) NextFrame() (frame.Header, error) {
	if c.rerr != nil {
		return frame.Header{}, c.rerr
	}
	if !c.opened {
		return frame.Header{}, ErrNotConnected
	}
	if c.ctl {
		// The last call stopped (a deadline, ErrWouldBlock) while this
		// control frame's payload was arriving.
		return c.controlFrame()
	}
	for c.dec.Remaining() > 0 {
		if c.r == c.w {
			if err := c.fill(); err != nil {
				return frame.Header{}, err
			}
		}
		n := int(min(c.dec.Remaining(), int64(c.w-c.r)))
		c.dec.Payload(c.rbuf[c.r : c.r+n])
		c.r += n
	}
	for {
		if c.r < c.w {
			n, done, err := c.dec.ParseHeader(c.rbuf[c.r:c.w])
			c.r += n
			if err != nil {
				c.rerr = err
				return frame.Header{}, err
			}
			if done {
				h := c.dec.Header()
				c.stats.framesIn.Add(1)
				if h.Fin && h.Opcode.IsData() {
					c.stats.messagesIn.Add(1)
				}
				if h.Opcode == frame.OpClose {
					c.toClosing()
				}
				if h.Opcode.IsControl() && h.Length > int64(c.w-c.r) {
					c.ctl = true
					return c.controlFrame()
				}
				return h, nil
			}
		}
		if err := c.fill(); err != nil {
			return frame.Header{}, err
		}
	}
}

// controlFrame buffers the whole payload of the control frame whose header
// was just parsed before returning the header, so that a read that stops
// half way (a deadline, ErrWouldBlock) leaves no payload half consumed: the
// next NextFrame returns the same header.
func (c *Conn) controlFrame() (frame.Header, error) {
	need := int(c.dec.Remaining()) // at most 125
	for c.w-c.r < need {
		if len(c.rbuf)-c.r < need {
			if len(c.rbuf) < need {
				// A read buffer configured smaller than a control frame.
				b := make([]byte, max(need, 2*len(c.rbuf)))
				c.w = copy(b, c.rbuf[c.r:c.w])
				c.putReadBuffer()
				c.rbuf, c.r = b, 0
			} else {
				c.w = copy(c.rbuf, c.rbuf[c.r:c.w])
				c.r = 0
			}
		}
		if err := c.fill(); err != nil {
			return frame.Header{}, err
		}
	}
	c.ctl = false
	return c.dec.Header(), nil
}

// MaxMessageSize returns the limit on the sum of a data message's frame
// payloads, 0 for none. A layer that decompresses messages applies it to
// their decompressed size too.
func (c *Conn) MaxMessageSize() int64 { return c.dec.MaxMessageSize }

// Remaining returns the payload bytes of the current frame not read yet.
func (c *Conn) Remaining() int64 { return c.dec.Remaining() }

// Read reads payload bytes of the current frame into p, unmasked. It returns
// io.EOF once the frame's payload is exhausted; NextFrame moves on.
func (c *Conn) Read(p []byte) (int, error) {
	rem := c.dec.Remaining()
	if rem == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p)) > rem {
		p = p[:rem]
	}
	if c.r == c.w {
		if c.rerr != nil {
			return 0, c.rerr
		}
		if len(p) >= c.cfg.readBufSize() {
			// Large read: straight into the caller's buffer.
			if c.holds {
				c.releaseHold()
			}
			for {
				n, err := c.t.Read(p)
				if n > 0 {
					c.stats.bytesIn.Add(uint64(n))
					c.dec.Payload(p[:n])
					return n, nil
				}
				if err = c.readErr(err); err != errInterrupt {
					return 0, err
				}
			}
		}
		if err := c.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, c.rbuf[c.r:c.w])
	c.r += n
	c.dec.Payload(p[:n])
	return n, nil
}

// ReadPayload reads the whole remaining payload of the current frame,
// appending it to dst, growing dst as bytes arrive (never by more than twice
// what has arrived). Use it for control frames and small frames.
func (c *Conn) ReadPayload(dst []byte) ([]byte, error) {
	for c.dec.Remaining() > 0 {
		if len(dst) == cap(dst) {
			grow := int(min(c.dec.Remaining(), int64(max(512, cap(dst)))))
			dst = append(dst, make([]byte, grow)...)[:len(dst)]
		}
		n, err := c.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// WaitReadable returns once bytes are buffered for the reader, waiting for
// the socket if none are. A reader that parks here between messages rather
// than deep inside NextFrame keeps its goroutine's stack small, and an idle
// socket connection holds no read buffer while it waits. Errors are those
// of NextFrame: a timeout leaves the connection usable.
func (c *Conn) WaitReadable() error {
	if c.r < c.w {
		return nil
	}
	if c.rerr != nil {
		return c.rerr
	}
	if !c.opened {
		return ErrNotConnected
	}
	if err := c.fillOnce(); err != errInterrupt {
		return err
	}
	return ErrInterrupted
}

// fill reads more bytes into the read buffer. It is called only when every
// buffered byte has been consumed by the decoder or handed out, or when a
// partial frame sits at the end of the buffer. An Interrupt meant for
// WaitReadable is absorbed.
func (c *Conn) fill() error {
	for {
		if err := c.fillOnce(); err != errInterrupt {
			return err
		}
	}
}

func (c *Conn) fillOnce() error {
	if c.rerr != nil {
		return c.rerr
	}
	if c.holds {
		// About to wait for the socket: what was held goes out now. A
		// write error is the writers' to report.
		c.releaseHold()
	}
	if c.r == c.w {
		// Nothing partial is buffered: wait for bytes without holding a
		// buffer, where the Transport can.
		c.r, c.w = 0, 0
		n, err := c.t.ReadLazy((*lender)(c))
		if n > 0 {
			c.w = n
			c.stats.bytesIn.Add(uint64(n))
			return nil
		}
		c.putReadBuffer()
		return c.readErr(err)
	}
	if c.w == len(c.rbuf) {
		c.w = copy(c.rbuf, c.rbuf[c.r:c.w])
		c.r = 0
	}
	n, err := c.t.Read(c.rbuf[c.w:])
	if n > 0 {
		c.w += n
		c.stats.bytesIn.Add(uint64(n))
		return nil
	}
	return c.readErr(err)
}

// ReleaseReadBuffer gives the read buffer back to its pool, dropping
// whatever bytes are still in it, for a reader that will read no more: its
// session has ended. A later read borrows a buffer again. Only the reader
// may call it, as only the reader may call Read.
func (c *Conn) ReleaseReadBuffer() {
	c.r, c.w = 0, 0
	c.putReadBuffer()
}

// getReadBuffer borrows a read buffer from the pool.
func (c *Conn) getReadBuffer() {
	c.rpb = pool.GetBuffer(c.cfg.readBufSize())
	c.rbuf = c.rpb.B[:cap(c.rpb.B)]
}

// putReadBuffer returns the read buffer, which must be empty, to the pool.
func (c *Conn) putReadBuffer() {
	if c.rpb != nil {
		c.rpb.B = c.rpb.B[:0]
		pool.PutBuffer(c.rpb)
		c.rpb, c.rbuf = nil, nil
	}
}

// errInterrupt is what readErr makes of the timeout that Interrupt caused.
var errInterrupt = errors.New("websocket: interrupted")

// readErr classifies a read error: timeouts are returned and forgotten,
// anything else ends the read side for good. The timeout Interrupt caused
// becomes errInterrupt, after the deadline set before it is put back.
func (c *Conn) readErr(err error) error {
	if err == nil {
		if c.nb {
			// Would block, not an error: the stream's owner calls the
			// reader again when bytes arrive. With nothing partial
			// buffered, hold no buffer meanwhile.
			if c.r == c.w {
				c.putReadBuffer()
			}
			return ErrWouldBlock
		}
		err = io.ErrNoProgress
	}
	if isTimeout(err) {
		v := c.lockIRQ()
		if v&irqPending != 0 {
			c.t.SetReadDeadline(c.readDeadline())
			c.irq.Store(0)
			return errInterrupt
		}
		c.irq.Store(v)
		return err
	}
	if err == io.EOF && (c.dec.Remaining() > 0 || c.dec.Partial()) {
		err = io.ErrUnexpectedEOF
	}
	c.rerr = err
	return err
}

// ---------------------------------------------------------------------------
// Writing

// WriteFrame writes one frame: fin, the RSV bits rsv, opcode op and
// payload, masked if this is a client. It is safe to call from many
// goroutines. When other writers are waiting, the frame is left in the
// write buffer and the last of them writes the batch in one system call; a
// nil error then means the frame was accepted into a batch, and a failure of
// that batch shows up as the sticky error of every later call.
//
// Control frames must have payloads of at most 125 bytes and fin set. After
// a close frame has been written, only control frames other than close are
// refused too: data frames get ErrCloseSent.
func (c *Conn) WriteFrame(op frame.Opcode, fin bool, rsv uint8, payload []byte) error {
	if op.IsControl() && (len(payload) > frame.MaxControlPayload || !fin) {
		return &frame.ProtocolError{Code: frame.StatusProtocolError, Reason: "invalid control frame"}
	}
	if c.nb {
		if err := c.t.WaitRoom(c.cfg.writeTimeout); err != nil {
			return err
		}
	}
	c.waiting.Add(1)
	c.wmu.Lock()
	last := c.waiting.Add(-1) == 0
	err := c.writeLocked(op, fin, rsv, payload)
	if err == nil && last && !c.corked && !c.held {
		err = c.flushLocked()
	}
	c.wmu.Unlock()
	return err
}

// Cork holds frames in the write buffer until Uncork (or a full buffer), so
// that replies produced while handling a batch of incoming frames leave in
// one system call.
func (c *Conn) Cork() {
	c.wmu.Lock()
	c.corked = true
	c.wmu.Unlock()
}

// Uncork ends Cork and writes whatever is buffered.
func (c *Conn) Uncork() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.corked = false
	return c.flushLocked()
}

// CorkUntilRead holds frames in the write buffer until the reader next has
// to wait for the socket (or until Flush, or a full buffer). A reader that
// has more frames buffered calls it before handling the one it has, so
// that the replies to a whole batch of frames leave in one system call;
// the added latency is bounded by the time it takes to handle frames that
// have already arrived. Only the reading goroutine may call it.
func (c *Conn) CorkUntilRead() {
	if c.holds {
		return
	}
	c.holds = true
	c.wmu.Lock()
	c.held = true
	c.wmu.Unlock()
}

// releaseHold ends CorkUntilRead and writes what it held.
func (c *Conn) releaseHold() error {
	c.holds = false
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.held = false
	if c.corked {
		return nil
	}
	return c.flushLocked()
}

// ReleaseWrites ends CorkUntilRead at once (a reader that stops reading
// calls it). Only the reading goroutine may call it.
func (c *Conn) ReleaseWrites() error {
	if !c.holds {
		return nil
	}
	return c.releaseHold()
}

// Flush writes whatever is buffered, even while corked.
func (c *Conn) Flush() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.flushLocked()
}

// Buffered reports whether bytes are waiting in the read buffer, that is
// whether the next NextFrame may complete without a system call.
func (c *Conn) Buffered() int { return c.w - c.r }

// maxCoalesce is the largest frame that is copied into the write buffer;
// larger unmasked frames go out with writev, larger masked ones are masked
// through the buffer in chunks.
const maxCoalesce = 64 << 10

// buffer makes sure a write buffer is held, big enough for need bytes when
// need is small enough to coalesce.
func (c *Conn) buffer(need int) []byte {
	if c.wbuf == nil {
		size := c.cfg.writeBufSize()
		if need <= maxCoalesce {
			size = max(size, need)
		}
		c.wbuf = pool.GetBuffer(size)
	}
	return c.wbuf.B
}

func (c *Conn) writeLocked(op frame.Opcode, fin bool, rsv uint8, payload []byte) error {
	if c.werr != nil {
		return c.werr
	}
	if !c.opened {
		return ErrNotConnected
	}
	if c.sentClose {
		return ErrCloseSent
	}
	h := frame.Header{Fin: fin, Rsv: rsv, Opcode: op, Length: int64(len(payload))}
	if c.role == Client {
		h.Masked = true
		h.Mask = c.maskKey()
	}
	need := h.Size() + len(payload)
	b := c.buffer(need)
	if len(b)+need > cap(b) && len(b) > 0 && (c.role == Client || len(b)+h.Size() > cap(b)) {
		// Make room: a masked frame is copied through the buffer, and an
		// unmasked one needs at least room for its header.
		if err := c.flushLocked(); err != nil {
			return err
		}
		b = c.buffer(need)
	}
	switch {
	case len(b)+need <= cap(b):
		b = frame.AppendHeader(b, h)
		start := len(b)
		b = append(b, payload...)
		if h.Masked {
			frame.Mask(h.Mask, 0, b[start:])
		}
		c.wbuf.B = b
	case !h.Masked:
		// Large unmasked frame: what is buffered, the header and the
		// payload in one writev, without copying the payload.
		b = frame.AppendHeader(b, h)
		_, err := c.writev(b, payload)
		c.wbuf.B = b[:0]
		if err != nil {
			return err
		}
	default:
		// Large masked frame (the buffer is empty here): mask it through
		// the buffer, one buffer-full at a time.
		b = frame.AppendHeader(b, h)
		pos := 0
		for len(payload) > 0 {
			n := min(cap(b)-len(b), len(payload))
			start := len(b)
			b = append(b, payload[:n]...)
			pos = frame.Mask(h.Mask, pos, b[start:])
			payload = payload[n:]
			if len(b) == cap(b) && len(payload) > 0 {
				c.wbuf.B = b
				if err := c.writeBuffered(); err != nil {
					return err
				}
				b = c.wbuf.B
			}
		}
		c.wbuf.B = b
	}
	c.sentFrame(op, fin)
	return nil
}

// Prepared is one whole frame (FIN set, no RSV bits) encoded once, so that
// a message sent to many connections is framed once and every server
// connection writes the very same bytes. It is immutable after Prepare and
// safe for concurrent use by any number of connections.
type Prepared struct {
	op    frame.Opcode
	wire  []byte // the unmasked header and payload, as a server sends them
	hsize int
}

// Prepare encodes a frame with opcode op and payload for WritePrepared. The
// payload is copied. A control frame's payload must be at most 125 bytes,
// or WritePrepared refuses it.
func Prepare(op frame.Opcode, payload []byte) *Prepared {
	h := frame.Header{Fin: true, Opcode: op, Length: int64(len(payload))}
	b := make([]byte, 0, h.Size()+len(payload))
	b = frame.AppendHeader(b, h)
	b = append(b, payload...)
	return &Prepared{op: op, wire: b, hsize: h.Size()}
}

// Opcode returns the frame's opcode.
func (p *Prepared) Opcode() frame.Opcode { return p.op }

// Payload returns the frame's payload. It must not be modified.
func (p *Prepared) Payload() []byte { return p.wire[p.hsize:] }

// Size returns the frame's size on the wire for a server: header and payload.
func (p *Prepared) Size() int { return len(p.wire) }

// WritePrepared writes the frame p. A server connection writes p's bytes as
// they are, without encoding or copying them when nothing else is waiting to
// be written; a client connection must mask with a fresh key, so it writes p
// like WriteFrame. Coalescing, the errors and the stats are those of
// WriteFrame.
func (c *Conn) WritePrepared(p *Prepared) error {
	if c.role == Client {
		return c.WriteFrame(p.op, true, 0, p.Payload())
	}
	if p.op.IsControl() && len(p.wire)-p.hsize > frame.MaxControlPayload {
		return &frame.ProtocolError{Code: frame.StatusProtocolError, Reason: "invalid control frame"}
	}
	if c.nb {
		if err := c.t.WaitRoom(c.cfg.writeTimeout); err != nil {
			return err
		}
	}
	c.waiting.Add(1)
	c.wmu.Lock()
	flush := c.waiting.Add(-1) == 0 && !c.corked && !c.held
	err := c.writePreparedLocked(p, flush)
	if err == nil && flush {
		err = c.flushLocked()
	}
	c.wmu.Unlock()
	return err
}

func (c *Conn) writePreparedLocked(p *Prepared, flush bool) error {
	if c.werr != nil {
		return c.werr
	}
	if !c.opened {
		return ErrNotConnected
	}
	if c.sentClose {
		return ErrCloseSent
	}
	if !flush && len(p.wire) <= maxCoalesce {
		// Another writer will flush the batch: join it.
		b := c.buffer(len(p.wire))
		if len(b)+len(p.wire) <= cap(b) {
			c.wbuf.B = append(b, p.wire...)
			c.sentFrame(p.op, true)
			return nil
		}
	}
	// What is buffered and the frame in one writev, the frame not copied.
	var b []byte
	if c.wbuf != nil {
		b = c.wbuf.B
	}
	_, err := c.writev(b, p.wire)
	if c.wbuf != nil {
		c.wbuf.B = b[:0]
	}
	if err != nil {
		return err
	}
	c.sentFrame(p.op, true)
	return nil
}

// sentFrame counts a frame accepted for writing and notes a close frame.
func (c *Conn) sentFrame(op frame.Opcode, fin bool) {
	c.stats.framesOut.Add(1)
	if fin && op.IsData() {
		c.stats.messagesOut.Add(1)
	}
	if op == frame.OpClose {
		c.sentClose = true
		c.toClosing()
	}
}

// iovec is the scratch of writev, pooled: few writes need it, and every
// connection would otherwise carry it.
type iovec struct {
	arr  [2][]byte
	bufs net.Buffers
}

var iovecs = sync.Pool{New: func() any { return new(iovec) }}

// writev writes a and b in one system call where the connection can,
// bounded by WriteTimeout.
func (c *Conn) writev(a, b []byte) (int64, error) {
	v := iovecs.Get().(*iovec)
	v.arr[0], v.arr[1] = a, b
	v.bufs = v.arr[:]
	n, err := c.writeTo(&v.bufs)
	v.arr[0], v.arr[1], v.bufs = nil, nil, nil
	iovecs.Put(v)
	return n, err
}

// writeTo writes bufs to the socket, bounded by WriteTimeout.
func (c *Conn) writeTo(bufs *net.Buffers) (int64, error) {
	if c.cfg.writeTimeout > 0 {
		c.t.SetWriteDeadline(time.Now().Add(c.cfg.writeTimeout))
	}
	n, err := c.t.Writev(bufs)
	c.stats.bytesOut.Add(uint64(n))
	if err != nil {
		c.werr = err
	}
	return n, err
}

// writeBuffered writes the buffered frames and keeps the buffer, emptied.
func (c *Conn) writeBuffered() error {
	if c.werr != nil {
		return c.werr
	}
	b := c.wbuf
	if b == nil || len(b.B) == 0 {
		return nil
	}
	if c.cfg.writeTimeout > 0 {
		c.t.SetWriteDeadline(time.Now().Add(c.cfg.writeTimeout))
	}
	n, err := c.t.Write(b.B)
	c.stats.bytesOut.Add(uint64(n))
	b.B = b.B[:0]
	if err != nil {
		c.werr = err
	}
	return err
}

// flushLocked writes the buffered frames and returns the buffer to its
// pool, so that an idle connection holds no write buffer.
func (c *Conn) flushLocked() error {
	err := c.writeBuffered()
	if c.wbuf != nil {
		pool.PutBuffer(c.wbuf)
		c.wbuf = nil
	}
	return err
}

// maskKey returns a fresh random mask key. Keys come from crypto/rand in
// batches of 16 to keep the cost off each frame.
func (c *Conn) maskKey() [4]byte {
	if c.keys.pos+4 > len(c.keys.b) {
		rand.Read(c.keys.b[:])
		c.keys.pos = 0
	}
	var k [4]byte
	copy(k[:], c.keys.b[c.keys.pos:])
	c.keys.pos += 4
	return k
}

// ---------------------------------------------------------------------------
// Closing

// Close flushes buffered frames (waiting at most DefaultCloseFlushTimeout
// for a blocked write) and closes the socket. It does not run the WebSocket
// close handshake: package session does. It is safe to call more than once
// and from any goroutine.
func (c *Conn) Close() error {
	if c.State() == Closed {
		return nil
	}
	c.t.SetWriteDeadline(time.Now().Add(DefaultCloseFlushTimeout))
	c.wmu.Lock()
	c.flushLocked()
	if c.werr == nil {
		c.werr = net.ErrClosed
	}
	c.wmu.Unlock()
	return c.finish(nil, false)
}

// Abort closes the socket at once, discarding buffered frames; a TCP peer
// sees a reset. err, if not nil, is recorded as the reason the connection
// ended (see Err and Config.OnClose).
func (c *Conn) Abort(err error) error {
	return c.finish(err, true)
}

// CloseWithError is Close that records err as the reason the connection
// ended.
func (c *Conn) CloseWithError(err error) error {
	if err != nil {
		c.closeErr.CompareAndSwap(nil, &err)
	}
	return c.Close()
}

func (c *Conn) finish(err error, abort bool) error {
	if err != nil {
		c.closeErr.CompareAndSwap(nil, &err)
	}
	var cerr error
	if !c.finished.Swap(true) {
		if abort {
			cerr = c.t.Abort()
		} else {
			cerr = c.t.Close()
		}
		for {
			s := c.State()
			if s == Closed || c.state.CompareAndSwap(int32(s), int32(Closed)) {
				if h := c.cfg.hooks; s != Closed && h != nil && h.onStateChange != nil {
					h.onStateChange(c, s, Closed)
				}
				break
			}
		}
		if h := c.cfg.hooks; h != nil && h.onClose != nil {
			h.onClose(c, c.Err())
		}
	}
	return cerr
}
