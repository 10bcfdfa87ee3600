//go:build !js

package websocket

import (
	"context"
	"io"
	"net"
	"time"
	"unsafe"

	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/session"
)

// Conn is a WebSocket connection at the level of messages. Accept, Upgrade,
// Dial and Server hand one out, open; its methods are all a server or a
// client needs to read, write and close. (The frames underneath are
// package conn's, for programs that want them; a Conn does not expose
// them.)
//
// # Concurrency
//
// One goroutine at a time may read (ReadMessage, AppendMessage, NextReader
// and its reader, or Serve, which reads until the connection ends).
// Writes are safe from any number of goroutines at once: whole messages
// (WriteMessage, SendText, a NextWriter stream, Enqueue) never
// interleave, and the messages of one goroutine leave in the order it
// wrote them. Control frames (pings, pongs, the close frame) may go out
// between the frames of a long message, as RFC 6455 §5.4 allows. Close,
// CloseNow, Done, Err and every accessor may be called from anywhere, at
// any time, also from the callbacks.
//
// # Contexts
//
// A read whose context is cancelled or expires returns the context's error
// and leaves the connection open: the next read continues the same message
// where the last one stopped. A write whose context ends before it starts
// returns the context's error harmlessly; one that ends while the frame is
// on its way fails the connection, since half a frame cannot be taken back.
// A context that ends after its call has returned has no effect (the
// usual WithTimeout, write, cancel). Once Dial has returned, its context
// no longer matters, and neither does the request's context once Accept
// has.
//
// # Control frames and closing
//
// Pings are answered, pongs are matched to the heartbeat's pings, and the
// peer's close frame is answered, all by the reader. A connection that
// nobody reads answers them only if Options.PingInterval is set, whose
// heartbeat then reads the control frames itself; otherwise keep a reader
// running (Serve does, and so does a Server without a Handler). The
// connection ends with the close handshake (Close), abruptly (CloseNow),
// when the peer closes or breaks the protocol, or when a limit or timeout
// of the Options fires; Err then says how, with a *CloseError.
//
// # Errors after the end
//
// Once the connection has ended, every read and write (and Enqueue,
// NextWriter, Ping) returns that same *CloseError, whoever ended it and
// whichever call notices first: the code and reason it ended with, and
// for an abnormal end (1006) the cause in its Err, so errors.Is(err,
// ErrPongTimeout) tells a dead peer. errors.Is(err, net.ErrClosed) holds
// for it too.
type Conn struct {
	// s is the session, held by value: a Conn is one allocation. Its
	// owner is this Conn, which is how the callbacks the session calls
	// find their way back here (ownerOf).
	s session.Session

	value any // AcceptOptions.OnRequest's, set before the Conn is handed out
}

// ownerOf returns the Conn that embeds s. Every session the root package
// hands to a user's callback was made by newConn.
func ownerOf(s *session.Session) *Conn { return s.Owner().(*Conn) }

// ReadMessage reads the next message whole, into a new slice. A text
// message has been checked to be valid UTF-8. A message larger than
// Options.MaxMessageSize fails the connection with 1009 before its payload
// is read. After the connection has ended, ReadMessage returns how (a
// *CloseError). On a Server in IOEventLoop mode the loop does the reading,
// and ReadMessage returns ErrEventLoop.
func (c *Conn) ReadMessage(ctx context.Context) (MessageType, []byte, error) {
	return c.s.ReadMessage(ctx)
}

// AppendMessage is ReadMessage that appends the message to dst and returns
// the extended slice. Reusing a buffer this way reads without allocating.
// If ctx ends during the read, dst comes back as it was, and the part of
// the message already read waits for the next call.
func (c *Conn) AppendMessage(ctx context.Context, dst []byte) (MessageType, []byte, error) {
	return c.s.AppendMessage(ctx, dst)
}

// NextReader returns the type of the next message and a reader for its
// payload, for messages too large to hold in memory. Read it to io.EOF (or
// close the connection) before reading the next message. Control frames
// that arrive between the message's frames are handled while it is read.
// ctx bounds every Read of the stream.
func (c *Conn) NextReader(ctx context.Context) (MessageType, io.Reader, error) {
	return c.s.NextReader(ctx)
}

// Serve reads messages until the connection ends, handing each one to
// Options.OnMessage (which may be nil, to discard them): push style, the
// alternative to a ReadMessage loop. It returns nil when the connection
// ended with a close handshake, and the cause otherwise; Err says how it
// ended.
//
// Replies that OnMessage writes while more messages are already waiting
// are held and leave together, in one system call, before Serve waits for
// the socket again: answering a burst of pipelined messages costs one
// write, and a reply waits at most for the handling of messages already
// received.
func (c *Conn) Serve(ctx context.Context) error { return c.s.Serve(ctx) }

// WriteMessage sends data as one message of type typ (TextMessage, whose
// data must be valid UTF-8, or BinaryMessage), in frames of at most
// Options.FragmentSize, compressed if the handshake agreed on compression
// and data is at least CompressionOptions.Threshold bytes. It returns once
// the message is written to the socket. data is not modified or kept.
func (c *Conn) WriteMessage(ctx context.Context, typ MessageType, data []byte) error {
	return c.s.WriteMessage(ctx, typ, data)
}

