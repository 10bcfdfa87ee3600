package deflate

import (
	"encoding/binary"
	"math/bits"
	"slices"
)

// bitWriter packs DEFLATE's LSB-first bit stream into bytes appended to
// out. At most 31 bits wait in acc between calls, so put may add up to 32
// bits at once (a length code with its extra bits, or a distance code with
// its extra bits) without overflowing the 64-bit accumulator.
type bitWriter struct {
	acc uint64
	n   uint
	out []byte
}

func (w *bitWriter) put(v uint64, n uint) {
	w.acc |= v << w.n
	w.n += n
	if w.n >= 32 {
		w.out = binary.LittleEndian.AppendUint32(w.out, uint32(w.acc))
		w.acc >>= 32
		w.n -= 32
	}
}

// flushBytes appends every whole byte waiting in acc; fewer than 8 bits
// stay behind.
func (w *bitWriter) flushBytes() {
	for w.n >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.n -= 8
	}
}

// align pads with zero bits to the next byte boundary and appends
// everything.
func (w *bitWriter) align() {
	w.n = (w.n + 7) &^ 7
	w.flushBytes()
}

// A code is a Huffman code ready to write: the code bits reversed (DEFLATE
// sends Huffman codes starting from their most significant bit, the bit
// writer starts from the least significant one) in the low 16 bits, its
// length above.
type code uint32

func (c code) bits() uint64 { return uint64(c & 0xffff) }
func (c code) len() uint    { return uint(c >> 16) }

// fixedLit and fixedDist are the fixed Huffman codes of RFC 1951 §3.2.6.
var fixedLit, fixedDist = func() (lit [288]code, dist [numDist]code) {
	var lens [288]uint8
	for i := range lens {
		switch {
		case i < 144:
			lens[i] = 8
		case i < 256:
			lens[i] = 9
		case i < 280:
			lens[i] = 7
		default:
			lens[i] = 8
		}
	}
	canonical(lens[:], lit[:])
	var dlens [numDist]uint8
	for i := range dlens {
		dlens[i] = 5
	}
	canonical(dlens[:], dist[:])
	return lit, dist
}()

// canonical assigns the canonical codes of RFC 1951 §3.2.2 to lens.
func canonical(lens []uint8, codes []code) {
	var count [maxLitBit + 1]uint16
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	var next [maxLitBit + 1]uint16
	c := uint16(0)
	for l := 1; l <= maxLitBit; l++ {
		c = (c + count[l-1]) << 1
		next[l] = c
	}
	for s, l := range lens {
		if l == 0 {
			codes[s] = 0
			continue
		}
		codes[s] = code(bits.Reverse16(next[l])>>(16-l)) | code(l)<<16
		next[l]++
	}
}

// huffBuilder holds the scratch space for building length-limited Huffman
// codes, so that building one allocates nothing.
type huffBuilder struct {
	keys [numLit]uint64 // freq<<16 | symbol, sorted
	w    [numLit]int32  // weights, then tree links, then code lengths
}

// lengths sets lens to the code lengths of an optimal prefix code for freq
// whose codes are at most limit bits long. Symbols of zero frequency get no
// code, except that the code always has at least two symbols, so that it
// is complete: a one-symbol code cannot be complete, and some inflaters
// reject incomplete ones.
func (h *huffBuilder) lengths(freq []uint32, lens []uint8, limit int) {
	clear(lens)
	keys := h.keys[:0]
	for s, f := range freq {
		if f != 0 {
			keys = append(keys, uint64(f)<<16|uint64(s))
		}
	}
	switch len(keys) {
	case 0:
		lens[0], lens[1] = 1, 1
		return
	case 1:
		s := keys[0] & 0xffff
		lens[s] = 1
		if s == 0 {
			lens[1] = 1
		} else {
			lens[0] = 1
		}
		return
	}
	slices.Sort(keys)
	w := h.w[:len(keys)]
	for i, k := range keys {
		w[i] = int32(k >> 16)
	}
	minRedundancy(w)
	// w[i] is now the length of keys[i]'s symbol; w[0] is the longest.
	if int(w[0]) > limit {
		limitLengths(w, limit)
	}
	for i, k := range keys {
		lens[k&0xffff] = uint8(w[i])
	}
}

