package session

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/deflate"
	"github.com/rfc6455/websocket/internal/stack"
	"github.com/rfc6455/websocket/internal/utf8"
	"github.com/rfc6455/websocket/pool"
)

// MessageType is the type of a data message.
type MessageType uint8

const (
	// Text is a message of UTF-8 text.
	Text MessageType = MessageType(frame.OpText)
	// Binary is a message of bytes.
	Binary MessageType = MessageType(frame.OpBinary)
)

// String returns "text" or "binary".
func (t MessageType) String() string {
	switch t {
	case Text:
		return "text"
	case Binary:
		return "binary"
	}
	return "messagetype(" + strconv.Itoa(int(t)) + ")"
}

// Defaults used when an Options field is zero.
const (
	DefaultCloseTimeout = 5 * time.Second
	DefaultFragmentSize = 1 << 20
)

// Errors returned by a Session.
var (
	// ErrPongTimeout ends a session whose peer did not answer a ping
	// within Options.PongTimeout.
	ErrPongTimeout = errors.New("websocket: pong timeout")
	// ErrIdleTimeout ends a session that carried no data either way for
	// Options.IdleTimeout.
	ErrIdleTimeout = errors.New("websocket: idle timeout")
	// ErrMessageType is returned for a message type other than Text or Binary.
	ErrMessageType = errors.New("websocket: invalid message type")
	// ErrWriterClosed is returned by a NextWriter stream used after Close.
	ErrWriterClosed = errors.New("websocket: message writer closed")
	// ErrEventLoop is returned by the reading methods of a session that
	// an event loop serves (see ServeReady): the loop does the reading.
	ErrEventLoop = errors.New("websocket: an event loop reads this connection")

	errCloseTimeout = errors.New("websocket: close handshake timed out")
)

// CloseError reports how a session ended: the close code and reason the
// peer sent (or, for Code 1006, that the connection dropped without a close
// frame; Err then holds the cause). Use errors.As to get it.
type CloseError struct {
	Code   frame.StatusCode
	Reason string
	Err    error // the underlying cause for an abnormal closure
}

