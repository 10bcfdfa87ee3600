// Package frame implements the wire format of RFC 6455 §5: frame headers,
// opcodes, masking, close payloads and the framing rules a receiver must
// enforce.
//
// The package does no I/O of its own and keeps no goroutines. It is the
// bottom of the stack: connections, sessions and fuzz targets build on it,
// and it imports nothing but the standard library.
//
// # Model
//
// A frame on the wire is a header of 2 to 14 bytes followed by Length
// payload bytes:
//
//	byte 0   FIN | RSV1 | RSV2 | RSV3 | opcode (4 bits)
//	byte 1   MASK | payload length (7 bits)
//	         then 0, 2 or 8 bytes of extended length (big endian)
//	         then 0 or 4 bytes of masking key
//
// Header is the decoded form of those bytes. AppendHeader encodes it,
// always with the shortest length encoding; ParseHeader decodes it from a
// byte slice and reports an incomplete prefix as (n == 0, err == nil) so
// that callers can wait for more input.
//
// Parsing and checking are separate steps. ParseHeader only rejects what
// cannot be represented (a 64-bit length with its top bit set); CheckHeader
// applies the per-frame rules (reserved opcodes, RSV bits, control frame
// limits, masking direction). The Decoder combines both with the rules that
// span frames (fragmentation, §5.4) and with size limits, and is what a
// connection uses to read.
//
// # Decoder
//
// Decoder is a resumable state machine fed with whatever bytes have
// arrived: every piece of partial state (header bytes seen so far, payload
// still due, mask position, the message in progress) lives inside it. A read
// that stops in the middle of a header or of a payload, for example because
// a deadline expired, therefore loses nothing: the caller feeds the rest
// later. The same Decoder serves a blocking read loop and an event loop.
//
// The Decoder never allocates and never looks at a declared length before
// checking it against the configured limits, so a peer cannot make the
// reader reserve memory by announcing a large frame.
//
// # Errors
//
// Violations by the peer are reported as *ProtocolError values whose Code is
// the close status to send before failing the connection (§7.1.7): 1002 for
// framing errors, 1007 for a close reason that is not UTF-8, 1009 for
// exceeded limits. Use errors.As to extract it.
//
// # Masking
//
// Mask applies the client-to-server masking of §5.3 in place, a machine
// word or more at a time. Masking is an involution: masking twice with the
// same key and position restores the input. The keys themselves are the
// sender's business: §5.3 and §10.3 require a fresh, unpredictable key per
// frame, which conn draws from crypto/rand in batches.
package frame
