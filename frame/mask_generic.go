//go:build !amd64 || purego

package frame

// haveMaskBlocks reports whether maskBlocks has an assembly version; Mask
// calls it only then.
const haveMaskBlocks = false

func maskBlocks(b []byte, k64 uint64) { panic("frame: maskBlocks has no assembly version here") }
