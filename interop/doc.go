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
// A peer that is not installed skips its test, unless CI=true, where it fails
// it: CI must run every pair. install.sh installs them all.
package interop
