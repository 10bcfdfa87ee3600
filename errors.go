package websocket

import (
	"github.com/rfc6455/websocket/endpoint"
	"github.com/rfc6455/websocket/session"
)

// Errors of the connections the front door returns. Each is the value of
// the layer that raises it, re-exported, so that errors.Is matches it
// whichever layer ended the connection; the ones that end a connection are
// the Err of its *CloseError (see Conn.Err and Options.OnClose). A
// connection used after it ended returns its *CloseError, which also
// matches net.ErrClosed (errors.Is).
var (
	// ErrBadURL is returned by Dial and NewReconnectingClient for a URL
	// they cannot dial: one that does not parse, a scheme other than ws
	// or wss, a missing or malformed host or port. The error wraps it,
	// with the detail.
	ErrBadURL = endpoint.ErrBadURL

	// ErrEventLoop is returned by ReadMessage and NextReader on a
	// connection an event loop reads (a Server in IOEventLoop mode): the
	// loop delivers its messages to Options.OnMessage instead.
	ErrEventLoop = session.ErrEventLoop

	// ErrPongTimeout ends a connection whose peer did not answer a ping
	// within Options.PongTimeout (a 1006 CloseError): reads and writes
	// after it return that CloseError, which matches ErrPongTimeout with
	// errors.Is. On a connection that nobody reads, a message left unread
	// ends it so too, with an error that says so (see PingInterval).
	ErrPongTimeout = session.ErrPongTimeout

	// ErrIdleTimeout ends a connection that carried no byte either way
	// for Options.IdleTimeout (a CloseError with 1000, "idle timeout").
	ErrIdleTimeout = session.ErrIdleTimeout

	// ErrSlowConsumer ends a connection whose peer does not read fast
	// enough: Enqueue (and Server.Broadcast) under PolicyClose return it
	// and the CloseError wraps it; so does the CloseError of a connection
	// on an event loop that let more than 64 MiB wait to be sent.
	ErrSlowConsumer = session.ErrSlowConsumer

	// ErrQueueFull is returned by Enqueue when the send queue dropped the
	// message: at once under PolicyDrop, after Options.SlowTimeout under
	// PolicyBlock (an error that wraps it). Server.Broadcast counts those
	// as Dropped. The connection stays up.
	ErrQueueFull = session.ErrQueueFull

	// ErrMemoryBudget ends a connection that waited longer than its
	// Budget's Wait for memory to read a message into: its CloseError has
	// 1013 (StatusTryAgainLater) and wraps it.
	ErrMemoryBudget = session.ErrBudget
)
