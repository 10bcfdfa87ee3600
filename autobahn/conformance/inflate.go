package conformance

import (
	"errors"
	"fmt"
)

// This file holds a small DEFLATE decoder (RFC 1951) whose purpose is to
// check, not to be fast: compress/flate decodes the peer's messages, but it
// happily follows a back-reference of any length up to 32 KiB, so it cannot
// tell whether a peer kept to the LZ77 window it agreed to (RFC 7692
// §7.1.2). This decoder parses every code and reports the first distance
// beyond the window or beyond the data available, and whether the message
// ends on a block boundary. Huffman codes are decoded one bit at a time, in
// the canonical-code style of RFC 1951 §3.2.2.

// errDeflateCorrupt is wrapped by every error about a malformed stream.
var errDeflateCorrupt = errors.New("corrupt DEFLATE data")

// windowError reports a back-reference farther than the agreed window.
type windowError struct {
	Dist, Window int
	At           int64 // output offset of the match within the message
}

func (e *windowError) Error() string {
	return fmt.Sprintf("back-reference distance %d at message offset %d exceeds the agreed window of %d bytes", e.Dist, e.At, e.Window)
}

// historyError reports a back-reference to data the decoder does not have:
// before the start of the message without context takeover, or before the
// start of the connection with it.
type historyError struct {
	Dist  int
	Avail int64 // bytes that could be referenced
	At    int64
}

func (e *historyError) Error() string {
	return fmt.Sprintf("back-reference distance %d at message offset %d reaches before the available %d bytes of history", e.Dist, e.At, e.Avail)
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errDeflateCorrupt}, args...)...)
}

// Tables of RFC 1951 §3.2.5.
var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	// clOrder is the order in which code length code lengths are sent (§3.2.7).
	clOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

// huffman is a canonical Huffman code: how many codes have each length,
// and the symbols ordered by code. fast maps the next fastBits input bits
// (as read, least significant first) to symbol<<4 | code length for codes
// of up to fastBits bits; 0 means "longer code: decode bit by bit".
type huffman struct {
	count  [16]uint16
	symbol []uint16
	fast   [1 << fastBits]uint16
}

const fastBits = 9

// build sets up the code from code lengths (0: symbol unused). Like common
// decoders, it refuses an over-subscribed code and an incomplete one, except
// for an empty code and a single code of length 1 (RFC 1951 allows one
// distance code).
func (h *huffman) build(lengths []uint8) error {
	h.count = [16]uint16{}
	for _, l := range lengths {
		h.count[l]++
	}
	used := len(lengths) - int(h.count[0])
	left := 1
	for l := 1; l < 16; l++ {
		left <<= 1
		left -= int(h.count[l])
		if left < 0 {
			return corrupt("over-subscribed Huffman code")
		}
	}
	if left > 0 && used > 0 && !(used == 1 && h.count[1] == 1) {
		return corrupt("incomplete Huffman code")
	}
	var offs [16]int
	for l := 1; l < 15; l++ {
		offs[l+1] = offs[l] + int(h.count[l])
	}
	h.symbol = h.symbol[:0]
	h.symbol = append(h.symbol, make([]uint16, used)...)
	for s, l := range lengths {
		if l != 0 {
			h.symbol[offs[l]] = uint16(s)
			offs[l]++
		}
	}
	// Canonical codes (RFC 1951 §3.2.2): consecutive within a length, in
	// symbol order, each length starting where the shorter ones left off.
	h.fast = [1 << fastBits]uint16{}
	var next [16]int
	code := 0
	for l := 1; l < 16; l++ {
		code = (code + int(h.count[l-1])) << 1
		if l == 1 {
			code = 0
		}
		next[l] = code
	}
	for s, l := range lengths {
		if l == 0 {
			continue
		}
		c := next[l]
		next[l]++
		if l > fastBits {
			continue
		}
		rev := 0
		for i := range int(l) {
			rev |= (c >> i & 1) << (int(l) - 1 - i)
		}
		for k := rev; k < 1<<fastBits; k += 1 << l {
			h.fast[k] = uint16(s)<<4 | uint16(l)
		}
	}
	return nil
}

// fixedLit and fixedDist are the fixed codes of RFC 1951 §3.2.6. The
// distance code has 32 five-bit codes; 30 and 31 are refused when decoded.
var fixedLit, fixedDist = func() (*huffman, *huffman) {
	var l [288]uint8
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	var d [32]uint8
	for i := range d {
		d[i] = 5
	}
	lit, dist := &huffman{}, &huffman{}
	if lit.build(l[:]) != nil || dist.build(d[:]) != nil {
		panic("conformance: fixed Huffman tables")
	}
	return lit, dist
}()