func (e *CloseError) Error() string {
	s := "websocket: closed with " + e.Code.String()
	if e.Reason != "" {
		s += ": " + strconv.Quote(e.Reason)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying cause, if any.
func (e *CloseError) Unwrap() error { return e.Err }

// Options configures a Session. A nil *Options gives the defaults.
type Options struct {
	// FragmentSize is the largest frame payload a message is sent in;
	// longer messages are split. Default 1 MiB. Smaller values let pings
	// through sooner during long messages; each frame costs 2-14 bytes.
	FragmentSize int

	// PingInterval, if positive, sends a ping that often; the pong must
	// arrive within PongTimeout or the session ends with ErrPongTimeout.
	// Default 0: no heartbeat. The pong is only seen by an active reader
	// (Serve or a ReadMessage loop).
	PingInterval time.Duration

	// PongTimeout is how long a ping may stay unanswered. Default
	// PingInterval.
	PongTimeout time.Duration

	// IdleTimeout, if positive, closes the session (1000, "idle timeout")
	// once no byte went either way for that long. Default 0: never.
	IdleTimeout time.Duration

	// CloseTimeout bounds the close handshake: how long Close waits for
	// the peer's close frame, and a client for the server to close TCP.
	// Default 5 s.
	CloseTimeout time.Duration

	// OnMessage receives each message in push style (Serve). data is
	// valid only during the call.
	OnMessage func(s *Session, typ MessageType, data []byte)

	// OnPing and OnPong, if set, see the payload of each ping and pong
	// received, during the read that found them. They must not block.
	OnPing, OnPong func(s *Session, payload []byte)

	// OnClose, if set, is called once when the session has ended, with a
	// *CloseError (the peer's close code, or 1006 with the cause).
	OnClose func(s *Session, err error)

	// Subprotocol is the subprotocol the opening handshake agreed on,
	// reported by Subprotocol. The handshake code sets it.
	Subprotocol string

	// SendQueueSize is how many messages Enqueue may hold for the
	// session's writer goroutine. Default 0: no queue, Enqueue writes
	// synchronously. A queue lets a broadcaster hand a message to many
	// sessions without waiting for any one of them; each slot costs a few
	// words, plus the messages it holds.
	SendQueueSize int

	// SlowPolicy is what Enqueue does when the queue is full. Default
	// PolicyBlock.
	SlowPolicy SlowPolicy

	// SlowTimeout is how long PolicyBlock waits for room, and how long
	// PolicyClose lets the close frame take to get out before the
	// connection is dropped. Default DefaultSlowTimeout (5 s).
	SlowTimeout time.Duration

	// SlowCloseCode is the close code PolicyClose sends: 1013 (try again
	// later) or 1008 (policy violation). Default 1013.
	SlowCloseCode frame.StatusCode

	// Compression, if not nil, is the permessage-deflate agreement of the
	// opening handshake: messages are compressed and decompressed as it
	// says. The handshake code sets it.
	Compression *Compression
}

var lastID atomic.Uint64

// WithDefaults returns a copy of o (which may be nil) with the defaults
// filled in: CloseTimeout, FragmentSize, PongTimeout, SlowTimeout and
// SlowCloseCode. A server that opens many sessions with the same options
// completes them once and passes the result to New for each.
func (o *Options) WithDefaults() *Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.CloseTimeout <= 0 {
		c.CloseTimeout = DefaultCloseTimeout
	}
	if c.FragmentSize <= 0 {
		c.FragmentSize = DefaultFragmentSize
	}
	if c.PingInterval > 0 && c.PongTimeout <= 0 {
		c.PongTimeout = c.PingInterval
	}
	if c.SlowTimeout <= 0 {
		c.SlowTimeout = DefaultSlowTimeout
	}
	if c.SlowCloseCode == 0 || !c.SlowCloseCode.ValidOnWire() {
		c.SlowCloseCode = frame.StatusTryAgainLater
	}
	return &c
}

// complete reports whether WithDefaults would change nothing.
func (o *Options) complete() bool {
	return o.CloseTimeout > 0 && o.FragmentSize > 0 &&
		(o.PingInterval <= 0 || o.PongTimeout > 0) &&
		o.SlowTimeout > 0 && o.SlowCloseCode != 0 && o.SlowCloseCode.ValidOnWire()
}

// Session is a WebSocket connection at the message level. See the package
// documentation for the concurrency contract.
type Session struct {
	c    *conn.Conn
	opts *Options // complete (WithDefaults), shared with other sessions
	id   uint64

	// Read side, guarded by readMu.
	readMu   sync.Mutex
	inFrame  bool // a data frame's header was read, its payload is pending
	fin      bool // that frame is the message's last
	msgType  MessageType
	streamOn bool // a NextReader stream is open
	utf8     utf8.Validator
	partial  *pool.Buffer // message bytes read before a cancelled read returned, if any
	readErr  error        // sticky: the session ended

	// Write side: msgMu keeps whole messages together.
	msgMu sync.Mutex

	// Context cancellation, turned into deadlines: rwatch set under
	// readMu, wwatch under msgMu; made for the first context that can be
	// cancelled (see readWatch).
	rwatch, wwatch atomic.Pointer[deadlineWatch]

	// Close handshake.
	closeMu     sync.Mutex
	closeSentAt atomic.Int64  // unix nanos
	result      error         // *CloseError, set once
	done        chan struct{} // made by Done when first asked, guarded by closeMu
	closeOnce   sync.Once

	hb *heartbeat // nil without PingInterval, PongTimeout or IdleTimeout

	data map[any]any

	q    *sendQueue            // nil without Options.SendQueueSize
	comp *compression          // nil without permessage-deflate
	mgr  *Manager              // a manager holding the session, guarded by closeMu
	mgrs map[*Manager]struct{} // any others, guarded by closeMu

	det     *detached // ServeDetached's state, nil without it
	msgHint int32     // the serving loop's last message buffer size

	// ServeReady: the message that is arriving, held only while it is.
	lmsg *pool.Buffer

	owner any // the value that embeds the session (see Init), or nil

	// Flags kept together, which every session carries, to save padding.
	closeSent bool // guarded by closeMu
	gone      bool // the session ended: no more managers, guarded by closeMu
	ended     bool // the session ended: Done is closed, guarded by closeMu
}

// New returns a Session over c, which must be open (conn.Connected). opts
// may be nil. Options that are complete (see WithDefaults) are kept as
// they are, and may be shared by many sessions, which saves every session
// a copy; others are copied and completed. Either way, opts must not be
// modified after New.
func New(c *conn.Conn, opts *Options) *Session {
	s := &Session{c: c, id: lastID.Add(1)}
	if opts == nil || !opts.complete() {
		opts = opts.WithDefaults()
	}
	s.opts = opts
	if c := s.opts.Compression; c != nil {
		s.comp = newCompression(c)
		s.comp.src.s = s
	}
	s.initQueue()
	s.startHeartbeat()
	return s
}

// ID returns the session's identifier, unique within the process.
func (s *Session) ID() uint64 { return s.id }

// Conn returns the underlying connection (for its stats and addresses).
func (s *Session) Conn() *conn.Conn { return s.c }

// State returns the connection state: Connected, Closing or Closed.
func (s *Session) State() conn.State { return s.c.State() }

// Subprotocol returns the subprotocol agreed in the opening handshake, or "".
func (s *Session) Subprotocol() string { return s.opts.Subprotocol }

// RTT returns the round-trip time measured by the last ping answered, or 0.
func (s *Session) RTT() time.Duration {
	if s.hb == nil {
		return 0
	}
	return time.Duration(s.hb.rtt.Load())
}

// Done returns a channel closed when the session has ended.
func (s *Session) Done() <-chan struct{} {
	// Made on demand: most sessions are never asked, and a channel
	// costs every idle connection 96 bytes.
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.done == nil {
		s.done = make(chan struct{})
		if s.ended {
			close(s.done)
		}
	}
	return s.done
}

// Err returns how the session ended (a *CloseError), or nil while it runs.
func (s *Session) Err() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.ended {
		return s.result
	}
	return nil
}

// Set stores value under key in the session's user data.
func (s *Session) Set(key, value any) {
	s.closeMu.Lock()
	if s.data == nil {
		s.data = make(map[any]any)
	}
	s.data[key] = value
	s.closeMu.Unlock()
}

// Get returns the value stored under key.
func (s *Session) Get(key any) (any, bool) {
	s.closeMu.Lock()
	v, ok := s.data[key]
	s.closeMu.Unlock()
	return v, ok
}

// Delete removes key from the session's user data.
func (s *Session) Delete(key any) {
	s.closeMu.Lock()
	delete(s.data, key)
	s.closeMu.Unlock()
}

// ---------------------------------------------------------------------------
// Reading

// ReadMessage reads the next whole message into a new slice.
func (s *Session) ReadMessage(ctx context.Context) (MessageType, []byte, error) {
	return s.AppendMessage(ctx, nil)
}

