package frame

import (
	"encoding/binary"
	"math/bits"
)

// Mask XORs b in place with the masking key (RFC 6455 §5.3), starting at
// byte pos of the key, and returns the key position that follows b,
// (pos+len(b)) % 4. Feeding a payload in pieces, each call passing the
// position the previous one returned, gives the same result as masking it
// whole. Masking is its own inverse, so Mask also unmasks.
//
// pos must be in [0, 3]; only its low two bits are used.
func Mask(key [4]byte, pos int, b []byte) int {
	pos &= 3
	next := (pos + len(b)) & 3
	if len(b) < 8 {
		for i := range b {
			b[i] ^= key[pos&3]
			pos++
		}
		return next
	}
	// Rotate the key so that its first byte lines up with b[0], then
	// repeat it to fill a word. Little endian makes the byte order of the
	// word match the byte order in memory, so word loads and stores need
	// no further shuffling.
	k32 := bits.RotateLeft32(binary.LittleEndian.Uint32(key[:]), -8*pos)
	k64 := uint64(k32) | uint64(k32)<<32
	// The bulk in blocks of 64 bytes, which keep the key's alignment, where
	// there is an assembly version (SSE2 on amd64); below 256 bytes its
	// call does not pay for itself. Then the rest a word at a time.
	if haveMaskBlocks && len(b) >= 256 {
		n := len(b) &^ 63
		maskBlocks(b[:n], k64)
		b = b[n:]
	}
	// 32 bytes per iteration: four independent loads and stores keep the
	// pipeline busy; the bounds-check hint lets the compiler drop the
	// checks of the four accesses.
	for len(b) >= 32 {
		w := b[:32:32]
		binary.LittleEndian.PutUint64(w[0:], binary.LittleEndian.Uint64(w[0:])^k64)
		binary.LittleEndian.PutUint64(w[8:], binary.LittleEndian.Uint64(w[8:])^k64)
		binary.LittleEndian.PutUint64(w[16:], binary.LittleEndian.Uint64(w[16:])^k64)
		binary.LittleEndian.PutUint64(w[24:], binary.LittleEndian.Uint64(w[24:])^k64)
		b = b[32:]
	}
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k64)
		b = b[8:]
	}
	// Fewer than 8 bytes left; the word loop consumed multiples of 4, so
	// the key still starts at byte 0 of k64.
	for i := range b {
		b[i] ^= byte(k64 >> (8 * uint(i)))
	}
	return next
}