// SendText sends text (valid UTF-8) as a text message, without copying it.
func (c *Conn) SendText(ctx context.Context, text string) error {
	// The connection never writes to a payload (a client masks a copy), so
	// the string's bytes can be passed without a copy.
	return c.s.WriteMessage(ctx, frame.OpText, unsafe.Slice(unsafe.StringData(text), len(text)))
}

// NextWriter returns a writer for one message of type typ, for messages
// produced in pieces: its bytes go out in frames of Options.FragmentSize as
// they accumulate, and Close sends the final frame. Other messages wait
// until the writer is closed, so close it promptly (and always).
func (c *Conn) NextWriter(ctx context.Context, typ MessageType) (io.WriteCloser, error) {
	return c.s.NextWriter(ctx, typ)
}

// Enqueue sends data as one message through the connection's send queue
// (Options.SendQueueSize) and returns without waiting for the write: a
// slow peer never holds up the sender. data must not be modified
// afterwards. A full queue applies Options.SlowPolicy. Messages enqueued by
// one goroutine leave in order, but not in order with WriteMessage's. A nil
// error means queued; a write that fails later ends the connection (see
// Err). Without a queue, Enqueue is WriteMessage with no context.
func (c *Conn) Enqueue(typ MessageType, data []byte) error { return c.s.Enqueue(typ, data) }

// Ping sends a ping with payload (at most 125 bytes). The peer's pong
// arrives through the reader, which reports it to Options.OnPong; the
// heartbeat (Options.PingInterval) sends pings of its own and needs no
// call.
func (c *Conn) Ping(ctx context.Context, payload []byte) error { return c.s.Ping(ctx, payload) }

// Close runs the close handshake with code and reason (at most 123 bytes of
// UTF-8; a longer reason is cut): it sends a close frame, waits at most
// Options.CloseTimeout for the peer's, and closes the socket. A reader
// that is running sees the peer's close frame and returns a *CloseError;
// with none running, Close reads and discards what arrives until the close
// frame does. Close is safe to call more than once and from any goroutine:
// later calls wait for the first. On an event loop Close sends the close
// frame and returns; the loop completes the handshake (Done tells when).
func (c *Conn) Close(code StatusCode, reason string) error { return c.s.Close(code, reason) }

// CloseNow closes the socket at once, without a close handshake. Blocked
// reads and writes return; OnClose runs with a *CloseError for 1006.
func (c *Conn) CloseNow() error { return c.s.CloseNow() }

// Done returns a channel that is closed when the connection has ended, by
// either side; Err then says how.
func (c *Conn) Done() <-chan struct{} { return c.s.Done() }

// Err returns how the connection ended, a *CloseError with the close code
// and reason (1006 with the cause when it dropped without a close frame),
// or nil while it is open.
func (c *Conn) Err() error { return c.s.Err() }

// ID returns the connection's identifier, unique within the process.
func (c *Conn) ID() uint64 { return c.s.ID() }

// Subprotocol returns the subprotocol the opening handshake agreed on, or
// "" for none.
func (c *Conn) Subprotocol() string { return c.s.Subprotocol() }

// Compressed reports whether the opening handshake agreed on
// permessage-deflate (RFC 7692).
func (c *Conn) Compressed() bool { return c.s.Compressed() }

// SetCompression turns compression off (false) or on again for the
// messages written after it, for instance around data known not to
// compress. It does nothing unless Compressed.
func (c *Conn) SetCompression(enabled bool) { c.s.SetCompression(enabled) }

// RTT returns the round-trip time the last answered heartbeat ping
// measured (Options.PingInterval), or 0 before the first.
func (c *Conn) RTT() time.Duration { return c.s.RTT() }

// Stats returns a snapshot of the connection's counters: bytes, frames and
// messages each way, and how long it has been open.
func (c *Conn) Stats() Stats { return c.s.Conn().Stats() }

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.s.Conn().LocalAddr() }

// RemoteAddr returns the peer's network address.
func (c *Conn) RemoteAddr() net.Addr { return c.s.Conn().RemoteAddr() }

// Value returns what AcceptOptions.OnRequest returned for the connection's
// request (a user, a session, a route), or nil. It is fixed before the
// connection is handed out, so reading it needs no lock; Set and Get hold
// what changes later.
func (c *Conn) Value() any { return c.value }

// Set stores value under key in the connection's user data, for the
// application's per-connection state (a user name, a room). Keys compare
// like map keys; use a type of your own to avoid collisions.
func (c *Conn) Set(key, value any) { c.s.Set(key, value) }

// Get returns the value Set stored under key, and whether there is one.
func (c *Conn) Get(key any) (any, bool) { return c.s.Get(key) }

// Delete removes key from the connection's user data.
func (c *Conn) Delete(key any) { c.s.Delete(key) }
