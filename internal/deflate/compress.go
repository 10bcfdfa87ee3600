package deflate

import (
	"encoding/binary"
	"math/bits"
	"sync"
	"unsafe"
)

// A levelConfig tunes the match finder for one compression level.
type levelConfig struct {
	chain int // candidates examined per search; 0: level 1's single-candidate search
	lazy  int // lazy matching: look one byte further while the pending match is shorter than this; 0: greedy
	good  int // lazy: a pending match this long cuts the chain to a quarter
	nice  int // stop searching at a match this long
	// insert is, for greedy levels, the longest match whose inner positions
	// are still added to the hash chains (longer ones are skipped through).
	insert int
	// After skip bytes without a match, positions are probed more and more
	// sparsely (one more byte skipped per skip/2 further bytes), so that
	// incompressible input does not cost a chain search per byte. Text
	// and structured data hardly ever go that long without a match.
	skip int
}

// levels follows the shape of zlib's configuration table: 1 is a
// single-probe greedy matcher with skipping, 2 and 3 greedy chain
// searches, 4 to 9 lazy searches with longer and longer chains.
var levels = [10]levelConfig{
	1: {},
	2: {chain: 4, nice: 16, insert: 8, skip: 256},
	3: {chain: 8, nice: 32, insert: 16, skip: 256},
	4: {chain: 16, lazy: 4, good: 4, nice: 16, skip: 512},
	5: {chain: 32, lazy: 16, good: 8, nice: 32, skip: 512},
	6: {chain: 128, lazy: 16, good: 8, nice: 128, skip: 512},
	7: {chain: 256, lazy: 32, good: 8, nice: 128, skip: 1024},
	8: {chain: 1024, lazy: 128, good: 32, nice: 258, skip: 1024},
	9: {chain: 4096, lazy: 258, good: 32, nice: 258, skip: 2048},
}

const (
	// lookahead is how many bytes past a position must be in the buffer
	// before it is searched while more input is waiting, so that matches
	// reach their full length.
	lookahead = maxMatch

	// minInput is the least room for new input after the window in the
	// buffer, and minBuffer the least size of the buffer. Each time the
	// buffer fills, the window is moved down over the oldest bytes, so it
	// is moved once per minInput (or more) bytes; a block cannot be
	// longer than the buffer.
	minInput  = 8 << 10
	minBuffer = 24 << 10

	// maxTokens bounds the matches of a block (literals are not stored).
	maxTokens = 8 << 10

	// farMatch is the longest distance at which a match of minMatch bytes
	// is used. Further away, its distance's extra bits make it cost about
	// as much as four literals, and it can hide a better match after it.
	farMatch = 4 << 10

	// A token is a match and the count of literals before it:
	// bits 0..14 distance-1, 15..22 length-3, 23..31 literal count.
	// litRunMax literals with no match make a token of their own.
	litRunShift = 23
	litRunMax   = 1<<(32-litRunShift) - 1
)

// Compressor compresses the messages of one direction of one connection
// into the DEFLATE data of RFC 7692: back-references never reach further
// than 2^windowBits bytes, and with context takeover the history carries
// from one message to the next.
//
// A Compressor is not safe for concurrent use.
type Compressor struct {
	level    int
	wbits    int
	takeover bool
	cfg      levelConfig

	// win holds the window (the last wsize bytes before pos) and input
	// not yet encoded, up to end. Bytes from hist to end are the stream's
	// own; anything before hist is left over and never matched.
	win        []byte
	wsize      int
	end        int
	pos        int // next byte to encode
	hist       int // first byte that belongs to the stream
	blockStart int // first byte of the block being collected
	litStart   int // first byte not yet covered by a token

	// base+i is the absolute stream position of win[i], modulo 2^32. The
	// hash tables hold absolute positions, so they need no rewriting when
	// the window moves: head holds the low 16 bits of the latest
	// position with each hash, chain the distance from a position to the
	// previous one with the same hash (0: none within the window), indexed
	// by absolute position modulo wsize.
	base      uint32
	hashShift uint
	head      []uint16
	chain     []uint16 // nil at level 1

	// scratch holds the tokens and Huffman tables of the blocks being
	// written. Every Append ends its blocks, so between calls it is empty
	// and goes back to a pool: an idle connection does not hold it.
	scratch *scratch
	bw      bitWriter
}

