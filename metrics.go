//go:build !js

package websocket

import (
	"errors"
	"expvar"
	"maps"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/rfc6455/websocket/session"
)

// ServerStats is a snapshot of a Server's counters (Server.Stats), for
// every connection it served since it started, in both I/O modes. The
// counters only grow, except Open. Connections of Accept and Upgrade
// called directly belong to no Server and are not counted.
type ServerStats struct {
	// Open is the number of connections open now: upgraded, not ended.
	Open int64

	// Accepted counts the opening handshakes answered with 101.
	Accepted uint64

	// Refused counts the opening handshakes refused, by the HTTP status
	// they were answered with: 400, 403, 426 and 431 for the request's
	// faults, 503 past MaxConnections or while shutting down, and
	// whatever AcceptOptions.OnRequest answered (401, 404 ...).
	Refused map[int]uint64

	// Failed counts the opening handshakes that ended without an answer:
	// the client went away or sent nothing within HandshakeTimeout, or
	// Shutdown cut it short.
	Failed uint64

	// Closed counts the connections that ended, by the close code they
	// ended with (Conn.Err's): 1000 or 1001 for a close handshake, 1006
	// for one that dropped without a close frame, 1002, 1007 or 1009 for
	// a peer that broke the protocol or a limit.
	Closed map[StatusCode]uint64

	// Messages and bytes each way (data messages; bytes on the wire after
	// the opening handshake, frame headers included), summed over every
	// connection, ended and open.
	MessagesIn, MessagesOut uint64
	BytesIn, BytesOut       uint64

	// Dropped counts the messages the send queues dropped (ErrQueueFull:
	// Conn.Enqueue and Broadcast under PolicyDrop, or PolicyBlock past
	// SlowTimeout).
	Dropped uint64

	// PongTimeouts counts the connections that ended because the peer
	// left a heartbeat ping unanswered (ErrPongTimeout, counted in
	// Closed as 1006 too).
	PongTimeouts uint64

	// PingsUnanswered counts the peers' pings left without a pong
	// because the peer was not reading the pongs already sent (a ping
	// flood; Stats.PingsUnanswered), summed like the messages.
	PingsUnanswered uint64
}

// ServerHooks are optional functions a Server calls on the rare events of
// its connections, for metrics, traces and logs: a Prometheus counter or
// an OpenTelemetry event per field. They are called on the goroutine where
// the event happens (in IOEventLoop mode often a loop), so they must be
// quick and must not block. Messages and bytes have no hook, so that no
// message pays for a call: read them from Server.Stats when they are
// wanted (a Prometheus collector at scrape time).
type ServerHooks struct {
	// OnOpen is called with each upgraded connection, just before
	// Server.OnConnect.
	OnOpen func(c *Conn)

	// OnClose is called once when a connection has ended, with the close
	// code it ended with, before Options.OnClose.
	OnClose func(c *Conn, code StatusCode)

	// OnRefuse is called with the HTTP status of each refused opening
	// handshake.
	OnRefuse func(status int)

	// OnDrop is called when a connection's send queue drops a message,
	// on the sender's goroutine.
	OnDrop func(c *Conn)

	// OnPongTimeout is called when a connection ends because its peer
	// did not answer a heartbeat ping, before OnClose.
	OnPongTimeout func(c *Conn)
}

// serverCounters are a Server's counters. Events that happen once per
// connection or less often cost an atomic or a short lock; messages and
// bytes cost nothing on their way: they are the connections' own counters
// (conn.Stats), added up when a connection ends and, for those still open,
// when a snapshot is taken.
type serverCounters struct {
	open     atomic.Int64
	accepted atomic.Uint64
	failed   atomic.Uint64
	dropped  atomic.Uint64

	mu      sync.Mutex
	refused map[int]uint64
	closed  map[StatusCode]uint64
	pongs   uint64
	ended   traffic // of the connections that ended
	last    traffic // the last snapshot's, which the next never goes below
}

// traffic is the counts of ServerStats summed over the connections'
// own counters: messages, bytes, unanswered pings.
type traffic struct{ msgIn, msgOut, bytesIn, bytesOut, pings uint64 }

func (t *traffic) add(st Stats) {
	t.msgIn += st.MessagesIn
	t.msgOut += st.MessagesOut
	t.bytesIn += st.BytesIn
	t.bytesOut += st.BytesOut
	t.pings += st.PingsUnanswered
}