// minRedundancy replaces the ascending weights in a (at least two) by the
// code lengths of a Huffman code for them, without extra memory: the
// in-place method of Moffat and Katajainen ("In-place calculation of
// minimum-redundancy codes", 1995). The first pass merges the two smallest
// of the remaining leaves and internal nodes into a[next], leaving in a
// consumed internal node the index of its parent; the second turns parent
// links into depths; the third hands out leaf depths from the internal
// depths, deepest (least frequent) leaves first.
func minRedundancy(a []int32) {
	n := int32(len(a))
	a[0] += a[1]
	root, leaf := int32(0), int32(2)
	for next := int32(1); next < n-1; next++ {
		if leaf >= n || a[root] < a[leaf] {
			a[next] = a[root]
			a[root] = next
			root++
		} else {
			a[next] = a[leaf]
			leaf++
		}
		if leaf >= n || (root < next && a[root] < a[leaf]) {
			a[next] += a[root]
			a[root] = next
			root++
		} else {
			a[next] += a[leaf]
			leaf++
		}
	}
	a[n-2] = 0
	for next := n - 3; next >= 0; next-- {
		a[next] = a[a[next]] + 1
	}
	avail, used, depth := int32(1), int32(0), int32(0)
	root, next := n-2, n-1
	for avail > 0 {
		for root >= 0 && a[root] == depth {
			used++
			root--
		}
		for avail > used {
			a[next] = depth
			next--
			avail--
		}
		avail = 2 * used
		depth++
		used = 0
	}
}

// limitLengths rewrites the lengths in a (descending, as minRedundancy
// leaves them) so that none exceeds limit and the code stays complete.
// Lengths past the limit are cut to it, which over-fills the code (the
// Kraft sum, counted in units of 2^-limit, exceeds 2^limit); each round
// then removes one leaf at the limit and splits the deepest shorter leaf
// into two one level down, which lowers the sum by exactly one unit and
// keeps the number of leaves. The counts are then handed out again, the
// longest lengths to the least frequent symbols.
func limitLengths(a []int32, limit int) {
	var count [maxLitBit + 1]int32
	for _, l := range a {
		count[min(int(l), limit)]++
	}
	total := int32(0)
	for l := 1; l <= limit; l++ {
		total += count[l] << (limit - l)
	}
	for total > 1<<limit {
		count[limit]--
		for l := limit - 1; l > 0; l-- {
			if count[l] > 0 {
				count[l]--
				count[l+1] += 2
				break
			}
		}
		total--
	}
	i := 0
	for l := limit; l > 0; l-- {
		for range count[l] {
			a[i] = int32(l)
			i++
		}
	}
}

// blockCoder holds what writing one block needs: symbol frequencies, the
// codes built from them and the header's code-length sequence.
type blockCoder struct {
	litFreq  [numLit]uint32
	distFreq [numDist]uint32
	litLen   [numLit]uint8
	distLen  [numDist]uint8
	seq      [numLit + numDist]uint8 // the lengths as the header sends them
	litCode  [numLit]code
	distCode [numDist]code
	clFreq   [numCL]uint32
	clLen    [numCL]uint8
	clCode   [numCL]code
	rle      [numLit + numDist]uint16 // code-length symbols, extra bits << 8
	nrle     int
	nlit     int // HLIT + 257
	ndist    int // HDIST + 1
	nclen    int // HCLEN + 4
	hb       huffBuilder
}

