package session

import (
	"context"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
)

// heartbeat is the state of a session's ping and idle timer, which only
// sessions with PingInterval, PongTimeout or IdleTimeout carry.
type heartbeat struct {
	mu    sync.Mutex
	timer interface {
		Reset(d time.Duration) bool
		Stop() bool
	} // conn.Conn.AfterFunc's
	running     sync.WaitGroup
	tick        time.Duration
	pingSent    atomic.Int64 // unix nanos of the outstanding ping, 0 if none
	pingData    atomic.Uint64
	rtt         atomic.Int64
	idleSince   int64 // unix nanos
	lastTraffic uint64
	inAtPing    uint64 // Stats().BytesIn when the outstanding ping was sent
	stopped     bool   // guarded by mu

	// reads is set when the heartbeat reads control frames while nobody
	// else reads (PingInterval in the goroutine mode: see readControl).
	// holding is set while it does so, and waiters counts the readers
	// waiting for readMu, to which it gives the read side back at once.
	reads   bool
	holding atomic.Bool
	waiters atomic.Int32
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
	s.hb = &heartbeat{reads: s.opts.PingInterval > 0 && !s.c.Evented()}
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
// With PingInterval in the goroutine mode it then reads control frames
// until the next tick, unless someone else reads (readControl).
func (s *Session) heartbeat() {
	s.hb.mu.Lock()
	if s.hb.stopped {
		s.hb.mu.Unlock()
		return
	}
	s.hb.running.Add(1)
	s.hb.mu.Unlock()
	start := time.Now()
	if !s.beat(start) {
		s.hb.running.Done()
		return
	}
	// Outside running: reading may end the session, and ending joins
	// running. The read is not joined; closing the connection ends it.
	s.hb.running.Done()
	next := start.Add(s.hb.tick)
	if s.hb.reads {
		s.readControl(next)
	}
	s.hb.mu.Lock()
	if !s.hb.stopped {
		s.hb.timer.Reset(max(time.Until(next), 0))
	}
	s.hb.mu.Unlock()
}

// beat is a tick's checks and ping; it reports false once it has ended the
// session. The timer only signals: it sends frames and, when a deadline
// has passed, aborts the connection, which ends any blocked reader. It
// never waits for the peer.
func (s *Session) beat(now time.Time) bool {
	if at := s.closeSentAt.Load(); at != 0 {
		if now.Sub(time.Unix(0, at)) > s.opts.CloseTimeout {
			s.endFrom(errCloseTimeout, endAbort, true)
			return false
		}
	} else if sent := s.hb.pingSent.Load(); sent != 0 && now.Sub(time.Unix(0, sent)) > s.opts.PongTimeout {
		if s.c.Stats().BytesIn == s.hb.inAtPing {
			s.endFrom(s.pongTimeout(), endAbort, true)
			return false
		}
		// Bytes came after the ping: the peer is alive, its pong perhaps
		// behind a long message. No RTT from this one.
		s.hb.pingSent.CompareAndSwap(sent, 0)
	} else if d := s.opts.IdleTimeout; d > 0 {
		st := s.c.Stats()
		if traffic := st.BytesIn + st.BytesOut; traffic != s.hb.lastTraffic {
			s.hb.lastTraffic = traffic
			s.hb.idleSince = now.UnixNano()
		} else if now.Sub(time.Unix(0, s.hb.idleSince)) >= d {
			s.setResult(&CloseError{Code: frame.StatusNormalClosure, Reason: "idle timeout", Err: ErrIdleTimeout})
			if _, err := s.sendClose(frame.StatusNormalClosure, "idle timeout"); err != nil {
				s.endFrom(err, endAbort, true)
				return false
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
			s.hb.inAtPing = s.c.Stats().BytesIn
			s.hb.pingSent.Store(stamp)
			if err := s.c.WriteFrame(frame.OpPing, true, 0, p[:]); err != nil {
				s.endFrom(err, endAbort, true)
				return false
			}
		}
	}
	return true
}

// pongTimeout is the error a session ends with when its ping went
// unanswered: ErrPongTimeout, or errPongUnread when nobody reads and a
// received message blocks the heartbeat's view of what came after it.
func (s *Session) pongTimeout() error {
	if s.hb.reads && s.readMu.TryLock() {
		defer s.readMu.Unlock()
		if op, ok := s.c.PeekOpcode(); ok && !op.IsControl() || !ok && s.c.Remaining() > 0 {
			return errPongUnread
		}
	}
	return ErrPongTimeout
}

// readControl is the heartbeat reading, until until, for a connection that
// nobody reads, so that a client that only writes keeps its heartbeat: it
// answers pings, matches pongs and runs the close handshake as a reader
// would (control, readError), and stops at the first data frame, which it
// leaves whole (not consumed: conn.Conn.PeekOpcode) for the application's
// next read. A data message that waits unread therefore hides what comes
// after it, pongs included (see pongTimeout). After our close frame it
// reads like Close does, discarding data, until the peer's close frame.
//
// It takes the read side only when it is free and no driver (Serve,
// ServeDetached) holds it between messages, and gives it back as soon as a
// reader asks (takeFromHeartbeat counts the reader in waiters and
// interrupts the wait). It costs a connection that nobody reads one
// goroutine parked in the read, and two deadline changes per tick.
func (s *Session) readControl(until time.Time) {
	hb := s.hb
	if hb.waiters.Load() > 0 || !s.readMu.TryLock() {
		return // a reader runs, or is about to: it sees the frames
	}
	defer s.readMu.Unlock()
	if s.readErr != nil || s.driving || s.c.State() == conn.Closed {
		return
	}
	// The deadline first, then holding, then the check of waiters: a
	// reader that comes meanwhile is either seen by that check, or sees
	// holding and interrupts the wait after the deadline was set (which
	// would otherwise undo the interruption).
	until = later(until, time.Now().Add(time.Millisecond))
	prev := s.c.ReadDeadline()
	s.c.SetReadDeadline(until)
	hb.holding.Store(true)
	defer func() {
		hb.holding.Store(false)
		// Put the reader's own deadline back, unless someone set another
		// meanwhile (Close bounding its handshake).
		if s.c.ReadDeadline().Equal(until) {
			s.c.SetReadDeadline(prev)
		}
	}()
	for hb.waiters.Load() == 0 && s.readErr == nil {
		var err error
		op, ok := s.c.PeekOpcode()
		switch {
		case ok && op.IsControl():
			var h frame.Header
			if h, err = s.c.NextFrame(); err == nil {
				err = s.control(h)
			}
		case ok || s.c.Remaining() > 0:
			// A data frame is next, or the application has begun to
			// read one: it is the application's.
			if s.closeSentAt.Load() == 0 {
				return
			}
			if err = s.nextDataFrame(); err == nil {
				s.inFrame = false // discarded, as Close does
			}
		default:
			err = s.c.WaitReadable()
		}
		if err != nil {
			if err != conn.ErrInterrupted && !isTimeout(err) {
				s.readError(context.Background(), err) // ends the session
			}
			return
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
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
