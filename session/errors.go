package session

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"

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
func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
