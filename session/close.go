package session

import (
	"context"
	"net"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
)

// Close runs the close handshake with code and reason (at most 123 bytes
// of UTF-8; longer reasons are cut): it sends a close frame, waits at most
// Options.CloseTimeout for the peer's close frame, and closes the
// connection. If a reader is active, it sees the peer's close frame and
// returns a *CloseError; otherwise Close reads (and discards) what arrives
// until the close frame does. Close is safe to call more than once and from
// any goroutine; later calls wait for the first to finish. It returns nil,
// unless the session had already ended without a close handshake (the
// close frame could not be sent): then it returns the session's
// *CloseError.
func (s *Session) Close(code frame.StatusCode, reason string) error {
	return s.close(code, reason)
}

func (s *Session) close(code frame.StatusCode, reason string) error {
	sent, err := s.sendClose(code, reason)
	// On an event loop's connection Close never waits: the loop reads
	// the peer's close frame and ends the session, and the caller may be
	// the loop itself.
	loop := s.c.Evented()
	if !sent {
		if !loop {
			s.waitDone()
		}
		return nil
	}
	if err != nil {
		// The connection had ended (or just failed): say how.
		s.end(err, endAbort)
		return s.resultErr()
	}
	deadline := time.Now().Add(s.opts.CloseTimeout)
	// Bounds the wait for the peer's close frame: the loop's, a reader's,
	// or this call's own.
	s.c.SetReadDeadline(deadline)
	if loop {
		return nil
	}
	if s.tryLockRead() {
		// No reader: read until the peer's close frame, under this
		// call's deadline, which a reader's context ending after its read
		// must not cut short.
		s.dropReadWatch()
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
		// The active reader will run the handshake.
		select {
		case <-s.Done():
		case <-time.After(time.Until(deadline)):
		}
	}
	s.end(nil, endClose)
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
	s.end(net.ErrClosed, endAbort)
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

// How end closes the connection.
type ending uint8

const (
	endClose  ending = iota // conn.Close: after what was written, with FIN
	endLinger               // conn.CloseLingering: FIN, then the peer's bytes are drained a while
	endAbort                // conn.Abort: at once, a reset
)

// abortUnless is endAbort, or endClose if graceful.
func abortUnless(graceful bool) ending {
	if graceful {
		return endClose
	}
	return endAbort
}

// end closes the connection as how says, records how the session ended
// (cause is the error behind an abnormal closure), stops the heartbeat and
// runs OnClose. Only the first call does anything.
func (s *Session) end(cause error, how ending) {
	s.endFrom(cause, how, false)
	// Outside closeOnce: the writer goroutine may be ending the session
	// itself, and it must not wait for its own exit.
	s.joinWriter()
}

func (s *Session) endFrom(cause error, how ending, fromTimer bool) {
	if cause != nil {
		s.setResult(&CloseError{Code: frame.StatusAbnormalClosure, Err: cause})
	} else {
		s.setResult(&CloseError{Code: frame.StatusNoStatusReceived})
	}
	s.closeOnce.Do(func() {
		// The socket first: that unblocks a heartbeat stuck in a write.
		switch how {
		case endAbort:
			s.c.Abort(cause)
		case endLinger:
			s.c.CloseLingering()
		default:
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
		if s.readMu.TryLock() {
			// No read in progress: the message memory goes back now. A
			// reader gives it back itself when it meets the end.
			s.releaseReadMemory()
			s.readMu.Unlock()
		}
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

// gotClose runs our side of the close handshake after the peer's close
// frame, and returns the *CloseError that ends the session.
func (s *Session) gotClose(p []byte) error {
	code, reason, err := frame.ParseClosePayload(p)
	if err != nil {
		return err // a *frame.ProtocolError: readError fails the session
	}
	// The result first: a write that meets our close frame returns it.
	cerr := &CloseError{Code: code, Reason: reason}
	s.setResult(cerr)
	// Echo the peer's code; an empty close gets an empty close back.
	s.sendClose(code, "")
	s.finishClose()
	return cerr
}

// finishClose ends the TCP connection once both close frames have passed:
// a server closes it now, a client waits (bounded) for the server to.
func (s *Session) finishClose() { s.finishCloseAs(endClose) }

// finishCloseAs is finishClose with how a server closes: endLinger when it
// fails the connection, since the peer has not sent its close frame and
// may still be sending.
func (s *Session) finishCloseAs(how ending) {
	if s.c.Role() == conn.Client {
		s.c.SetReadDeadline(time.Now().Add(s.opts.CloseTimeout))
		for {
			if _, err := s.c.NextFrame(); err != nil {
				break
			}
		}
		how = endClose
	}
	s.end(nil, how)
}

// fail sends a close frame with code and closes the connection: the peer
// broke the protocol (RFC 6455 §7.1.7). A server closes lingering (see
// conn.Conn.CloseLingering): the peer may be in the middle of a message,
// and a reset could keep it from reading the close frame.
func (s *Session) fail(code frame.StatusCode, reason string) error {
	cerr := &CloseError{Code: code, Reason: reason, Err: &frame.ProtocolError{Code: code, Reason: reason}}
	s.sendClose(code, reason)
	s.setResult(cerr)
	s.finishCloseAs(endLinger) // a client lets the server close TCP first (RFC 6455 §7.1.1)
	s.readErr = s.resultErr()  // cerr, unless the session had ended for another reason first
	return s.readErr
}
