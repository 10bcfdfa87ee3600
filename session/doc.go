// Package session is the WebSocket protocol at the message level, on top of
// a conn.Conn: message reassembly and fragmentation, fail-fast UTF-8
// validation of text, control frames, the close handshake, a ping/pong
// heartbeat with round-trip times, an idle timeout, and per-session user
// data.
//
// # I/O modes and who owns what
//
// A Session runs in one of two I/O modes, which its conn.Conn decides
// (conn.Conn.Evented):
//
//   - goroutine mode: the session's reader is a goroutine, the
//     application's (ReadMessage, AppendMessage, NextReader, Serve) or the
//     session's own (ServeDetached), and it blocks on the socket while it
//     waits for bytes;
//   - event-loop mode: an event loop (a Server in IOEventLoop mode) owns
//     the socket and calls ServeReady whenever bytes arrive or a deadline
//     passes; ServeReady reads what is there without waiting, hands each
//     whole message to Options.OnMessage on the loop, and returns. Nothing
//     else may read: the reading methods return ErrEventLoop, and Close
//     never waits (the loop reads the peer's close frame).
//
// Serve, ServeDetached and ServeReady are one message driver that differs
// only in how it waits: on the caller's goroutine, on goroutines of the
// session's own that keep small stacks while idle, or not at all. All three
// hold writes while frames that arrived together are handled, run the same
// close handshake and decompression, and hold no message buffer while the
// connection is idle.
//
// The state has one owner each: the read state (reassembly, UTF-8, the
// partial message, inflation) belongs to the reader, one at a time; the
// write side is shared by any number of writers, which the session keeps
// message by message (and the connection frame by frame); the close
// handshake's state is guarded by the session's close lock. The heartbeat
// timer (and, in event-loop mode, every timer, which runs on the loop)
// signals: it sends pings or a close frame and aborts the connection once
// a deadline has passed, which ends the reader's wait. With PingInterval
// in the goroutine mode it also reads, but only while nobody else does:
// it takes the read side when it is free and no driver runs, handles
// control frames only, stops before a data frame, and gives the read side
// back to a reader at once (see Options.PingInterval).
//
// # Reading
//
// A Session is read by one goroutine at a time, in one of two styles:
//
//   - pull: ReadMessage (a fresh slice per message), AppendMessage (into a
//     buffer the caller reuses: no allocation per message) or NextReader (a
//     stream, for messages too large to hold);
//   - push: Serve, which reads until the session ends and hands each message
//     to Options.OnMessage. While messages that arrived together are being
//     handled, writes are held and leave in one system call when Serve next
//     waits for the socket. ServeDetached does
//     the same on goroutines of its own, moving to a fresh small stack when
//     the connection goes idle, for servers with many idle connections;
//     ServeReady is the same for an event loop.
//
// Control frames are handled while reading: a ping is answered with a pong
// carrying the same payload (unless the peer is not reading the pongs
// already sent: see conn.Conn.AnswerPing), a pong feeds the heartbeat, and
// a close frame runs the close handshake. So a session whose application
// never reads answers pings only while the heartbeat reads for it
// (Options.PingInterval, goroutine mode); otherwise keep a reader running
// (Serve does).
//
// A connection that drops without a close frame ends with a 1006
// CloseError. If the peer ended its stream (io.EOF: FIN, perhaps only a
// half-close), the socket is closed after what was written, with FIN;
// after any other error it is aborted (a reset).
//
// Text is validated as it arrives, across frame and read boundaries; the
// session fails with 1007 at the first byte that cannot be part of valid
// UTF-8, not at the end of the message.
//
// A read whose context is cancelled or expires returns the context's error
// and leaves the session usable: the next read continues the same message
// where the last one stopped. A context that ends after its call has
// returned changes nothing: the deadline it stands for is set only while
// a call with it is under way.
//
// # Errors after the end
//
// Once a session has ended, however and by whom (the peer's close frame,
// Close, CloseNow, a protocol error, the heartbeat's pong timeout, the
// idle timeout, a slow consumer), every read and write returns its
// *CloseError, the same value as Err and OnClose: the code and reason it
// ended with, and the cause (errors.Is(err, ErrPongTimeout)). A
// CloseError also matches net.ErrClosed.
//
// # Writing
//
// Writes are safe from any number of goroutines. Whole messages
// (WriteMessage and NextWriter streams) never
// interleave with each other; control frames (pings, pongs, close) may go
// out between the fragments of a long message, as RFC 6455 §5.4 allows.
// Messages longer than Options.FragmentSize are split into frames of that
// size. A write whose context ends before it starts returns the context's
// error harmlessly; one that ends while bytes are being written fails the
// session, since half a frame cannot be taken back.
//
// # Compression
//
// With Options.Compression set (the opening handshake negotiated
// permessage-deflate, RFC 7692), messages of at least Compression.Threshold
// bytes are compressed: RSV1 marks the first frame, the final 00 00 ff ff
// of the DEFLATE sync flush is left off, and the window and context
// takeover agreed for each direction are honoured, down to 8-bit windows
// (the encoder is our own, internal/deflate; compress/flate cannot limit
// its window). SetCompression turns compression off and on for the
// messages that follow. Received messages are inflated under the
// connection's message limit, which applies to the decompressed size: a
// message that inflates past it fails the session with 1009 as soon as the
// limit is passed, so a small compression bomb costs the limit, not its
// inflated size. Without context takeover no compression state is kept
// between messages; with it, a session keeps its compressor's history and
// the peer's last 2^bits bytes.
//
// # Queues and broadcast
//
// With Options.SendQueueSize set, Enqueue hands a message to a bounded
// per-session queue that a writer goroutine of the session drains, so the
// sender never waits for a slow peer. A full queue applies
// Options.SlowPolicy: PolicyBlock waits up to SlowTimeout, PolicyDrop drops
// the message, PolicyClose closes the session with SlowCloseCode (1013 by
// default). A Manager keeps a registry of live sessions (they leave it when
// they end), iterates over a snapshot, and broadcasts a message encoded once
// (conn.Prepare) to every session through its queue.
//
// # Closing
//
// Close runs the close handshake of RFC 6455 §7: it sends a close frame,
// waits (at most Options.CloseTimeout) for the peer's, and closes the TCP
// connection, the server first, the client once the server has. A close
// frame from the peer is answered with the same status code. A peer that
// breaks the protocol gets the close code RFC 6455 prescribes (1002, 1007,
// 1009) and the connection is closed.
package session
