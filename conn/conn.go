package conn

import (
	"errors"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/bufpool"
	"github.com/rfc6455/websocket/internal/defaults"
)

// Errors returned by Conn.
var (
	// ErrCloseSent is returned by WriteFrame for a data frame once a close
	// frame has been written: RFC 6455 §5.5.1 forbids data after it.
	ErrCloseSent = errors.New("websocket: close frame already sent")
	// ErrInterrupted is returned by WaitReadable after Interrupt.
	ErrInterrupted = errors.New("websocket: wait interrupted")
	// ErrWouldBlock is what the reading methods return when the
	// connection's Transport is non-blocking (Evented) and has no bytes
	// ready. It is not an error of the connection: whoever owns the
	// transport calls the reader again when bytes arrive, and the next
	// read continues where this one stopped.
	ErrWouldBlock = errors.New("websocket: no bytes ready")
)

// errNotOpen is returned when a Conn is used before Open: a programming
// error (a Conn from the root package is always open), which nobody needs
// to match.
var errNotOpen = errors.New("websocket: connection not open")

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
	// offending payload is read. Default 1 MiB.
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
	// goroutine that caused it (a Conn is created in Connecting, which is
	// not a change). It must not block.
	OnStateChange func(c *Conn, from, to State)

	// OnClose, if set, is called once when the connection reaches Closed,
	// with the first error that ended it (nil for a clean Close).
	OnClose func(c *Conn, err error)
}

func (cfg *Config) readBufferSize() int {
	if cfg == nil || cfg.ReadBufferSize <= 0 {
		return defaults.ReadBufferSize
	}
	return cfg.ReadBufferSize
}

func (cfg *Config) writeBufferSize() int {
	if cfg == nil || cfg.WriteBufferSize <= 0 {
		return defaults.WriteBufferSize
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
	rpb  *bufpool.Buffer // the pooled buffer rbuf lives in, if any
	r, w int
	rerr error        // sticky read error
	rdl  atomic.Int64 // the read deadline set, unix nanos, 0 for none

	// Write side, guarded by wmu.
	wbuf *bufpool.Buffer // held only while a batch is being written
	werr error           // sticky write error
	keys *maskKeys       // a client's random bytes for mask keys

	closeErr atomic.Pointer[error] // the first error that ended the connection
	stats    counters
	wmu      sync.Mutex
	pongEnd  uint64 // where the last pong ends in the stream of bytes written; wmu

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
	flooded   bool // a ping went unanswered: the next refill pauses first (fillOnce); reader
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
	pingsUnanswered         atomic.Uint64
}

// Stats is a snapshot of a connection's counters.
type Stats struct {
	BytesIn     uint64 // bytes read from the socket
	BytesOut    uint64 // bytes written to the socket
	FramesIn    uint64 // frame headers read
	FramesOut   uint64 // frames written
	MessagesIn  uint64 // final frames of data messages read
	MessagesOut uint64 // final frames of data messages written
	// PingsUnanswered counts the peer's pings left without a pong
	// because the peer was not reading the pongs sent before (see
	// Conn.AnswerPing).
	PingsUnanswered uint64
	// Since is when the connection opened; Uptime is the time since.
	Since  time.Time
	Uptime time.Duration
}

// New returns a Conn over nc in state Connecting: the caller runs the opening
// handshake on nc, then calls Open (or Abort when the handshake fails). cfg
// may be nil. It is NewTransport(newStream(nc), role, cfg): a blocking
// stream that holds a read buffer while it waits.
func New(nc net.Conn, role Role, cfg *Config) *Conn {
	return NewTransport(newStream(nc), role, cfg)
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
	maxMsg := limit(cfg.MaxMessageSize, defaults.MaxMessageSize)
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
	c.state.Store(int32(Connecting)) // created so: no change to report
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
		return errNotOpen
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
func (c *Conn) AfterFunc(d time.Duration, f func()) interface {
	Reset(d time.Duration) bool
	Stop() bool
} {
	return c.t.AfterFunc(d, f)
}

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.t.LocalAddr() }

// RemoteAddr returns the remote network address.
func (c *Conn) RemoteAddr() net.Addr { return c.t.RemoteAddr() }

// SetReadDeadline sets the deadline for reads. A read that times out
// returns an error for which os.IsTimeout holds and leaves the connection
// usable: the next read continues where this one stopped. Once the
// connection is closed it returns net.ErrClosed and leaves the stream
// alone (a lingering close keeps its own deadline).
func (c *Conn) SetReadDeadline(t time.Time) error {
	if c.finished.Load() {
		return net.ErrClosed
	}
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
	if c.finished.Load() {
		return // closed: no reader to wake, and a lingering close's deadline stands
	}
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

// ReadDeadline returns the deadline last set with SetReadDeadline, or the
// zero Time for none. A reader that bounds a read of its own with a
// deadline puts this one back afterwards.
func (c *Conn) ReadDeadline() time.Time { return c.readDeadline() }

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

		PingsUnanswered: c.stats.pingsUnanswered.Load(),
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
	if !canTransition(from, to) || !c.state.CompareAndSwap(int32(from), int32(to)) {
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
