// Package conn is the WebSocket transport: a net.Conn that speaks RFC 6455
// frames, after the opening handshake is done.
//
// A Conn knows frames, never messages. It owns the socket, the read buffer,
// the frame decoder (package frame), the write buffer and the connection
// state. Package session builds messages, control-frame handling and the close
// handshake on top of it.
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
// A Conn moves through Disconnected (the zero value), Connecting (created by
// New, the handshake in progress on the socket), Connected (Open), Closing
// (a close frame was sent or received) and Closed (the socket is closed). The
// rules are in the pure function CanTransition.
package conn