// AppendMessage reads the next whole message and appends it to dst. With a
// dst that has room, reading does not allocate.
func (s *Session) AppendMessage(ctx context.Context, dst []byte) (MessageType, []byte, error) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if s.readErr != nil {
		return 0, dst, s.readErr
	}
	if s.streamOn {
		return 0, dst, errors.New("websocket: AppendMessage while a NextReader stream is open")
	}
	if s.c.Evented() {
		return 0, dst, ErrEventLoop
	}
	if err := ctx.Err(); err != nil {
		return 0, dst, err
	}
	s.readWatch(ctx)
	base := len(dst)
	if s.partial != nil {
		dst = append(dst, s.partial.B...)
		pool.PutBuffer(s.partial)
		s.partial = nil
	}
	typ, dst, err := s.readMessage(ctx, dst, base)
	if err != nil {
		return 0, s.stash(dst, base), err
	}
	return typ, dst, nil
}

// readMessage reads the rest of a message whose first bytes, if any, are
// dst[base:], and appends it to dst. On an error after which reading may
// go on (a cancelled context, conn.ErrWouldBlock) dst keeps what arrived.
// readMu is held.
func (s *Session) readMessage(ctx context.Context, dst []byte, base int) (MessageType, []byte, error) {
	for {
		if !s.inFrame {
			if err := s.nextDataFrame(); err != nil {
				return 0, dst, s.readError(ctx, err)
			}
		}
		if s.comp != nil && s.comp.inMsg {
			// The compressed bytes wait in s.comp across cancelled reads.
			if err := s.readCompressed(); err != nil {
				return 0, dst[:base], s.readError(ctx, err)
			}
			s.inFrame = false
			if !s.fin {
				continue
			}
			dst, err := s.inflate(dst, base)
			if err != nil {
				return 0, dst, err
			}
			return s.msgType, dst, nil
		}
		for s.c.Remaining() > 0 {
			if len(dst) == cap(dst) {
				grow := int(min(s.c.Remaining(), int64(max(512, cap(dst)))))
				dst = append(dst, make([]byte, grow)...)[:len(dst)]
			}
			n, err := s.c.Read(dst[len(dst):cap(dst)])
			chunk := dst[len(dst) : len(dst)+n]
			dst = dst[:len(dst)+n]
			if s.msgType == Text && !s.utf8.Write(chunk) {
				return 0, dst[:base], s.fail(frame.StatusInvalidFramePayloadData, "invalid UTF-8 in text message")
			}
			if err != nil && err != io.EOF {
				return 0, dst, s.readError(ctx, err)
			}
		}
		s.inFrame = false
		if s.fin {
			if s.msgType == Text && !s.utf8.Complete() {
				return 0, dst[:base], s.fail(frame.StatusInvalidFramePayloadData, "text message ends inside a UTF-8 sequence")
			}
			return s.msgType, dst, nil
		}
	}
}

// stash keeps the bytes of a message that a cancelled read had collected,
// for the next read to continue with, unless the session ended.
func (s *Session) stash(dst []byte, base int) []byte {
	if s.readErr == nil && len(dst) > base {
		s.partial = pool.GetBuffer(len(dst) - base)
		s.partial.B = append(s.partial.B, dst[base:]...)
	}
	return dst[:base]
}

// nextDataFrame reads frame headers, handling control frames, until the
// header of a data frame arrives; then it sets up the read state for it.
func (s *Session) nextDataFrame() error {
	for {
		h, err := s.c.NextFrame()
		if err != nil {
			return err
		}
		if h.Opcode.IsControl() {
			if err := s.control(h); err != nil {
				return err
			}
			continue
		}
		if h.Opcode != frame.OpContinuation {
			// The decoder has checked that no message was in progress,
			// and that RSV1 is set only when compression was agreed.
			s.msgType = MessageType(h.Opcode)
			s.utf8.Reset()
			if s.comp != nil {
				s.comp.inMsg = h.Rsv&frame.Rsv1 != 0
			}
		}
		s.inFrame = true
		s.fin = h.Fin
		return nil
	}
}

// control handles a control frame whose header was just read.
func (s *Session) control(h frame.Header) error {
	// Control frames are rare: their payload goes to a pooled buffer rather
	// than one that every session carries.
	b := pool.GetBuffer(frame.MaxControlPayload)
	defer pool.PutBuffer(b)
	p, err := s.c.ReadPayload(b.B[:0])
	if err != nil {
		return err
	}
	switch h.Opcode {
	case frame.OpPing:
		if f := s.opts.OnPing; f != nil {
			f(s, p)
		}
		// After our close frame no pong may follow; the error is moot.
		if err := s.c.WriteFrame(frame.OpPong, true, 0, p); err != nil && !errors.Is(err, conn.ErrCloseSent) {
			return err
		}
	case frame.OpPong:
		s.gotPong(p)
		if f := s.opts.OnPong; f != nil {
			f(s, p)
		}
	case frame.OpClose:
		return s.gotClose(p)
	}
	return nil
}

// gotClose runs our side of the close handshake after the peer's close
// frame, and returns the *CloseError that ends the session.
func (s *Session) gotClose(p []byte) error {
	code, reason, err := frame.ParseClosePayload(p)
	if err != nil {
		return err // a *frame.ProtocolError: readError fails the session
	}
	// Echo the peer's code; an empty close gets an empty close back.
	s.sendClose(code, "")
	cerr := &CloseError{Code: code, Reason: reason}
	s.setResult(cerr)
	s.finishClose()
	return cerr
}

// finishClose ends the TCP connection once both close frames have passed:
// a server closes it now, a client waits (bounded) for the server to.
func (s *Session) finishClose() {
	if s.c.Role() == conn.Client {
		s.c.SetReadDeadline(time.Now().Add(s.opts.CloseTimeout))
		for {
			if _, err := s.c.NextFrame(); err != nil {
				break
			}
		}
	}
	s.end(nil, false)
}

// readError turns an error from the connection into what the reader
// returns, ending the session unless the error is a cancelled context's.
func (s *Session) readError(ctx context.Context, err error) error {
	err = s.classifyReadError(ctx, err)
	if s.readErr != nil {
		// The read side is over: its buffer goes back to the pool now,
		// not to the garbage collector with the connection.
		s.c.ReleaseReadBuffer()
	}
	return err
}

