//go:build amd64 && !purego

package frame

// haveMaskBlocks reports whether maskBlocks has an assembly version; Mask
// calls it only then.
const haveMaskBlocks = true

// maskBlocks XORs b, whose length must be a multiple of 64, with k64
// repeated. It works 16 bytes per SSE2 instruction, four at a time; every
// amd64 processor has SSE2. (mask_amd64.s)
//
//go:noescape
func maskBlocks(b []byte, k64 uint64)
