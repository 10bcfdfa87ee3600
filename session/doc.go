// Package session is the WebSocket protocol at the message level, on top of
// a conn.Conn: message reassembly and fragmentation, fail-fast UTF-8
// validation of text, control frames, the close handshake, a ping/pong
// heartbeat with round-trip times, an idle timeout, and per-session user
// data.
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
//     waits for the socket (Flush sends them at once). ServeDetached does
//     the same on goroutines of its own, moving to a fresh small stack when
//     the connection goes idle, for servers with many idle connections.
//
// Control frames are handled while reading: a ping is answered with a pong
// carrying the same payload, a pong feeds the heartbeat, and a close frame
// runs the close handshake. So a session whose application never reads never
// answers pings: keep a reader running (Serve does).
//
// Text is validated as it arrives, across frame and read boundaries; the
// session fails with 1007 at the first byte that cannot be part of valid
// UTF-8, not at the end of the message.
//
// A read whose context is cancelled or expires returns the context's error
// and leaves the session usable: the next read continues the same message
// where the last one stopped.
//
// # Writing
//
// Writes are safe from any number of goroutines. Whole messages
// (WriteMessage, SendText, SendBinary, and NextWriter streams) never
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
