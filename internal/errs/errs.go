// Package errs defines the sentinel errors that more than one layer raises
// and that no layer can own, because the layers that raise them cannot
// import one another: the poller below conn, and session above it. Each
// public package re-exports the value (var ErrX = errs.ErrX), so that
// errors.Is matches it whichever layer raised it.
//
// This package is a leaf: it imports only the standard library.
package errs

import "errors"

// ErrSlowConsumer means that the peer does not read fast enough and the
// connection is ended for it. The event loops' sockets raise it when more
// than 64 MiB wait to be sent (a write from a loop callback cannot wait
// for room); a session's send queue raises it under PolicyClose, and the
// session's CloseError then wraps it.
var ErrSlowConsumer = errors.New("websocket: slow consumer: the peer does not read what is sent")

// ErrQueueFull means that a bounded queue refused or dropped a message or
// a task because it was full: a session's send queue (at once under
// PolicyDrop, after SlowTimeout under PolicyBlock) and the worker pool's
// TryPost. The connection or pool stays up.
var ErrQueueFull = errors.New("websocket: queue full")
