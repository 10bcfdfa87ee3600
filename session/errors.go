package session

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/errs"
)

// Errors returned by a Session.
var (
	// ErrPongTimeout ends a session whose peer did not answer a ping
	// within Options.PongTimeout.
	ErrPongTimeout = errors.New("websocket: pong timeout")
	// ErrIdleTimeout ends a session that carried no data either way for
	// Options.IdleTimeout.
	ErrIdleTimeout = errors.New("websocket: idle timeout")
	// ErrEventLoop is returned by the reading methods of a session that
	// an event loop serves (see ServeReady): the loop does the reading.
	ErrEventLoop = errors.New("websocket: an event loop reads this connection")

	errCloseTimeout = errors.New("websocket: close handshake timed out")
	// errPongUnread is the pong timeout of a connection that nobody reads
	// while a received message waits at the head of its read side: the
	// heartbeat reads control frames only, and the pong, if one came,
	// waits behind the message. It is an ErrPongTimeout.
	errPongUnread = fmt.Errorf("%w: a received message waits unread, so the pong behind it cannot be seen (read the connection)", ErrPongTimeout)
	// errMessageType refuses a message type other than OpText or OpBinary: a
	// programming error, which nobody needs to match.
	errMessageType = errors.New("websocket: invalid message type")
	// errWriterClosed is returned by a NextWriter stream used after Close.
	errWriterClosed = errors.New("websocket: message writer closed")
	// errStreamOpen refuses a whole-message read while a NextReader
	// stream is open.
	errStreamOpen = errors.New("websocket: AppendMessage while a NextReader stream is open")
)

// What Enqueue returns when the send queue is full (see SlowPolicy).
var (
	// ErrQueueFull means that a bounded queue dropped the message: the
	// send queue under PolicyDrop at once, and under PolicyBlock after
	// SlowTimeout (with an error that wraps it). It is the worker pool's
	// ErrQueueFull too, so that errors.Is matches it whichever queue
	// refused.
	ErrQueueFull = errs.ErrQueueFull

	// ErrSlowConsumer means that the peer does not read fast enough and
	// the session is ended for it: the send queue under PolicyClose, or an
	// event loop's socket with too much waiting to be sent. It is the
	// CloseError's Err then. One value for both layers.
	ErrSlowConsumer = errs.ErrSlowConsumer

	// errQueueTimeout is PolicyBlock's drop: ErrQueueFull, after waiting.
	errQueueTimeout = fmt.Errorf("%w for SlowTimeout: message dropped", ErrQueueFull)
)

// CloseError reports how a session ended: the close code and reason the
// peer sent (or, for Code 1006, that the connection dropped without a close
// frame; Err then holds the cause). Use errors.As to get it.
//
// Once a session has ended, Err returns its CloseError, OnClose receives
// it, and every read and write returns it: one value that says why,
// whoever ended the connection and whichever call notices first. A
// CloseError also matches net.ErrClosed (see Is), so code that tests for
// a closed connection the standard library's way keeps working.
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

// Is reports whether target is net.ErrClosed. Every CloseError describes a
// connection that is closed, whatever its code, so errors.Is(err,
// net.ErrClosed) holds for it, as it did for the socket's "use of closed
// network connection" that it replaces; errors.Is goes on to Err for the
// cause (ErrPongTimeout, io.EOF ...).
func (e *CloseError) Is(target error) bool { return target == net.ErrClosed }

// closedErr returns how the session ended once its connection is closed,
// and nil before. It is for error paths (it takes closeMu): a read or write
// that failed returns the session's CloseError rather than whatever the
// socket said. endFrom records the result before it closes the
// connection, so a closed connection always has one.
func (s *Session) closedErr() error {
	if s.c.State() != conn.Closed {
		return nil
	}
	return s.resultErr()
}

// resultErr returns the session's result, set once: the *CloseError it
// ended (or is ending) with, or nil.
func (s *Session) resultErr() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	return s.result
}
func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