// atLeast raises each count of t to at least the one in u.
func (t *traffic) atLeast(u traffic) {
	t.msgIn, t.msgOut = max(t.msgIn, u.msgIn), max(t.msgOut, u.msgOut)
	t.bytesIn, t.bytesOut = max(t.bytesIn, u.bytesIn), max(t.bytesOut, u.bytesOut)
	t.pings = max(t.pings, u.pings)
}

// Stats returns a snapshot of the server's counters. It adds up the
// counters of the open connections, a few atomic loads each, so it costs
// time in proportion to Len: call it when the numbers are wanted (a
// scrape, a log line), not per message.
func (s *Server) Stats() ServerStats {
	m := s.manager()
	sc := &s.counters
	sc.mu.Lock()
	defer sc.mu.Unlock()
	// Under sc.mu, so that no connection is counted twice: one that ends
	// leaves the manager before it is added to ended, under sc.mu. One
	// that has left but is not in ended yet is missed for a moment, which
	// the last snapshot's counts make up for: the counts never go down,
	// and never pass the true ones.
	t := sc.ended
	m.Range(func(ss *session.Session) bool {
		t.add(ss.Conn().Stats())
		return true
	})
	t.atLeast(sc.last)
	sc.last = t
	return ServerStats{
		Open:         sc.open.Load(),
		Accepted:     sc.accepted.Load(),
		Refused:      maps.Clone(sc.refused),
		Failed:       sc.failed.Load(),
		Closed:       maps.Clone(sc.closed),
		MessagesIn:   t.msgIn,
		MessagesOut:  t.msgOut,
		BytesIn:      t.bytesIn,
		BytesOut:     t.bytesOut,
		Dropped:      sc.dropped.Load(),
		PongTimeouts: sc.pongs,

		PingsUnanswered: t.pings,
	}
}

// Expvar returns the server's counters as an expvar.Var, whose String is
// Stats as a JSON object, for the caller to publish under a name of its
// choosing (nothing is published by default):
//
//	expvar.Publish("websocket", srv.Expvar())
//
// after which /debug/vars (expvar's handler) shows them.
func (s *Server) Expvar() expvar.Var {
	return expvar.Func(func() any { return s.Stats() })
}

// opened counts c, just upgraded, as open and tells the hook.
func (s *Server) opened(c *Conn) {
	s.counters.accepted.Add(1)
	s.counters.open.Add(1)
	if f := s.Hooks.OnOpen; f != nil {
		f(c)
	}
}

// ended counts c, which ended with err, and tells the hooks. It runs in
// the session's OnClose, once per connection, after the connection has
// left the manager.
func (s *Server) ended(c *Conn, err error) {
	code := StatusAbnormalClosure
	if ce, ok := err.(*CloseError); ok { // what sessions end with
		code = ce.Code
	} else {
		var ce *CloseError // here: escaping to errors.As, it costs an allocation
		if errors.As(err, &ce) {
			code = ce.Code
		}
	}
	pong := errors.Is(err, ErrPongTimeout)
	sc := &s.counters
	sc.mu.Lock()
	if sc.closed == nil {
		sc.closed = make(map[StatusCode]uint64)
	}
	sc.closed[code]++
	if pong {
		sc.pongs++
	}
	sc.ended.add(c.Stats())
	sc.mu.Unlock()
	sc.open.Add(-1)
	if f := s.Hooks.OnPongTimeout; pong && f != nil {
		f(c)
	}
	if f := s.Hooks.OnClose; f != nil {
		f(c, code)
	}
}

// refused counts a handshake answered with the refusal he.
func (s *Server) refused(he *HandshakeError) {
	status := he.StatusCode
	if status < 100 || status > 599 {
		status = http.StatusInternalServerError // as handshake answers it
	}
	sc := &s.counters
	sc.mu.Lock()
	if sc.refused == nil {
		sc.refused = make(map[int]uint64)
	}
	sc.refused[status]++
	sc.mu.Unlock()
	if f := s.Hooks.OnRefuse; f != nil {
		f(status)
	}
}

// dropped counts a message c's send queue dropped.
func (s *Server) dropped(c *Conn) {
	s.counters.dropped.Add(1)
	if f := s.Hooks.OnDrop; f != nil {
		f(c)
	}
}
