//go:build race

package websocket_test

// raceEnabled: the race detector makes sync.Pool drop a random share of
// what is put into it, so allocation counts are not exact.
const raceEnabled = true