type scratch struct {
	tokens []uint32
	bc     blockCoder
}

var scratches = sync.Pool{New: func() any {
	return &scratch{tokens: make([]uint32, 0, maxTokens)}
}}

// NewCompressor returns a Compressor for the given level, 1 (fastest) to 9
// (smallest; 0 means 1), whose back-references never reach further than
// 2^windowBits bytes (8..15). With takeover the history of one message is
// used by the next (the peer must keep it too: context takeover); without,
// every message is compressed on its own. Invalid arguments panic.
func NewCompressor(level, windowBits int, takeover bool) *Compressor {
	if level == 0 {
		level = 1
	}
	if level < 1 || level > 9 {
		panic("deflate: compression level out of range 1..9")
	}
	checkWindowBits(windowBits)
	wsize := 1 << windowBits
	// At least one bucket per two window positions for level 1, which has
	// nothing but its buckets; the chains of the other levels make up for
	// half as many.
	hashBits := min(max(windowBits+1, 10), 14)
	if levels[level].chain > 0 {
		hashBits--
	}
	c := &Compressor{
		level:     level,
		wbits:     windowBits,
		takeover:  takeover,
		cfg:       levels[level],
		wsize:     wsize,
		win:       make([]byte, max(wsize+minInput, minBuffer)),
		hashShift: uint(32 - hashBits),
		head:      make([]uint16, 1<<hashBits),
	}
	if c.cfg.chain > 0 {
		c.chain = make([]uint16, wsize)
	}
	return c
}

// Size returns the number of bytes of memory the Compressor holds between
// calls to Append: the window buffer and hash tables. During a call it
// borrows about 40 KiB more from a pool (see [ScratchSize]).
func (c *Compressor) Size() int {
	return int(unsafe.Sizeof(*c)) + cap(c.win) + 2*cap(c.head) + 2*cap(c.chain)
}

// ScratchSize is the memory a Compressor borrows while Append runs: the
// matches of a block and the tables to code it.
const ScratchSize = int(unsafe.Sizeof(scratch{})) + 4*maxTokens

// Reset forgets the history and any pending bits, as a new Compressor.
func (c *Compressor) Reset() {
	// Moving base past every position used so far makes the old hash
	// entries point before hist, where they are ignored; clearing the
	// tables would cost more than small messages do.
	c.base += uint32(c.end)
	c.end, c.pos, c.hist, c.blockStart, c.litStart = 0, 0, 0, 0, 0
	c.bw = bitWriter{}
}

// Append compresses src as the next part of the current message and
// appends the output to dst.
//
// Every call ends the DEFLATE blocks it started, so its output covers all
// of src except for at most 7 bits, which wait for the next call. With
// final set the message ends with a sync flush: an empty stored block,
// returned without its last four bytes 00 00 ff ff (RFC 7692 §7.2.1), so
// that the output is byte-aligned and complete. An empty message is the
// single byte 00. Without context takeover the next message then starts
// afresh.
//
// Append allocates only to grow dst.
func (c *Compressor) Append(dst, src []byte, final bool) []byte {
	c.bw.out = dst
	c.scratch = scratches.Get().(*scratch)
	for {
		if c.end == len(c.win) {
			c.slide()
		}
		n := copy(c.win[c.end:], src)
		c.end += n
		src = src[n:]
		if len(src) == 0 {
			c.encode(c.end)
			break
		}
		c.encode(c.end - lookahead)
	}
	if c.pos > c.blockStart {
		c.writeBlock()
	}
	if final {
		c.bw.put(0, 3) // BFINAL 0, BTYPE 00: stored
		c.bw.align()   // LEN 0000 and NLEN ffff are left out
	} else {
		c.bw.flushBytes()
	}
	dst = c.bw.out
	c.bw.out = nil
	scratches.Put(c.scratch)
	c.scratch = nil
	if final && !c.takeover {
		c.Reset()
	}
	return dst
}

