package frame

import (
	"bytes"
	"testing"
)

// maskBytewise is the definition of §5.3: octet i of the transformed data
// is octet i of the original data XOR octet (i mod 4) of the key, here
// starting at key position pos.
func maskBytewise(key [4]byte, pos int, b []byte) int {
	for i := range b {
		b[i] ^= key[(pos+i)%4]
	}
	return (pos + len(b)) % 4
}

func TestMaskRFC(t *testing.T) {
	// RFC 6455 §5.7: "Hello" with key 37 fa 21 3d.
	b := []byte("Hello")
	if pos := Mask(rfcKey, 0, b); pos != 1 {
		t.Errorf("Mask returned %d, want 1", pos)
	}
	if want := []byte{0x7f, 0x9f, 0x4d, 0x51, 0x58}; !bytes.Equal(b, want) {
		t.Errorf("masked % x, want % x", b, want)
	}
}

// Mask matches the byte-by-byte definition for every key position, every
// length up to 300 and every alignment of the slice.
func TestMaskMatchesDefinition(t *testing.T) {
	key := [4]byte{0x01, 0x23, 0xC4, 0xF7}
	src := make([]byte, 300+8)
	for i := range src {
		src[i] = byte(i*7 + 3)
	}
	got := make([]byte, len(src))
	want := make([]byte, len(src))
	for pos := range 4 {
		for off := range 8 {
			for n := 0; n+off <= 300; n++ {
				copy(got, src)
				copy(want, src)
				gp := Mask(key, pos, got[off:off+n])
				wp := maskBytewise(key, pos, want[off:off+n])
				if gp != wp || !bytes.Equal(got, want) {
					t.Fatalf("pos %d offset %d length %d: Mask differs from the definition (returned %d, want %d)", pos, off, n, gp, wp)
				}
			}
		}
	}
}

// Long payloads, where the amd64 build masks 64-byte blocks in assembly
// and the word loop finishes: every key position, misaligned slices and
// lengths around the block boundaries.
func TestMaskLongMatchesDefinition(t *testing.T) {
	key := [4]byte{0x9A, 0x01, 0x5C, 0xE3}
	src := seq(70000)
	for _, n := range []int{255, 256, 257, 319, 320, 321, 1000, 1024, 4099, 65536, 65536 + 63, 69990} {
		for pos := range 4 {
			for _, off := range []int{0, 1, 3, 7} {
				got := bytes.Clone(src[:off+n])
				want := bytes.Clone(got)
				gp := Mask(key, pos, got[off:])
				wp := maskBytewise(key, pos, want[off:])
				if gp != wp || !bytes.Equal(got, want) {
					t.Fatalf("length %d, pos %d, offset %d: Mask differs from the definition", n, pos, off)
				}
			}
		}
	}
}

// Masking twice restores the input, and masking in pieces, each continuing
// at the position the previous returned, equals masking whole.
func TestMaskProperties(t *testing.T) {
	key := [4]byte{0xDE, 0xAD, 0xBE, 0xEF}
	orig := seq(1000)
	for pos := range 4 {
		b := bytes.Clone(orig)
		Mask(key, pos, b)
		if bytes.Equal(b, orig) {
			t.Fatalf("pos %d: Mask changed nothing", pos)
		}
		Mask(key, pos, b)
		if !bytes.Equal(b, orig) {
			t.Fatalf("pos %d: masking twice is not the identity", pos)
		}

		whole := bytes.Clone(orig)
		end := Mask(key, pos, whole)
		pieces := bytes.Clone(orig)
		p := pos
		for i, cut := 0, 0; cut < len(pieces); i++ {
			next := min(len(pieces), cut+i%37) // pieces of 0 to 36 bytes
			p = Mask(key, p, pieces[cut:next])
			cut = next
		}
		if p != end || !bytes.Equal(pieces, whole) {
			t.Fatalf("pos %d: masking in pieces differs from masking whole", pos)
		}
	}
}

func TestMaskAllocs(t *testing.T) {
	b := make([]byte, 4096)
	if allocs := testing.AllocsPerRun(100, func() { Mask(rfcKey, 3, b[1:]) }); allocs != 0 {
		t.Errorf("Mask: %v allocations, want 0", allocs)
	}
}
