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
// [Case.Extensions] is the hook for the compression groups 12 and 13: the
// runner already offers it when testing a server; accepting it when testing
// a client, and RSV1 handling, come with those groups.
//
// Reports ([WriteReports]) are an index.json in the Autobahn format, one JSON
// file per case with the details, and an index.md summary.
package conformance
