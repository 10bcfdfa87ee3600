//go:build race

package deflate

// raceEnabled shrinks the largest test payloads under the race detector,
// which slows this CPU-bound package about tenfold without finding more.
const raceEnabled = true
