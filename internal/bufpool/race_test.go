//go:build race

package bufpool

// raceEnabled: the race detector makes sync.Pool drop a random share of
// what is put into it, so reuse and allocation counts are not exact.
const raceEnabled = true
