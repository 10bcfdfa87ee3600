package session

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

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
