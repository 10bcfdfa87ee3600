//go:build !linux

package affinity

// CPUs returns nil: CPU affinity is a Linux-only feature here, and
// WorkersConfig.Affinity and the event loops' Affinity do nothing elsewhere
// (the goroutines are not even locked to their threads).
func CPUs() []int { return nil }

// Pin does nothing: it is never called where CPUs returns nil.
func Pin(int) error { return nil }