// slide moves the window down to the start of the buffer, dropping the
// bytes before it, to make room for input. A block whose first bytes
// would be dropped is written first.
func (c *Compressor) slide() {
	shift := c.pos - c.wsize
	if shift <= 0 {
		panic("deflate: internal error: window slide with a full lookahead")
	}
	if c.blockStart < shift && c.pos > c.blockStart {
		c.writeBlock()
	}
	copy(c.win, c.win[shift:c.end])
	c.end -= shift
	c.pos -= shift
	c.blockStart -= shift
	c.litStart -= shift
	c.hist = max(c.hist-shift, 0)
	c.base += uint32(shift)
}

// encode finds matches for the bytes from pos up to limit (a match may
// run on to end) and leaves pos at limit or past it.
func (c *Compressor) encode(limit int) {
	if c.cfg.chain == 0 {
		c.encodeFast(limit)
	} else if c.cfg.lazy == 0 {
		c.encodeGreedy(limit)
	} else {
		c.encodeLazy(limit)
	}
	c.pos = max(c.pos, limit)
}

func load32(b []byte, i int) uint32 { return binary.LittleEndian.Uint32(b[i:]) }
func load16(b []byte, i int) uint16 { return binary.LittleEndian.Uint16(b[i:]) }

func (c *Compressor) hash(v uint32) uint32 { return (v * 0x1e35a7bd) >> c.hashShift }

