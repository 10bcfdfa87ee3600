//go:build race

package conformance

// raceEnabled: the race detector slows the compression cases several-fold,
// so the tests run fewer of them.
const raceEnabled = true
