package session

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/bufpool"
	"github.com/rfc6455/websocket/internal/utf8"
)

var lastID atomic.Uint64

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
	msgType  frame.Opcode
	streamOn bool // a NextReader stream is open
	utf8     utf8.Validator
	partial  *bufpool.Buffer // message bytes read before a cancelled read returned, if any
	readErr  error           // sticky: the session ended
	driving  bool            // Serve or ServeDetached reads (see setDriving)
	charged  int64           // bytes of Options.Budget the read side holds (budget.go)
	starved  int64           // unix nanos: when the budget first refused the message being read, 0 if it has not

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
	msgHint int32     // the driver's last message buffer size

	// The driver's message buffer (serve.go): held while messages come,
	// and across ServeReady calls while one is arriving; nil when idle.
	lmsg *bufpool.Buffer

	owner any // the value that embeds the session (see Init), or nil

	// Flags kept together, which every session carries, to save padding.
	closeSent bool // guarded by closeMu
	inflating bool // a whole compressed message is being inflated, piece by piece; readMu
	gone      bool // the session ended: no more managers, guarded by closeMu
	ended     bool // the session ended: Done is closed, guarded by closeMu
}

// New returns a Session over c, which must be open (conn.Connected). opts
// may be nil. Options that are complete (see WithDefaults) are kept as
// they are, and may be shared by many sessions, which saves every session
// a copy; others are copied and completed. Either way, opts must not be
// modified after New.
func New(c *conn.Conn, opts *Options) *Session {
	s := new(Session)
	Init(s, c, opts, nil)
	return s
}

// ID returns the session's identifier, unique within the process.
func (s *Session) ID() uint64 { return s.id }

// Conn returns the underlying connection (for its stats and addresses).
func (s *Session) Conn() *conn.Conn { return s.c }

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
