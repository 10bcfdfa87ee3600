package session

import (
	"time"

	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/defaults"
)

// Options configures a Session. A nil *Options gives the defaults.
type Options struct {
	// FragmentSize is the largest frame payload a message is sent in;
	// longer messages are split. Default 1 MiB. Smaller values let pings
	// through sooner during long messages; each frame costs 2-14 bytes.
	FragmentSize int

	// PingInterval, if positive, sends a ping that often; the pong must
	// arrive within PongTimeout or the session ends with ErrPongTimeout.
	// Default 0: no heartbeat. A reader (Serve, a ReadMessage loop, the
	// event loop) sees the pongs. In the goroutine mode, while nobody
	// reads, the heartbeat itself reads the control frames that arrive
	// (pongs, the peer's pings and close frame), so a session that only
	// writes keeps its heartbeat; that costs a goroutine parked in the
	// read and two deadline changes per tick. It stops at a data message
	// and leaves it for the application: one left unread hides the pong
	// behind it, and the session ends with an ErrPongTimeout that says so.
	// Any bytes arriving after a ping count as an answer.
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
	OnMessage func(s *Session, typ frame.Opcode, data []byte)

	// OnPing and OnPong, if set, see the payload of each ping and pong
	// received, during the read that found them. They must not block.
	OnPing, OnPong func(s *Session, payload []byte)

	// OnClose, if set, is called once when the session has ended, with a
	// *CloseError (the peer's close code, or 1006 with the cause).
	OnClose func(s *Session, err error)

	// OnDrop, if set, is called on the sender's goroutine each time the
	// send queue drops a message (Enqueue returns ErrQueueFull).
	OnDrop func(s *Session)

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
	// connection is dropped. Default 5 s.
	SlowTimeout time.Duration

	// SlowCloseCode is the close code PolicyClose sends: 1013 (try again
	// later) or 1008 (policy violation). Default 1013.
	SlowCloseCode frame.StatusCode

	// Budget, if not nil, is the memory budget the session's received
	// messages count against, shared with other sessions (see Budget).
	// Default nil: each session is bounded by its message limit alone.
	Budget *Budget

	// Compression, if not nil, is the permessage-deflate agreement of the
	// opening handshake: messages are compressed and decompressed as it
	// says. The handshake code sets it.
	Compression *Compression
}

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
		c.CloseTimeout = defaults.CloseTimeout
	}
	if c.FragmentSize <= 0 {
		c.FragmentSize = defaults.FragmentSize
	}
	if c.PingInterval > 0 && c.PongTimeout <= 0 {
		c.PongTimeout = c.PingInterval
	}
	if c.SlowTimeout <= 0 {
		c.SlowTimeout = defaults.SlowTimeout
	}
	if c.SlowCloseCode == 0 || !c.SlowCloseCode.ValidOnWire() {
		c.SlowCloseCode = defaults.SlowCloseCode
	}
	return &c
}

// complete reports whether WithDefaults would change nothing.
func (o *Options) complete() bool {
	return o.CloseTimeout > 0 && o.FragmentSize > 0 &&
		(o.PingInterval <= 0 || o.PongTimeout > 0) &&
		o.SlowTimeout > 0 && o.SlowCloseCode != 0 && o.SlowCloseCode.ValidOnWire()
}
