// Package interop tests the library against real WebSocket peers, run as
// subprocesses: headless Chromium (driven by playwright-core), Node's ws,
// and Python's websockets and autobahn. It has no code of its own beyond
// its tests; the peers' scripts live in peers/.
//
// Every pair runs the same scenario (peers/scenario.mjs and peers/scenario.py
// spell it out): each side sends a text message, a binary message, an empty
// message, a 1 MiB message and a fragmented text message whose frames cut
// multi-byte code points, checks the five it receives, and then the client
// closes with 4000 "bye". Both sides judge: the Go test checks what our side
// got, and the peer prints PASS or FAIL lines that the test reads.
//
// The permessage-deflate pairs (RFC 7692; deflate_test.go) run a "deflate"
// scenario of compressible JSON-ish text up to 1 MiB, a message sent twice
// in a row, binary, empty and incompressible random messages, through a TCP
// relay on 127.0.0.1 that records the wire (wiretap_test.go). Besides both
// verdicts they check, for each case: the Sec-WebSocket-Extensions offered
// and answered, parameter by parameter, and as the peer reports it; that
// each direction inflates, with compress/flate and independently of both
// sides, to the messages sent; that RSV1 is set as each side's threshold
// says; that compression happened (our side's Stats) and context takeover
// with it; and that no back-reference reaches past the sender's agreed
// window (deflatewalk_test.go walks the DEFLATE codes: zlib-based peers
// would not notice). The pairs are Chromium against our Server through
// Accept, Node's ws and Python's websockets in both roles, with and without
// context takeover and with 9- and 10-bit windows, asked for by either
// side. No pair uses 8 bits: zlib cannot compress with them.
//
// A peer that is not installed skips its test, unless CI=true, where it fails
// it: CI must run every pair. install.sh installs them all.
package interop