// classifyReadError is readError without the release.
func (s *Session) classifyReadError(ctx context.Context, err error) error {
	if err == conn.ErrWouldBlock && s.readErr == nil {
		return err // an event loop calls ServeReady again when bytes arrive
	}
	if ce, ok := err.(*CloseError); ok && ce.Err == nil && s.readErr == nil {
		// The peer's close frame, the usual end: no cause to unwrap, so
		// no need for the errors.As walks below.
		s.readErr = ce
		return ce
	}
	if isTimeout(err) && s.readErr == nil {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
	}
	if s.readErr != nil {
		return s.readErr
	}
	var pe *frame.ProtocolError
	if errors.As(err, &pe) {
		return s.fail(pe.Code, pe.Reason)
	}
	var ce *CloseError
	if errors.As(err, &ce) {
		s.readErr = ce
		return ce
	}
	// The connection dropped without a close handshake.
	s.end(err, true)
	s.readErr = s.result
	return s.readErr
}

// fail sends a close frame with code and closes the connection: the peer
// broke the protocol (RFC 6455 §7.1.7).
func (s *Session) fail(code frame.StatusCode, reason string) error {
	cerr := &CloseError{Code: code, Reason: reason, Err: &frame.ProtocolError{Code: code, Reason: reason}}
	s.sendClose(code, reason)
	s.setResult(cerr)
	s.readErr = cerr
	if s.c.Role() == conn.Client {
		// Let the server close TCP first (RFC 6455 §7.1.1), within the
		// close timeout.
		s.c.SetReadDeadline(time.Now().Add(s.opts.CloseTimeout))
		for {
			if _, err := s.c.NextFrame(); err != nil {
				break
			}
		}
	}
	s.end(nil, false)
	return cerr
}

func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Serve reads messages until the session ends, handing each to
// Options.OnMessage (which may be nil to discard them). It returns nil when
// the session ended with a close handshake and the cause otherwise; how it
// ended is in Err.
//
// While frames that have already arrived wait in the read buffer, writes
// are held (conn.Conn.CorkUntilRead) and go out together when Serve next
// waits for the socket: replies to a batch of pipelined messages cost one
// system call, and the added latency is at most the time OnMessage takes
// for the messages already received. Call Flush to send at once.
func (s *Session) Serve(ctx context.Context) error {
	var buf []byte
	defer s.releaseWrites()
	for {
		s.waitReadable(ctx)
		typ, data, err := s.AppendMessage(ctx, buf[:0])
		if err != nil {
			return serveResult(err)
		}
		if f := s.opts.OnMessage; f != nil {
			s.corkIfMore()
			f(s, typ, data)
		}
		if cap(data) <= 1<<20 {
			buf = data // keep a reasonable buffer for the next message
		}
	}
}

// ServeDetached serves the session like Serve, but on goroutines of its
// own, and returns at once; done, if not nil, is called with what Serve
// would have returned once the session has ended.
//
// It is for servers holding many mostly idle connections. A goroutine's
// stack grows while it handles messages and does not shrink back while it
// waits; so when the session runs out of bytes on a grown stack, it moves
// to a fresh goroutine with a minimal stack, at most once a second, and
// otherwise once it has waited through a second or two; it holds no
// message buffer while it waits. A busy session moves at most once a
// second, which costs a goroutine start.
func (s *Session) ServeDetached(ctx context.Context, done func(error)) {
	s.det = new(detached)
	watchDetached(s)
	go s.serveHop(ctx, func(err error) {
		unwatchDetached(s)
		if done != nil {
			done(err)
		}
	})
}

func (s *Session) serveHop(ctx context.Context, done func(error)) {
	// The runtime moves a stack to grow it. Comparing a local's address
	// now and later tells whether this goroutine's stack grew, without
	// asking the runtime.
	var marker byte
	start := uintptr(unsafe.Pointer(&marker))
	var msg *pool.Buffer
	for {
		if s.readIdle() {
			if msg != nil {
				pool.PutBuffer(msg) // idle: hold no message buffer
				msg = nil
			}
			if start == uintptr(unsafe.Pointer(&marker)) {
				s.waitReadable(ctx)
			} else if e := janitorEpoch.Load() + 1; e != s.det.moveEpoch {
				// The first time in a tick, move at once: a session
				// that handles a message now and then never holds a
				// grown stack, and one that is busy moves at most once
				// a tick.
				s.det.moveEpoch = e
				stackMoves.Add(1)
				go s.serveHop(ctx, done)
				return
			} else if s.parkGrown(ctx) {
				// Idle long enough on a grown stack: go on from a fresh one.
				stackMoves.Add(1)
				go s.serveHop(ctx, done)
				return
			}
		}
		if start == uintptr(unsafe.Pointer(&marker)) {
			// Work ahead, on a fresh stack too small for reading and
			// answering a message: grow it now, while it is shallow.
			stack.Grow()
		}
		if msg == nil {
			// Sized like the last message, so that a stream of large
			// messages does not regrow a small buffer every batch.
			msg = pool.GetBuffer(max(512, int(s.msgHint)))
		}
		typ, data, err := s.AppendMessage(ctx, msg.B[:0])
		if err != nil {
			s.releaseWrites()
			pool.PutBuffer(msg)
			done(serveResult(err))
			return
		}
		if f := s.opts.OnMessage; f != nil {
			s.corkIfMore()
			f(s, typ, data)
		}
		msg.B = data[:0] // grown for a large message: the pool files it by size
		s.msgHint = int32(min(cap(data), 4<<20))
	}
}

