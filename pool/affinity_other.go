//go:build !linux

package pool

// allowedCPUs returns nil: CPU affinity is a Linux-only feature here, and
// WorkersConfig.Affinity does nothing elsewhere (workers are not even
// locked to their threads).
func allowedCPUs() []int { return nil }

// pinThread is never called where allowedCPUs returns nil.
func pinThread(int) error { return nil }