// matchLen returns the length of the common prefix of a and b, with
// len(a) >= len(b).
func matchLen(a, b []byte) int {
	n := 0
	for len(b)-n >= 8 {
		x := binary.LittleEndian.Uint64(a[n:]) ^ binary.LittleEndian.Uint64(b[n:])
		if x != 0 {
			return n + bits.TrailingZeros64(x)>>3
		}
		n += 8
	}
	a = a[:len(b)]
	for n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// addMatch records a match at pos and writes the block once the tokens
// are full.
func (c *Compressor) addMatch(pos, length, dist int) {
	s := c.scratch
	run := pos - c.litStart
	for run >= litRunMax {
		s.tokens = append(s.tokens, litRunMax<<litRunShift)
		run -= litRunMax
	}
	s.tokens = append(s.tokens, uint32(run)<<litRunShift|uint32(length-3)<<15|uint32(dist-1))
	c.litStart = pos + length
	// The buffer holds at most len(win)/litRunMax literal-only tokens
	// before a block's next match; keep room for them.
	if len(s.tokens) > maxTokens-len(c.win)/litRunMax-2 {
		c.pos = c.litStart
		c.writeBlock()
	}
}

// encodeFast is level 1: one candidate per hash bucket, greedy, and a
// probe step that grows with the distance since the last match, so that
// incompressible input is crossed quickly.
func (c *Compressor) encodeFast(limit int) {
	end := c.end
	win := c.win[:end]
	lim := min(limit, end-minMatch+1)
	pos := c.pos
	minPos := c.hist
	wsize := c.wsize
	miss := 32 // probe step is miss>>5
	for pos < lim {
		cur := load32(win, pos)
		h := c.hash(cur)
		a := uint16(c.base + uint32(pos))
		d := int(a - c.head[h])
		c.head[h] = a
		cand := pos - d
		if d == 0 || d > wsize || cand < minPos || load32(win, cand) != cur {
			pos += miss >> 5
			miss = min(miss+1, 32<<5)
			continue
		}
		miss = 32
		n := minMatch + matchLen(win[cand+minMatch:], win[pos+minMatch:min(end, pos+maxMatch)])
		c.addMatch(pos, n, d)
		pos += n
		// Index the end of the match too: repeats often continue there.
		if p := pos - 2; p+minMatch <= end {
			c.head[c.hash(load32(win, p))] = uint16(c.base + uint32(p))
		}
	}
	c.pos = min(pos, end)
}

// insert adds position pos to the hash chains and returns the distance
// to the previous position with the same hash (0: none in the window).
func (c *Compressor) insert(pos int) int {
	h := c.hash(load32(c.win, pos))
	a := c.base + uint32(pos)
	d := uint16(a) - c.head[h]
	c.head[h] = uint16(a)
	if int(d) > c.wsize {
		d = 0
	}
	c.chain[a&uint32(c.wsize-1)] = d
	return int(d)
}

// longest searches the chain starting d bytes before pos for a match
// longer than best, examining at most chain candidates, and returns its
// length and distance (0, 0 if there is none).
func (c *Compressor) longest(pos, d, best, chain int) (int, int) {
	maxLen := min(maxMatch, c.end-pos)
	if best >= maxLen {
		return 0, 0
	}
	win := c.win[:c.end]
	cur := win[pos : pos+maxLen]
	nice := min(c.cfg.nice, maxLen)
	minPos := max(c.hist, pos-c.wsize)
	mask := uint32(c.wsize - 1)
	first := load32(cur, 0)
	end := load16(cur, best-1)
	bestDist := 0
	cand := pos - d
	for d != 0 && cand >= minPos {
		// Compare the last byte of the best match and the one that would
		// make a longer one first: most candidates fail there.
		if load16(win, cand+best-1) == end && load32(win, cand) == first {
			n := minMatch + matchLen(win[cand+minMatch:], cur[minMatch:])
			if n > best && (n > minMatch || pos-cand <= farMatch) {
				best, bestDist = n, pos-cand
				if n >= nice {
					break
				}
				end = load16(cur, best-1)
			}
		}
		if chain--; chain == 0 {
			break
		}
		d = int(c.chain[(c.base+uint32(cand))&mask])
		cand -= d
	}
	if bestDist == 0 {
		return 0, 0
	}
	return best, bestDist
}

// step returns how far to move on from pos, where no match starts.
func (c *Compressor) step(pos int) int {
	run := pos - c.litStart
	if run <= c.cfg.skip {
		return 1
	}
	return 1 + (run-c.cfg.skip)/(c.cfg.skip>>1)
}

// encodeGreedy is levels 2 and 3: the longest match on a short chain is
// taken as soon as it is found.
func (c *Compressor) encodeGreedy(limit int) {
	end := c.end
	lim := min(limit, end-minMatch+1)
	pos := c.pos
	for pos < lim {
		d := c.insert(pos)
		n, dist := c.longest(pos, d, minMatch-1, c.cfg.chain)
		if n == 0 {
			pos += c.step(pos)
			continue
		}
		c.addMatch(pos, n, dist)
		next := pos + n
		if n <= c.cfg.insert {
			for p := pos + 1; p < next && p < lim; p++ {
				c.insert(p)
			}
		}
		pos = next
	}
	c.pos = min(pos, end)
}

// encodeLazy is levels 4 to 9: a match found at one position is held back
// while the next position is searched, and dropped for a literal if the
// next one has a longer match.
func (c *Compressor) encodeLazy(limit int) {
	end := c.end
	lim := min(limit, end-minMatch+1)
	pos := c.pos
	cfg := c.cfg
	prevLen, prevDist := 0, 0 // the match held back, at pos-1
	for pos < lim {
		d := c.insert(pos)
		n, dist := 0, 0
		if prevLen < cfg.lazy {
			chain := cfg.chain
			if prevLen >= cfg.good {
				chain >>= 2
			}
			n, dist = c.longest(pos, d, max(prevLen, minMatch-1), chain)
		}
		if prevLen > 0 && n == 0 {
			// The held-back match wins.
			start := pos - 1
			next := start + prevLen
			c.addMatch(start, prevLen, prevDist)
			for p := pos + 1; p < next && p < lim; p++ {
				c.insert(p)
			}
			pos = next
			prevLen = 0
			continue
		}
		// pos-1, if a match was held there, becomes a literal.
		if prevLen == 0 && n == 0 {
			pos += c.step(pos)
			continue
		}
		prevLen, prevDist = n, dist
		pos++
	}
	if prevLen > 0 {
		c.addMatch(pos-1, prevLen, prevDist)
		pos += prevLen - 1
	}
	c.pos = min(pos, end)
}

// writeBlock writes the bytes from blockStart to pos as one block, in the
// smallest of the three encodings, and starts the next block at pos.
func (c *Compressor) writeBlock() {
	data := c.win[c.blockStart:c.pos]
	b := &c.scratch.bc
	clear(b.litFreq[:])
	clear(b.distFreq[:])
	p := 0
	for _, t := range c.scratch.tokens {
		run := int(t >> litRunShift)
		for _, x := range data[p : p+run] {
			b.litFreq[x]++
		}
		p += run
		if run == litRunMax {
			continue
		}
		l := int(t >> 15 & 0xff)
		b.litFreq[257+int(lengthSym[l])]++
		b.distFreq[distSym(int(t&0x7fff))]++
		p += l + 3
	}
	for _, x := range data[p:] {
		b.litFreq[x]++
	}
	b.litFreq[endBlock] = 1

	extra := b.extraBits()
	dyn := b.dynamic() + extra
	fixed := b.fixedBits() + extra
	stored := storedBits(len(data), c.bw.n)
	switch {
	case stored <= dyn && stored <= fixed:
		c.writeStored(data)
	case fixed <= dyn:
		c.bw.put(1<<1, 3) // BFINAL 0, BTYPE 01
		c.writeSymbols(data, fixedLit[:], fixedDist[:])
	default:
		b.writeDynamicHeader(&c.bw)
		c.writeSymbols(data, b.litCode[:], b.distCode[:])
	}
	c.scratch.tokens = c.scratch.tokens[:0]
	c.blockStart = c.pos
	c.litStart = c.pos
}

// storedBits returns the size in bits of n bytes written as stored blocks
// when pending bits are waiting in the bit writer.
func storedBits(n int, pending uint) int {
	blocks := max((n+maxStored-1)/maxStored, 1)
	first := (int(pending)+3+7)&^7 - int(pending) // header and padding
	return first + (blocks-1)*8 + blocks*32 + n*8
}

func (c *Compressor) writeStored(data []byte) {
	for {
		n := min(len(data), maxStored)
		c.bw.put(0, 3) // BFINAL 0, BTYPE 00
		c.bw.align()
		c.bw.out = binary.LittleEndian.AppendUint16(c.bw.out, uint16(n))
		c.bw.out = binary.LittleEndian.AppendUint16(c.bw.out, ^uint16(n))
		c.bw.out = append(c.bw.out, data[:n]...)
		data = data[n:]
		if len(data) == 0 {
			return
		}
	}
}

// writeSymbols writes the block's literals and matches with the given
// codes, then the end-of-block symbol.
func (c *Compressor) writeSymbols(data []byte, lit, dist []code) {
	w := c.bw
	p := 0
	for _, t := range c.scratch.tokens {
		run := int(t >> litRunShift)
		for _, x := range data[p : p+run] {
			k := lit[x]
			w.put(k.bits(), k.len())
		}
		p += run
		if run == litRunMax {
			continue
		}
		l := int(t >> 15 & 0xff)
		ls := lengthSym[l]
		k := lit[257+int(ls)]
		w.put(k.bits()|uint64(l+3-int(lengthBase[ls]))<<k.len(), k.len()+uint(lengthExtra[ls]))
		dm1 := int(t & 0x7fff)
		ds := distSym(dm1)
		k = dist[ds]
		w.put(k.bits()|uint64(dm1+1-int(distBase[ds]))<<k.len(), k.len()+uint(distExtra[ds]))
		p += l + 3
	}
	for _, x := range data[p:] {
		k := lit[x]
		w.put(k.bits(), k.len())
	}
	k := lit[endBlock]
	w.put(k.bits(), k.len())
	c.bw = w
}

// compressorPools holds the Compressors without context takeover, by
// level and window bits.
var compressorPools [10][MaxWindowBits + 1]sync.Pool

// GetCompressor returns a Compressor without context takeover from a pool
// for the level and window bits (see [NewCompressor]), ready for a new
// message. Give it back with [PutCompressor] once the message is done.
func GetCompressor(level, windowBits int) *Compressor {
	if level == 0 {
		level = 1
	}
	if level < 1 || level > 9 {
		panic("deflate: compression level out of range 1..9")
	}
	checkWindowBits(windowBits)
	if c, ok := compressorPools[level][windowBits].Get().(*Compressor); ok {
		return c
	}
	return NewCompressor(level, windowBits, false)
}

// PutCompressor resets c and returns it to its pool. Compressors with
// context takeover are not pooled (their history belongs to a
// connection) and are left alone.
func PutCompressor(c *Compressor) {
	if c == nil || c.takeover {
		return
	}
	c.Reset()
	compressorPools[c.level][c.wbits].Put(c)
}