// ServeReady handles everything an event loop's connection has ready
// (conn.Conn.Evented): it reads without waiting, hands each whole message
// to Options.OnMessage, and returns when it would have to wait. The loop
// calls it whenever bytes arrive (or a deadline passes). It reports
// whether the session has ended, and then what Serve would return.
//
// Replies written by OnMessage are held until the batch is handled, as
// in Serve. A message still arriving is kept in a pooled buffer between
// calls; an idle session holds none. Only the loop may call it.
func (s *Session) ServeReady() (ended bool, err error) {
	defer s.releaseWrites()
	for {
		if s.lmsg == nil {
			s.lmsg = pool.GetBuffer(max(512, int(s.msgHint)))
		}
		s.readMu.Lock()
		var (
			typ  MessageType
			data []byte
		)
		if s.readErr != nil {
			err = s.readErr
		} else {
			typ, data, err = s.readMessage(context.Background(), s.lmsg.B, 0)
		}
		s.readMu.Unlock()
		if err != nil {
			if err == conn.ErrWouldBlock && len(data) > 0 {
				s.lmsg.B = data // the start of a message: keep it
				return false, nil
			}
			pool.PutBuffer(s.lmsg)
			s.lmsg = nil
			if err == conn.ErrWouldBlock {
				return false, nil
			}
			return true, serveResult(err)
		}
		if f := s.opts.OnMessage; f != nil {
			s.corkIfMore()
			f(s, typ, data)
		}
		s.lmsg.B = data[:0] // grown for a large message: the pool files it by size
		s.msgHint = int32(min(cap(data), 4<<20))
	}
}

// detached is the state of a ServeDetached loop that the janitor sees:
// parked is set while the loop waits for bytes on a stack that has grown;
// parkSeq counts such waits, and kickSeen is the count the janitor saw at
// its last tick.
type detached struct {
	parkSeq, kickSeen atomic.Uint32
	moveEpoch         uint32 // janitorEpoch+1 when the loop last moved
	parked            atomic.Bool
}

// parkGrown waits for bytes like waitReadable, where the janitor can see
// it, and reports whether the janitor interrupted the wait.
func (s *Session) parkGrown(ctx context.Context) bool {
	s.det.parkSeq.Add(1)
	s.det.parked.Store(true)
	err := s.waitReadable(ctx)
	s.det.parked.Store(false)
	return err == conn.ErrInterrupted
}

// The janitor wakes detached sessions that have waited on grown stacks
// through a whole tick, so that they move to fresh ones. One goroutine
// serves the process; it runs while detached sessions exist.
const janitorTick = time.Second

// stackMoves counts the moves to fresh goroutines, for tests.
var stackMoves atomic.Int64

// janitorEpoch counts the janitor's ticks.
var janitorEpoch atomic.Uint32

var janitor struct {
	mu       sync.Mutex
	sessions map[*Session]struct{}
	running  bool
}

func watchDetached(s *Session) {
	janitor.mu.Lock()
	defer janitor.mu.Unlock()
	if janitor.sessions == nil {
		janitor.sessions = make(map[*Session]struct{})
	}
	janitor.sessions[s] = struct{}{}
	if !janitor.running {
		janitor.running = true
		go runJanitor()
	}
}

func unwatchDetached(s *Session) {
	janitor.mu.Lock()
	delete(janitor.sessions, s)
	janitor.mu.Unlock()
}

func runJanitor() {
	t := time.NewTicker(janitorTick)
	defer t.Stop()
	for range t.C {
		janitorEpoch.Add(1)
		janitor.mu.Lock()
		if len(janitor.sessions) == 0 {
			janitor.running = false
			janitor.mu.Unlock()
			return
		}
		for s := range janitor.sessions {
			// Parked since the last tick: the same wait, a tick long.
			if s.det.parked.Load() {
				if seq := s.det.parkSeq.Load(); s.det.kickSeen.Swap(seq) == seq {
					s.c.Interrupt()
				}
			}
		}
		janitor.mu.Unlock()
	}
}

// serveResult is what Serve returns for the error that ended its loop.
func serveResult(err error) error {
	var ce *CloseError
	if errors.As(err, &ce) && ce.Code != frame.StatusAbnormalClosure && ce.Err == nil {
		return nil
	}
	return err
}

// readIdle reports whether the reader has nothing buffered and nothing
// half read: the next read would wait for the socket.
func (s *Session) readIdle() bool {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	return s.betweenMessagesLocked() && s.c.Buffered() == 0
}

// betweenMessagesLocked reports whether the reader is between messages,
// with nothing half read and the session alive. readMu is held.
func (s *Session) betweenMessagesLocked() bool {
	return s.readErr == nil && !s.inFrame && !s.streamOn && s.partial == nil
}

// corkIfMore holds writes while more frames wait in the read buffer (see
// Serve). The read state is the reader's, and Close may read too: readMu.
func (s *Session) corkIfMore() {
	s.readMu.Lock()
	if s.c.Buffered() > 0 {
		s.c.CorkUntilRead()
	}
	s.readMu.Unlock()
}

// releaseWrites ends the hold of corkIfMore, under readMu like it.
func (s *Session) releaseWrites() {
	s.readMu.Lock()
	s.c.ReleaseWrites()
	s.readMu.Unlock()
}

// waitReadable parks an idle Serve loop with a shallow stack, so that the
// runtime can shrink the stacks of idle connections. Errors are left for
// AppendMessage to meet and report; waitReadable returns them only so
// that a detached loop can tell an interruption.
func (s *Session) waitReadable(ctx context.Context) error {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if s.betweenMessagesLocked() && ctx.Err() == nil {
		s.readWatch(ctx)
		return s.c.WaitReadable()
	}
	return nil
}

