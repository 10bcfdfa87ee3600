//go:build race

package stack

// raceEnabled: the race detector doubles the runtime's stack guard, so a
// grown stack leaves less room than in a normal build.
const raceEnabled = true
