// Package conn is the WebSocket frame transport: a byte stream that speaks
// RFC 6455 frames, after the opening handshake is done. It is the frame-level
// API, for users who want frames rather than messages.
//
// A Conn knows frames, never messages. It owns the read buffer, the frame
// decoder (package frame), the write buffer and the connection state.
// Package session builds messages, control-frame handling and the close
// handshake on top of it.
//
// # The transport seam
//
// A Conn reads and writes through one small interface, Transport: a byte
// stream whose reads may say "would block", with writev, deadlines, abort,
// addresses, timers and backpressure. It is the only thing Conn knows of
// what carries its bytes. New wraps any net.Conn in a blocking Transport; the root
// package hands NewTransport its own transports: a TCP or Unix socket read
// through the runtime's poller without a buffer while idle, or an event
// loop's non-blocking socket. A later HTTP/2 stream or a TLS session on the
// event loops is one more implementation of the same interface.
//
// # I/O modes
//
// Over a blocking Transport (the goroutine mode) the reader is a goroutine
// that waits in NextFrame, Read or WaitReadable; over a non-blocking one
// (Evented: the event-loop mode) nothing ever waits: a read with no bytes
// ready returns ErrWouldBlock, having consumed what there was, and the
// transport's owner (an event loop) calls the reader again when bytes
// arrive; writers do not wait for the peer either, but for room in the
// transport (Transport.WaitRoom) before they write. Timers made with
// AfterFunc run on the loop in that mode. In both modes a connection with
// nothing partial buffered gives its read buffer back to the pool while it
// waits, if its Transport can wait without one (Transport.ReadLazy).
//
// # Model
//
// Reading is pull-based and done by one goroutine at a time: NextFrame
// returns the next validated frame header, Read returns that frame's payload
// (unmasked) and io.EOF at its end. Every complete frame already in the read
// buffer is parsed before the next system call, and a payload read with a
// buffer at least as large as the read buffer bypasses it (no extra copy).
// Limits are checked against the header before any payload byte is read, and
// nothing is ever allocated from a length the peer declared.
//
// The decoder is resumable: when a read deadline expires in the middle of a
// header or a payload, NextFrame or Read returns the timeout error and the
// next call continues exactly where the last one stopped. Only a deadline
// error is recoverable; any other read error is sticky.
//
// Writing is safe from many goroutines at once: WriteFrame serializes whole
// frames (they never interleave), and frames queued by writers that arrived
// while another was writing are coalesced into one system call. Client
// connections mask every frame with a fresh key from crypto/rand and never
// modify the caller's payload.
//
// # States
//
// A Conn moves through Connecting (created by New or NewTransport, the
// handshake in progress on the socket), Connected (Open), Closing (a close
// frame was sent or received) and Closed (the socket is closed), only
// forward; any state may go straight to Closed. The rules are in one pure
// function (canTransition).
package conn