// NextReader returns the type of the next message and a reader for its
// payload, for messages too large to hold in memory. The reader must be read
// to io.EOF (or the session closed) before the next read call. Control
// frames are handled while it is read.
func (s *Session) NextReader(ctx context.Context) (MessageType, io.Reader, error) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if s.readErr != nil {
		return 0, nil, s.readErr
	}
	if s.streamOn || s.inFrame || s.partial != nil {
		return 0, nil, errors.New("websocket: NextReader while a message is being read")
	}
	if s.c.Evented() {
		return 0, nil, ErrEventLoop
	}
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	s.readWatch(ctx)
	err := s.nextDataFrame()
	if err != nil {
		return 0, nil, s.readError(ctx, err)
	}
	s.streamOn = true
	if z := s.comp; z != nil && z.inMsg {
		z.out = 0
		s.decompressor().Start(&z.src)
	}
	return s.msgType, &messageReader{s: s, ctx: ctx}, nil
}

type messageReader struct {
	s   *Session
	ctx context.Context
	eof bool
}

func (r *messageReader) Read(p []byte) (int, error) {
	s := r.s
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if r.eof {
		return 0, io.EOF
	}
	if s.readErr != nil {
		return 0, s.readErr
	}
	s.readWatch(r.ctx)
	if s.comp != nil && s.comp.inMsg {
		return s.readStream(r, p)
	}
	for {
		if s.c.Remaining() > 0 {
			n, err := s.c.Read(p)
			if s.msgType == Text && !s.utf8.Write(p[:n]) {
				return 0, s.fail(frame.StatusInvalidFramePayloadData, "invalid UTF-8 in text message")
			}
			if err != nil && err != io.EOF {
				return n, s.readError(r.ctx, err)
			}
			if n > 0 || len(p) == 0 {
				return n, nil
			}
		}
		s.inFrame = false
		if s.fin {
			if s.msgType == Text && !s.utf8.Complete() {
				return 0, s.fail(frame.StatusInvalidFramePayloadData, "text message ends inside a UTF-8 sequence")
			}
			r.eof = true
			s.streamOn = false
			return 0, io.EOF
		}
		if err := s.nextDataFrame(); err != nil {
			return 0, s.readError(r.ctx, err)
		}
	}
}

// ---------------------------------------------------------------------------
// Writing

// WriteMessage sends data as one message of type typ, split into frames of
// at most Options.FragmentSize. Text must be valid UTF-8.
func (s *Session) WriteMessage(ctx context.Context, typ MessageType, data []byte) error {
	if typ != Text && typ != Binary {
		return ErrMessageType
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.msgMu.Lock()
	defer s.msgMu.Unlock()
	s.writeWatch(ctx)
	return s.writeError(ctx, s.writeFrames(frame.Opcode(typ), data))
}

// SendText sends a text message. text must be valid UTF-8.
func (s *Session) SendText(ctx context.Context, text string) error {
	// The connection never writes to a payload (a client masks a copy), so
	// the string's bytes can be passed without a copy.
	return s.WriteMessage(ctx, Text, unsafe.Slice(unsafe.StringData(text), len(text)))
}

// SendBinary sends a binary message.
func (s *Session) SendBinary(ctx context.Context, data []byte) error {
	return s.WriteMessage(ctx, Binary, data)
}

// Ping sends a ping with payload (at most 125 bytes). The pong arrives
// through the reader (Options.OnPong).
func (s *Session) Ping(ctx context.Context, payload []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	defer s.watchWrite(ctx)()
	return s.writeError(ctx, s.c.WriteFrame(frame.OpPing, true, 0, payload))
}

// watchWrite makes a cancelled ctx interrupt one blocked write (Ping, which
// does not hold msgMu and so cannot use wwatch). A write interrupted half
// way fails the connection.
func (s *Session) watchWrite(ctx context.Context) func() {
	if ctx.Done() == nil {
		return func() {}
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		s.c.SetWriteDeadline(aLongTimeAgo)
		close(fired)
	})
	return func() {
		if !stop() {
			<-fired
		}
	}
}

func (s *Session) writeError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if isTimeout(err) && ctx.Err() != nil {
		err = ctx.Err()
	}
	if errors.Is(err, conn.ErrCloseSent) {
		if r := s.Err(); r != nil {
			return r
		}
		return err
	}
	s.end(err, true)
	return err
}

// NextWriter returns a writer for a message of type typ, sent in frames of
// Options.FragmentSize as the writer fills; Close sends the last frame.
// Other messages wait until the writer is closed.
func (s *Session) NextWriter(ctx context.Context, typ MessageType) (io.WriteCloser, error) {
	if typ != Text && typ != Binary {
		return nil, ErrMessageType
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.msgMu.Lock()
	w := &messageWriter{s: s, ctx: ctx, op: frame.Opcode(typ)}
	if s.compresses(math.MaxInt) {
		// The size is not known yet: the threshold does not apply.
		w.enc = s.compressor()
		w.zb = pool.GetBuffer(4096)
		w.rsv = frame.Rsv1
	}
	return w, nil
}

type messageWriter struct {
	s      *Session
	ctx    context.Context
	op     frame.Opcode
	rsv    uint8
	buf    []byte
	closed bool

	// With compression: the message's compressor and its output buffer.
	enc *deflate.Compressor
	zb  *pool.Buffer
}

func (w *messageWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, ErrWriterClosed
	}
	size := w.s.opts.FragmentSize
	n := len(p)
	for len(p) > 0 {
		// A full buffer goes out only once more data follows, so that the
		// last full fragment can still be the final frame.
		if len(w.buf) == size {
			if err := w.flush(false); err != nil {
				return n - len(p), err
			}
		}
		if w.buf == nil {
			w.buf = make([]byte, 0, min(size, max(len(p), 4096)))
		}
		k := min(size-len(w.buf), len(p))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
	}
	return n, nil
}