// inflater decodes one message. The zero value with window set is ready.
type inflater struct {
	in     []byte
	pos    int    // next input byte
	bitBuf uint64 // bits not yet used, least significant first
	bitCnt uint

	window  int   // largest allowed distance
	hist    int64 // bytes available before this message
	n       int64 // bytes produced so far in this message
	limit   int64 // stop past this many output bytes (<= 0: no limit)
	maxDist int   // the farthest back-reference seen

	// With produce set, output is appended to out; dict holds the history
	// copies may reach into.
	produce bool
	dict    []byte
	out     []byte

	lit, dist, lens huffman
}

var (
	errTruncated = corrupt("message ends inside a block")
	errStrayBits = corrupt("message ends with bits that start no complete block")
)

// errTooLong is returned when the output passes the limit.
var errTooLong = errors.New("decompressed message exceeds the limit")

func (f *inflater) need(n uint) error {
	for f.bitCnt < n {
		if f.pos >= len(f.in) {
			return errTruncated
		}
		f.bitBuf |= uint64(f.in[f.pos]) << f.bitCnt
		f.pos++
		f.bitCnt += 8
	}
	return nil
}

// bits reads n bits (n <= 32), least significant first (§3.1.1).
func (f *inflater) bits(n uint) (int, error) {
	if err := f.need(n); err != nil {
		return 0, err
	}
	v := int(f.bitBuf & (1<<n - 1))
	f.bitBuf >>= n
	f.bitCnt -= n
	return v, nil
}

// decode reads one symbol of h. Huffman codes are packed most significant
// bit first, so the code is built one bit at a time and compared against
// the first code of each length.
func (f *inflater) decode(h *huffman) (int, error) {
	if f.need(fastBits) == nil {
		if e := h.fast[f.bitBuf&(1<<fastBits-1)]; e != 0 {
			n := uint(e & 15)
			f.bitBuf >>= n
			f.bitCnt -= n
			return int(e >> 4), nil
		}
	}
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		if f.bitCnt == 0 {
			if err := f.need(1); err != nil {
				return 0, err
			}
		}
		code |= int(f.bitBuf & 1)
		f.bitBuf >>= 1
		f.bitCnt--
		count := int(h.count[l])
		if code-first < count {
			return int(h.symbol[index+code-first]), nil
		}
		index += count
		first = (first + count) << 1
		code <<= 1
	}
	return 0, corrupt("invalid Huffman code")
}

// run decodes the whole input. A message must end on a block boundary: the
// permessage-deflate tail the caller appended (00 00 ff ff) completes the
// empty stored block the sender flushed with. A block with BFINAL set ends
// the stream; anything after it is ignored, as zlib does.
func (f *inflater) run() error {
	for {
		if f.pos == len(f.in) {
			// Input used up on a block boundary. With the tail appended a
			// message always ends byte aligned (after the stored block of
			// the sync flush), so leftover bits are not padding but the
			// start of a block that never came.
			if f.bitCnt != 0 {
				return errStrayBits
			}
			return nil
		}
		hdr, err := f.bits(3)
		if err != nil {
			return err
		}
		switch hdr >> 1 {
		case 0:
			err = f.stored()
		case 1:
			err = f.codes(fixedLit, fixedDist)
		case 2:
			err = f.dynamic()
		default:
			err = corrupt("reserved block type 3")
		}
		if err != nil {
			return err
		}
		if hdr&1 == 1 {
			return nil
		}
	}
}

func (f *inflater) stored() error {
	f.bitBuf >>= f.bitCnt % 8 // to the byte boundary
	f.bitCnt -= f.bitCnt % 8
	hdr, err := f.bits(32)
	if err != nil {
		return err
	}
	n, nn := hdr&0xffff, hdr>>16
	if n != ^nn&0xffff {
		return corrupt("stored block length %d does not match its complement %#04x", n, nn)
	}
	// The bit buffer is empty or byte aligned here; take buffered bytes
	// first, then the input.
	for ; n > 0 && f.bitCnt >= 8; n-- {
		if err := f.emit(byte(f.bitBuf)); err != nil {
			return err
		}
		f.bitBuf >>= 8
		f.bitCnt -= 8
	}
	if len(f.in)-f.pos < n {
		return errTruncated
	}
	for _, b := range f.in[f.pos : f.pos+n] {
		if err := f.emit(b); err != nil {
			return err
		}
	}
	f.pos += n
	return nil
}

func (f *inflater) emit(b byte) error {
	f.n++
	if f.limit > 0 && f.n > f.limit {
		return errTooLong
	}
	if f.produce {
		f.out = append(f.out, b)
	}
	return nil
}

