package session

import (
	"errors"
	"net"
	"os"
	"strconv"

	"github.com/rfc6455/websocket/frame"
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
	// errStreamOpen refuses a whole-message read while a NextReader
	// stream is open.
	errStreamOpen = errors.New("websocket: AppendMessage while a NextReader stream is open")
)

// Errors returned by Enqueue when the send queue is full, one per policy
// (see SlowPolicy).
var (
	ErrQueueFull    = errors.New("websocket: send queue full: message dropped")
	ErrQueueTimeout = errors.New("websocket: send queue full for SlowTimeout: message dropped")
	ErrSlowConsumer = errors.New("websocket: slow consumer: session closed")
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