func (w *messageWriter) flush(fin bool) error {
	payload := w.buf
	if w.enc != nil {
		w.zb.B = w.enc.Append(w.zb.B[:0], w.buf, fin)
		payload = w.zb.B
		w.buf = w.buf[:0]
		if len(payload) == 0 && !fin {
			return nil // nothing to send yet
		}
	}
	w.s.writeWatch(w.ctx)
	err := w.s.c.WriteFrame(w.op, fin, w.rsv, payload)
	w.op, w.rsv = frame.OpContinuation, 0
	w.buf = w.buf[:0]
	return w.s.writeError(w.ctx, err)
}

// Close sends the message's final frame and lets other messages through.
func (w *messageWriter) Close() error {
	if w.closed {
		return ErrWriterClosed
	}
	w.closed = true
	defer w.s.msgMu.Unlock()
	err := w.flush(true)
	if w.enc != nil {
		w.s.releaseCompressor(w.enc)
		pool.PutBuffer(w.zb)
		w.enc, w.zb = nil, nil
	}
	return err
}

// Flush writes at once whatever frames are held in the write buffer (by
// Serve while it handles a batch of messages that arrived together).
func (s *Session) Flush() error { return s.c.Flush() }

// ---------------------------------------------------------------------------
// Closing

// Close runs the close handshake with code and reason (at most 123 bytes
// of UTF-8; longer reasons are cut): it sends a close frame, waits at most
// Options.CloseTimeout for the peer's close frame, and closes the
// connection. If a reader is active, it sees the peer's close frame and
// returns a *CloseError; otherwise Close reads (and discards) what arrives
// until the close frame does. Close is safe to call more than once and from
// any goroutine; later calls wait for the first to finish.
func (s *Session) Close(code frame.StatusCode, reason string) error {
	return s.close(code, reason)
}

func (s *Session) close(code frame.StatusCode, reason string) error {
	sent, err := s.sendClose(code, reason)
	if !sent {
		if !s.c.Evented() { // a loop must not wait for itself
			s.waitDone()
		}
		return nil
	}
	if err != nil {
		s.end(err, true)
		return err
	}
	deadline := time.Now().Add(s.opts.CloseTimeout)
	if s.c.Evented() {
		// The event loop reads the peer's close frame and ends the
		// session; the deadline bounds the wait, on the loop. Waiting
		// here could hold up the loop itself, which may be the caller.
		s.c.SetReadDeadline(deadline)
		return nil
	}
	if s.readMu.TryLock() {
		// No reader: read until the peer's close frame.
		s.c.SetReadDeadline(deadline)
		for s.readErr == nil {
			if err := s.nextDataFrame(); err != nil {
				s.readError(context.Background(), err)
				break
			}
			s.inFrame = false // discard the data frame's payload
		}
		s.readMu.Unlock()
	} else {
		// The active reader will run the handshake; bound its wait.
		s.c.SetReadDeadline(deadline)
		select {
		case <-s.Done():
		case <-time.After(time.Until(deadline)):
		}
	}
	s.end(nil, false)
	return nil
}

// sendClose sends a close frame unless one was sent already, and reports
// whether this call sent it.
func (s *Session) sendClose(code frame.StatusCode, reason string) (bool, error) {
	s.closeMu.Lock()
	if s.closeSent {
		s.closeMu.Unlock()
		return false, nil
	}
	s.closeSent = true
	s.closeMu.Unlock()
	s.closeSentAt.Store(time.Now().UnixNano())
	var buf [frame.MaxControlPayload]byte
	return true, s.c.WriteFrame(frame.OpClose, true, 0, frame.AppendClosePayload(buf[:0], code, reason))
}

// CloseNow closes the connection at once, without a close handshake.
func (s *Session) CloseNow() error {
	s.end(net.ErrClosed, true)
	return nil
}

// waitDone waits for a Close already under way. That one is bounded by
// CloseTimeout plus the connection's bounded flush; the extra second only
// keeps a second caller from giving up just before the first finishes.
func (s *Session) waitDone() {
	select {
	case <-s.Done():
	case <-time.After(s.opts.CloseTimeout + time.Second):
	}
}

func (s *Session) setResult(err error) {
	s.closeMu.Lock()
	if s.result == nil {
		s.result = err
	}
	s.closeMu.Unlock()
}

// end closes the connection, gracefully or not, records how the session
// ended (cause is the error behind an abnormal closure), stops the
// heartbeat and runs OnClose. Only the first call does anything.
func (s *Session) end(cause error, abort bool) {
	s.endFrom(cause, abort, false)
	// Outside closeOnce: the writer goroutine may be ending the session
	// itself, and it must not wait for its own exit.
	s.joinWriter()
}

func (s *Session) endFrom(cause error, abort, fromTimer bool) {
	if cause != nil {
		s.setResult(&CloseError{Code: frame.StatusAbnormalClosure, Err: cause})
	} else {
		s.setResult(&CloseError{Code: frame.StatusNoStatusReceived})
	}
	s.closeOnce.Do(func() {
		// The socket first: that unblocks a heartbeat stuck in a write.
		if abort {
			s.c.Abort(cause)
		} else {
			s.c.Close()
		}
		s.stopHeartbeat()
		if w := s.rwatch.Load(); w != nil {
			w.close()
		}
		if w := s.wwatch.Load(); w != nil {
			w.close()
		}
		s.leaveManagers() // before Done: a closed Done means unregistered
		s.closeMu.Lock()
		s.ended = true
		if s.done != nil {
			close(s.done)
		}
		s.closeMu.Unlock()
		if f := s.opts.OnClose; f != nil {
			f(s, s.result)
		}
	})
	// Join a heartbeat tick in progress outside closeOnce: the tick may
	// itself be waiting in closeOnce.Do to end the session, and must not
	// wait for its own exit.
	if !fromTimer && s.hb != nil {
		s.hb.running.Wait()
	}
}