func (f *inflater) dynamic() error {
	nlen, err := f.bits(5)
	if err != nil {
		return err
	}
	ndist, err := f.bits(5)
	if err != nil {
		return err
	}
	ncode, err := f.bits(4)
	if err != nil {
		return err
	}
	nlen, ndist, ncode = nlen+257, ndist+1, ncode+4
	if nlen > 286 || ndist > 30 {
		return corrupt("%d literal/length or %d distance codes", nlen, ndist)
	}
	var lengths [286 + 30]uint8
	for i := range ncode {
		v, err := f.bits(3)
		if err != nil {
			return err
		}
		lengths[clOrder[i]] = uint8(v)
	}
	if err := f.lens.build(lengths[:19]); err != nil {
		return fmt.Errorf("code length code: %w", err)
	}
	lengths = [286 + 30]uint8{}
	for i := 0; i < nlen+ndist; {
		sym, err := f.decode(&f.lens)
		if err != nil {
			return err
		}
		if sym < 16 {
			lengths[i] = uint8(sym)
			i++
			continue
		}
		var rep int
		var val uint8
		switch sym {
		case 16:
			if i == 0 {
				return corrupt("repeat with no previous length")
			}
			val = lengths[i-1]
			rep, err = f.bits(2)
			rep += 3
		case 17:
			rep, err = f.bits(3)
			rep += 3
		default:
			rep, err = f.bits(7)
			rep += 11
		}
		if err != nil {
			return err
		}
		if i+rep > nlen+ndist {
			return corrupt("code lengths repeat past the end")
		}
		for ; rep > 0; rep-- {
			lengths[i] = val
			i++
		}
	}
	if lengths[256] == 0 {
		return corrupt("no end-of-block code")
	}
	if err := f.lit.build(lengths[:nlen]); err != nil {
		return fmt.Errorf("literal/length code: %w", err)
	}
	if err := f.dist.build(lengths[nlen : nlen+ndist]); err != nil {
		return fmt.Errorf("distance code: %w", err)
	}
	return f.codes(&f.lit, &f.dist)
}

// codes decodes the symbols of a Huffman block up to its end-of-block code,
// checking every back-reference.
func (f *inflater) codes(lit, dist *huffman) error {
	for {
		sym, err := f.decode(lit)
		if err != nil {
			return err
		}
		switch {
		case sym < 256:
			if err := f.emit(byte(sym)); err != nil {
				return err
			}
			continue
		case sym == 256:
			return nil
		case sym > 285:
			return corrupt("invalid length code %d", sym)
		}
		sym -= 257
		e, err := f.bits(uint(lengthExtra[sym]))
		if err != nil {
			return err
		}
		length := int(lengthBase[sym]) + e
		dsym, err := f.decode(dist)
		if err != nil {
			return err
		}
		if dsym > 29 {
			return corrupt("invalid distance code %d", dsym)
		}
		e, err = f.bits(uint(distExtra[dsym]))
		if err != nil {
			return err
		}
		d := int(distBase[dsym]) + e
		f.maxDist = max(f.maxDist, d)
		switch {
		case d > f.window:
			return &windowError{Dist: d, Window: f.window, At: f.n}
		case int64(d) > f.hist+f.n:
			return &historyError{Dist: d, Avail: f.hist + f.n, At: f.n}
		}
		if err := f.copyMatch(d, length); err != nil {
			return err
		}
	}
}

func (f *inflater) copyMatch(d, length int) error {
	if !f.produce {
		f.n += int64(length)
		if f.limit > 0 && f.n > f.limit {
			return errTooLong
		}
		return nil
	}
	for range length {
		var b byte
		if back := len(f.out) - d; back >= 0 {
			b = f.out[back]
		} else {
			b = f.dict[len(f.dict)+back]
		}
		if err := f.emit(b); err != nil {
			return err
		}
	}
	return nil
}

// checkDeflate parses a message's compressed payload with the
// permessage-deflate tail already appended. window is the agreed maximum
// distance, hist the bytes of history available (0 without context
// takeover). It returns the decompressed size.
func checkDeflate(stream []byte, window int, hist, limit int64) (int64, error) {
	f := inflater{in: stream, window: window, hist: hist, limit: limit}
	err := f.run()
	return f.n, err
}

// inflate decodes stream (tail appended) with dict as history; it is
// checkDeflate that also produces the bytes, used to test the checker
// against compress/flate.
func inflate(stream, dict []byte, window int) ([]byte, error) {
	f := inflater{in: stream, window: window, hist: int64(len(dict)), produce: true, dict: dict}
	err := f.run()
	return f.out, err
}
