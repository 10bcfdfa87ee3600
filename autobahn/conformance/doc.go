// Package conformance is a self-contained RFC 6455 conformance runner in the
// spirit of the Autobahn|Testsuite: it plays scripted test cases against a
// WebSocket peer and judges how the peer reacted.
//
// # Model
//
// A [Case] is written once and is role-agnostic. Its script drives a raw
// connection that can put arbitrary frames on the wire: any opcode,
// any RSV bits, FIN on or off, payloads split into frames and into TCP writes
// of chosen sizes, with pauses in between. While the script runs, everything
// the peer sends is decoded and recorded as events (messages, pings, pongs,
// and named "timeout" marks the script sets at its own checkpoints). The case
// declares the acceptable event lists, one per verdict (OK, NON-STRICT, ...),
// and how the connection must end (who starts the closing handshake, whether
// it must be clean, which close codes are acceptable).
//
// Judging follows the public semantics of the Autobahn suite: the behavior is
// the verdict whose event list equals what was received (FAILED if none
// does); the close behavior is FAILED when the wrong endpoint closed, UNCLEAN
// when a clean close was required but did not happen, WRONG CODE when the
// peer's close code is not in the expected set, FAILED BY CLIENT when, testing
// a server, the runner had to drop TCP itself, and OK otherwise. Case numbers
// mean the same thing here and in the Autobahn reports.
//
// # Independence
//
// The runner never imports the library it tests: it carries its own frame
// encoder and decoder, its own opening handshake, and its own UTF-8 checks,
// so a bug in the library's codec cannot hide itself by being on both sides.
//
// # Roles
//
// [Runner.RunServerTests] dials a server under test once per case (the
// runner is the WebSocket client and masks its frames). [Runner.Serve]
// plays the server for a client under test, which connects to /getCaseCount,
// /runCase?case=N&agent=NAME and /updateReports?agent=NAME in turn; frames
// from the runner are unmasked, and frames from the client must be masked.
//
// # Compression (groups 12 and 13)
//
// The cases of groups 12 and 13 negotiate permessage-deflate (RFC 7692),
// then send compressed messages one at a time and check each echo. As the
// client, the runner sends the case's offer ([Case.Extensions]); a server
// that declines makes the case UNIMPLEMENTED, and a response that is not a
// legal answer to the offer (a parameter that was not allowed, a window
// larger than requested, a missing server_no_context_takeover, a malformed
// or unknown parameter) makes it FAILED before any message. As the server,
// the runner answers the client's offers with the case's accept rule, the
// suite's: it grants whatever the client asks of the server's side and asks
// for client_no_context_takeover and a smaller client window as the case
// says, the latter only of an offer that carries client_max_window_bits. A
// client that offers nothing acceptable gets no extension and the case is
// UNIMPLEMENTED; a malformed offer fails the handshake (400) and the case.
// Groups 1-10 never offer compression and decline a client's offer, so a
// testee with compression enabled is judged there exactly as without it.
//
// On the wire RSV1 marks the first frame of a compressed message and only
// that frame; the payload is raw DEFLATE without the 00 00 ff ff that ends a
// sync flush. The runner compresses with compress/flate at the suite's level
// (6) when the testee decodes with a 15-bit window, and with Huffman-only
// blocks, which have no back-references and so fit any window, when the
// testee asked for a smaller one; with context takeover one compressor runs
// on across messages. Like the suite's client, the runner's offers carry
// client_no_context_takeover, which RFC 7692 makes a mere hint, and it keeps
// its context unless the server's response asks it not to. It decompresses with compress/flate and also parses
// every received message with a small DEFLATE decoder of its own that checks
// each back-reference against the agreed window and against the history the
// testee may use (none before the message without context takeover): a
// message that breaks either, that is not valid DEFLATE, or that has RSV1 on
// a continuation or control frame fails the connection and the case.
//
// The suite cuts its messages from five files it ships; the runner
// generates same-sized stand-ins of the same kinds (JSON, a greyscale
// bitmap, German verse, HTML, a PDF-like binary) from fixed seeds. Each case
// records the offer, the response and the agreed parameters in its report.
// [Runner.CompressionMessages] shortens these cases for quick runs.
//
// Reports ([WriteReports]) are an index.json in the Autobahn format, one JSON
// file per case with the details, and an index.md summary.
package conformance