// readWatch makes ctx the context whose cancellation interrupts reads
// (deadlineWatch); readMu is held.
func (s *Session) readWatch(ctx context.Context) {
	w := s.rwatch.Load()
	if w == nil {
		if ctx.Done() == nil {
			return // nothing to watch, and no watch to clear
		}
		w = &deadlineWatch{set: s.c.SetReadDeadline}
		s.rwatch.Store(w)
	}
	w.watch(ctx)
}

// writeWatch is readWatch for writes; msgMu is held.
func (s *Session) writeWatch(ctx context.Context) {
	w := s.wwatch.Load()
	if w == nil {
		if ctx.Done() == nil {
			return
		}
		w = &deadlineWatch{set: s.c.SetWriteDeadline}
		s.wwatch.Store(w)
	}
	w.watch(ctx)
}

// ---------------------------------------------------------------------------
// Heartbeat and idle timeout

// heartbeat is the state of a session's ping and idle timer, which only
// sessions with PingInterval, PongTimeout or IdleTimeout carry.
type heartbeat struct {
	mu          sync.Mutex
	timer       conn.Timer
	running     sync.WaitGroup
	tick        time.Duration
	pingSent    atomic.Int64 // unix nanos of the outstanding ping, 0 if none
	pingData    atomic.Uint64
	rtt         atomic.Int64
	idleSince   int64 // unix nanos
	lastTraffic uint64
	stopped     bool // guarded by mu
}

func (s *Session) startHeartbeat() {
	tick := time.Duration(0)
	for _, d := range []time.Duration{s.opts.PingInterval, s.opts.PongTimeout, s.opts.IdleTimeout} {
		if d > 0 && (tick == 0 || d < tick) {
			tick = d
		}
	}
	if tick == 0 {
		return
	}
	s.hb = &heartbeat{}
	s.hb.tick = max(tick/2, 5*time.Millisecond)
	s.hb.idleSince = time.Now().UnixNano()
	s.hb.pingData.Store(uint64(s.hb.idleSince))
	s.hb.mu.Lock()
	s.hb.timer = s.c.AfterFunc(s.hb.tick, s.heartbeat)
	s.hb.mu.Unlock()
}

// stopHeartbeat stops the timer; no tick starts after it returns.
func (s *Session) stopHeartbeat() {
	if s.hb == nil {
		return
	}
	s.hb.mu.Lock()
	s.hb.stopped = true
	if s.hb.timer != nil {
		s.hb.timer.Stop()
	}
	s.hb.mu.Unlock()
}

// heartbeat runs on the timer: it sends pings, notices missing pongs and
// idleness, and ends the session through the same paths as the reader.
func (s *Session) heartbeat() {
	s.hb.mu.Lock()
	if s.hb.stopped {
		s.hb.mu.Unlock()
		return
	}
	s.hb.running.Add(1)
	s.hb.mu.Unlock()
	defer s.hb.running.Done()

	// The timer only signals: it sends frames and, when a deadline has
	// passed, aborts the connection, which ends any blocked reader. It
	// never waits for the peer.
	now := time.Now()
	if at := s.closeSentAt.Load(); at != 0 {
		if now.Sub(time.Unix(0, at)) > s.opts.CloseTimeout {
			s.endFrom(errCloseTimeout, true, true)
			return
		}
	} else if sent := s.hb.pingSent.Load(); sent != 0 && now.Sub(time.Unix(0, sent)) > s.opts.PongTimeout {
		s.endFrom(ErrPongTimeout, true, true)
		return
	} else if d := s.opts.IdleTimeout; d > 0 {
		st := s.c.Stats()
		if traffic := st.BytesIn + st.BytesOut; traffic != s.hb.lastTraffic {
			s.hb.lastTraffic = traffic
			s.hb.idleSince = now.UnixNano()
		} else if now.Sub(time.Unix(0, s.hb.idleSince)) >= d {
			s.setResult(&CloseError{Code: frame.StatusNormalClosure, Reason: "idle timeout", Err: ErrIdleTimeout})
			if _, err := s.sendClose(frame.StatusNormalClosure, "idle timeout"); err != nil {
				s.endFrom(err, true, true)
				return
			}
			// The reader, if any, completes the handshake; without one,
			// the close timeout above ends the connection.
			s.c.SetReadDeadline(now.Add(s.opts.CloseTimeout))
		}
	}
	if s.opts.PingInterval > 0 && s.hb.pingSent.Load() == 0 && s.closeSentAt.Load() == 0 {
		if last := time.Unix(0, int64(s.hb.pingData.Load())); now.Sub(last) >= s.opts.PingInterval {
			var p [8]byte
			stamp := now.UnixNano()
			binary.BigEndian.PutUint64(p[:], uint64(stamp))
			s.hb.pingData.Store(uint64(stamp))
			s.hb.pingSent.Store(stamp)
			if err := s.c.WriteFrame(frame.OpPing, true, 0, p[:]); err != nil {
				s.endFrom(err, true, true)
				return
			}
		}
	}
	s.hb.mu.Lock()
	if !s.hb.stopped {
		s.hb.timer.Reset(s.hb.tick)
	}
	s.hb.mu.Unlock()
}

// gotPong clears the outstanding ping if p answers it, and measures the RTT.
func (s *Session) gotPong(p []byte) {
	if s.hb == nil {
		return // no ping of ours to answer
	}
	sent := s.hb.pingSent.Load()
	if sent == 0 || len(p) != 8 || int64(binary.BigEndian.Uint64(p)) != sent {
		return // unsolicited, or an answer to someone else's ping
	}
	s.hb.rtt.Store(int64(time.Since(time.Unix(0, sent))))
	s.hb.pingSent.Store(0)
}
