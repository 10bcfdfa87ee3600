// Package deflate compresses and decompresses the messages of the WebSocket
// permessage-deflate extension (RFC 7692) with the DEFLATE format of
// RFC 1951.
//
// # Why not compress/flate for compression
//
// permessage-deflate lets each side cap the LZ77 window its peer may use
// (server_max_window_bits, client_max_window_bits: 2^8..2^15 bytes). A
// peer that asked for a small window keeps only that much history, so a
// back-reference further than that breaks the stream. compress/flate always
// searches a 32 KiB window and cannot be told otherwise, and its compressor
// holds 600 KB to 1.2 MB of state, which every connection with context
// takeover pays. [Compressor] is an LZ77 + Huffman encoder whose
// back-references never reach further than 2^windowBits bytes, and whose
// state is sized by that window (see [Compressor.Size]).
//
// Decompression has no such problem: an inflater that keeps 32 KiB of
// history decodes any window, so [Decompressor] is built on compress/flate.
// What it adds is memory discipline: the flate reader (32 KiB window plus
// tables) is borrowed from a pool for the length of one message, and with
// context takeover only the last 2^windowBits bytes of output are kept
// between messages, as the dictionary of the next one.
//
// # Messages and the sync flush
//
// RFC 7692 §7.2.1 compresses a message into DEFLATE blocks that end with a
// sync flush, an empty stored block with BFINAL=0 (bytes 00 00 ff ff once
// aligned), and removes those four bytes from the wire. [Compressor.Append]
// returns a message's bytes without them; [Decompressor] puts them back.
// With context takeover the LZ77 history carries from one message to the
// next; without it every message is a stream of its own.
//
// # The encoder
//
// Input is copied into a window buffer of 2^windowBits bytes of history
// plus room for new input. A hash of the next four bytes finds earlier
// occurrences: level 1 keeps one candidate per hash bucket and skips ahead
// faster and faster through data that does not match (incompressible input
// costs little); levels 2 and 3 follow hash chains greedily; levels 4 to 9
// follow longer chains with lazy matching, the shape of zlib's table. Every
// candidate is checked byte by byte and against the window before it is
// used, so a stale hash entry can cost a match but never produce a wrong
// one. Matches are recorded as tokens; literals are not stored at all, as
// they are the window bytes between matches. A block ends when its tokens
// fill up, when its first byte is about to leave the buffer, or at the end
// of an Append; it is then written as whichever of dynamic Huffman, fixed
// Huffman or stored is smallest.
package deflate

import "errors"

var (
	// ErrTooLarge is returned when a message inflates past the limit given
	// to [Decompressor.Append].
	ErrTooLarge = errors.New("websocket: deflate: decompressed message too large")

	// ErrCorrupt is wrapped by the errors for input that is not valid
	// DEFLATE data (errors.Is(err, ErrCorrupt) reports true).
	ErrCorrupt = errors.New("websocket: deflate: corrupt compressed data")
)

// Window sizes, as the permessage-deflate window-bits parameters.
const (
	MinWindowBits = 8  // smallest window a peer may negotiate: 256 bytes
	MaxWindowBits = 15 // largest window, and the DEFLATE maximum: 32 KiB
)

// RFC 1951 constants.
const (
	minMatch  = 4   // shortest match the 4-byte hash finds (DEFLATE allows 3)
	maxMatch  = 258 // longest match DEFLATE can code
	endBlock  = 256 // the end-of-block literal/length symbol
	numLit    = 286 // literal/length symbols that may appear (286, 287 never do)
	numDist   = 30  // distance symbols that may appear (30, 31 never do)
	numCL     = 19  // code-length code symbols
	maxLitBit = 15  // longest literal/length and distance code
	maxCLBit  = 7   // longest code-length code
	maxStored = 65535
)

// The base length and number of extra bits of each length symbol
// (257 + index), RFC 1951 §3.2.5. Length 258 has its own symbol, 285, with
// no extra bits, although 284 with 5 extra bits could reach it.
var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
)

// The base distance and number of extra bits of each distance symbol.
var (
	distBase  = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

// clOrder is the order in which the code-length code's lengths are sent
// (RFC 1951 §3.2.7): the ones most likely to be zero come last, so that
// HCLEN can drop them.
var clOrder = [numCL]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// lengthSym maps a match length minus 3 to the index of its length symbol.
var lengthSym = func() (t [256]uint8) {
	for i := range 28 {
		lo := int(lengthBase[i]) - 3
		for l := lo; l < lo+1<<lengthExtra[i] && l < 256; l++ {
			t[l] = uint8(i)
		}
	}
	t[255] = 28 // 258 is symbol 285, not 284 with extra bits 31
	return t
}()

// distSymLo maps distance-1 below 256 to its distance symbol; distSymHi
// maps (distance-1)>>7 for the rest, whose symbols span multiples of 128.
var distSymLo, distSymHi = func() (lo, hi [256]uint8) {
	for i := range numDist {
		first := int(distBase[i]) - 1
		for d := first; d < first+1<<distExtra[i]; d++ {
			if d < 256 {
				lo[d] = uint8(i)
			} else {
				hi[d>>7] = uint8(i)
			}
		}
	}
	return lo, hi
}()

// distSym returns the distance symbol of a distance minus 1 (0..32767).
func distSym(dm1 int) int {
	if dm1 < 256 {
		return int(distSymLo[dm1])
	}
	return int(distSymHi[dm1>>7&0xff])
}

func checkWindowBits(windowBits int) {
	if windowBits < MinWindowBits || windowBits > MaxWindowBits {
		panic("deflate: window bits out of range 8..15")
	}
}