// dynamic builds the dynamic Huffman codes for the counted frequencies and
// returns the size in bits of the header and the symbols, without the
// extra bits of lengths and distances (common to both Huffman kinds).
func (b *blockCoder) dynamic() int {
	litLen, distLen := b.litLen[:], b.distLen[:]
	b.hb.lengths(b.litFreq[:], litLen, maxLitBit)
	b.hb.lengths(b.distFreq[:], distLen, maxLitBit)
	b.nlit = numLit
	for b.nlit > 257 && litLen[b.nlit-1] == 0 {
		b.nlit--
	}
	b.ndist = numDist
	for b.ndist > 1 && distLen[b.ndist-1] == 0 {
		b.ndist--
	}
	// The literal/length and distance lengths are sent as one sequence,
	// so a run may cross from one to the other.
	copy(b.seq[:], litLen[:b.nlit])
	copy(b.seq[b.nlit:], distLen[:b.ndist])
	b.runLengths(b.seq[:b.nlit+b.ndist])
	b.hb.lengths(b.clFreq[:], b.clLen[:], maxCLBit)
	b.nclen = numCL
	for b.nclen > 4 && b.clLen[clOrder[b.nclen-1]] == 0 {
		b.nclen--
	}
	canonical(litLen, b.litCode[:])
	canonical(distLen, b.distCode[:])
	canonical(b.clLen[:], b.clCode[:])

	n := 3 + 5 + 5 + 4 + 3*b.nclen
	for s, f := range b.clFreq {
		n += int(f) * int(b.clLen[s])
	}
	n += 2*int(b.clFreq[16]) + 3*int(b.clFreq[17]) + 7*int(b.clFreq[18])
	for s, f := range b.litFreq {
		n += int(f) * int(litLen[s])
	}
	for s, f := range b.distFreq {
		n += int(f) * int(distLen[s])
	}
	return n
}

// runLengths codes a sequence of code lengths with the code-length
// alphabet of RFC 1951 §3.2.7 (16: repeat the previous length 3..6 times,
// 17: 3..10 zeros, 18: 11..138 zeros) into b.rle and counts b.clFreq.
func (b *blockCoder) runLengths(lens []uint8) {
	clear(b.clFreq[:])
	n := 0
	emit := func(sym, extra int) {
		b.rle[n] = uint16(sym | extra<<8)
		b.clFreq[sym]++
		n++
	}
	for i := 0; i < len(lens); {
		l := lens[i]
		run := 1
		for i+run < len(lens) && lens[i+run] == l {
			run++
		}
		i += run
		if l == 0 {
			for run >= 11 {
				r := min(run, 138)
				emit(18, r-11)
				run -= r
			}
			if run >= 3 {
				emit(17, run-3)
				run = 0
			}
		} else {
			emit(int(l), 0)
			run--
			for run >= 3 {
				r := min(run, 6)
				emit(16, r-3)
				run -= r
			}
		}
		for ; run > 0; run-- {
			emit(int(l), 0)
		}
	}
	b.nrle = n
}

// extraBits returns the number of extra bits the counted lengths and
// distances need.
func (b *blockCoder) extraBits() int {
	n := 0
	for i, f := range b.litFreq[257:] {
		n += int(f) * int(lengthExtra[i])
	}
	for i, f := range b.distFreq {
		n += int(f) * int(distExtra[i])
	}
	return n
}

// fixedBits returns the size in bits of the header and symbols of a fixed
// Huffman block for the counted frequencies.
func (b *blockCoder) fixedBits() int {
	n := 3
	for s, f := range b.litFreq {
		n += int(f) * int(fixedLit[s].len())
	}
	for _, f := range b.distFreq {
		n += int(f) * 5
	}
	return n
}

// writeDynamicHeader writes the block header of a dynamic Huffman block
// built by dynamic.
func (b *blockCoder) writeDynamicHeader(w *bitWriter) {
	w.put(2<<1, 3) // BFINAL 0, BTYPE 10
	w.put(uint64(b.nlit-257), 5)
	w.put(uint64(b.ndist-1), 5)
	w.put(uint64(b.nclen-4), 4)
	for _, s := range clOrder[:b.nclen] {
		w.put(uint64(b.clLen[s]), 3)
	}
	for _, r := range b.rle[:b.nrle] {
		sym := r & 0xff
		c := b.clCode[sym]
		w.put(c.bits(), c.len())
		switch sym {
		case 16:
			w.put(uint64(r>>8), 2)
		case 17:
			w.put(uint64(r>>8), 3)
		case 18:
			w.put(uint64(r>>8), 7)
		}
	}
}
