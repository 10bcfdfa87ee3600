package deflate

import (
	"errors"
	"fmt"
)

// A test-only inflater for the Compressor's output. It shares no code or
// tables with the encoder, and it is stricter than compress/flate: it
// fails a back-reference further than the negotiated window or than the
// history the stream has (compress/flate accepts anything within 32 KiB),
// a block with BFINAL set, an incomplete or over-full Huffman code, unused
// symbols, non-zero padding, and a message that does not end exactly with
// the sync flush's stored-block header.

type bitReader struct {
	data []byte
	pos  int // in bits
}

var errShort = errors.New("checker: data ends early")

func (r *bitReader) bits(n int) (int, error) {
	v := 0
	for i := range n {
		if r.pos>>3 >= len(r.data) {
			return 0, errShort
		}
		v |= int(r.data[r.pos>>3]>>(r.pos&7)&1) << i
		r.pos++
	}
	return v, nil
}

// testHuff is a canonical Huffman decoder: counts of codes by length and
// the symbols in code order.
type testHuff struct {
	count [16]int
	sym   []int
}

func newTestHuff(lens []int) (*testHuff, error) {
	h := &testHuff{}
	for _, l := range lens {
		h.count[l]++
	}
	h.count[0] = 0
	left := 1 // codes of the current length still free
	for l := 1; l < 16; l++ {
		left = left*2 - h.count[l]
		if left < 0 {
			return nil, fmt.Errorf("checker: over-full code, lengths %v", lens)
		}
	}
	if left != 0 {
		return nil, fmt.Errorf("checker: incomplete code (%d codes left), lengths %v", left, lens)
	}
	for l := 1; l < 16; l++ {
		for s, sl := range lens {
			if sl == l {
				h.sym = append(h.sym, s)
			}
		}
	}
	return h, nil
}

func (r *bitReader) decode(h *testHuff) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		b, err := r.bits(1)
		if err != nil {
			return 0, err
		}
		code |= b
		if code-first < h.count[l] {
			return h.sym[index+code-first], nil
		}
		index += h.count[l]
		first = (first + h.count[l]) << 1
		code <<= 1
	}
	return 0, errors.New("checker: bad code")
}

// RFC 1951 §3.2.5, computed rather than listed.
func testLengthBase(sym int) (base, extra int) {
	i := sym - 257
	if i == 28 {
		return 258, 0
	}
	if i < 8 {
		return 3 + i, 0
	}
	extra = i/4 - 1
	return 3 + (4+i%4)<<extra, extra
}

func testDistBase(sym int) (base, extra int) {
	if sym < 4 {
		return 1 + sym, 0
	}
	extra = sym/2 - 1
	return 1 + (2+sym%2)<<extra, extra
}

// windowChecker decodes the messages of one stream.
type windowChecker struct {
	window   int
	takeover bool
	hist     []byte // the stream's output so far (the message's without takeover)

	stored, fixed, dynamic int // blocks seen, by kind
	matches, maxDist       int
}

func newWindowChecker(windowBits int, takeover bool) *windowChecker {
	return &windowChecker{window: 1 << windowBits, takeover: takeover}
}

// message decodes one message as Compressor.Append returns it (without
// the trailing 00 00 ff ff) and returns its bytes.
func (k *windowChecker) message(data []byte) ([]byte, error) {
	if !k.takeover {
		k.hist = k.hist[:0]
	}
	start := len(k.hist)
	r := &bitReader{data: data}
	for {
		final, err := r.bits(1)
		if err != nil {
			return nil, err
		}
		if final != 0 {
			return nil, errors.New("checker: block with BFINAL set")
		}
		typ, err := r.bits(2)
		if err != nil {
			return nil, err
		}
		switch typ {
		case 0:
			if pad, _ := r.bits((8 - r.pos&7) & 7); pad != 0 {
				return nil, errors.New("checker: non-zero padding")
			}
			if r.pos>>3 == len(data) {
				return k.hist[start:], nil // the sync flush, its LEN and NLEN left out
			}
			n, err := r.bits(16)
			if err != nil {
				return nil, err
			}
			nn, err := r.bits(16)
			if err != nil {
				return nil, err
			}
			if n != nn^0xffff {
				return nil, fmt.Errorf("checker: stored LEN %#x NLEN %#x", n, nn)
			}
			if n == 0 {
				return nil, errors.New("checker: empty stored block within the message")
			}
			p := r.pos >> 3
			if p+n > len(data) {
				return nil, errShort
			}
			k.hist = append(k.hist, data[p:p+n]...)
			r.pos += 8 * n
			k.stored++
		case 1:
			lens := make([]int, 288)
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
			lit, _ := newTestHuff(lens)
			dl := make([]int, 30)
			for i := range dl {
				dl[i] = 5
			}
			dist, _ := newTestHuff(append(dl, 5, 5)) // 32 five-bit codes, 30 and 31 unused
			if err := k.symbols(r, lit, dist); err != nil {
				return nil, err
			}
			k.fixed++
		case 2:
			lit, dist, err := readDynamic(r)
			if err != nil {
				return nil, err
			}
			if err := k.symbols(r, lit, dist); err != nil {
				return nil, err
			}
			k.dynamic++
		default:
			return nil, errors.New("checker: reserved block type")
		}
	}
}

func readDynamic(r *bitReader) (lit, dist *testHuff, err error) {
	hlit, _ := r.bits(5)
	hdist, _ := r.bits(5)
	hclen, err := r.bits(4)
	if err != nil {
		return nil, nil, err
	}
	nlit, ndist := hlit+257, hdist+1
	if nlit > 286 || ndist > 30 {
		return nil, nil, fmt.Errorf("checker: HLIT %d HDIST %d", nlit, ndist)
	}
	order := []int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
	cl := make([]int, 19)
	for _, s := range order[:hclen+4] {
		if cl[s], err = r.bits(3); err != nil {
			return nil, nil, err
		}
	}
	clh, err := newTestHuff(cl)
	if err != nil {
		return nil, nil, fmt.Errorf("code-length code: %w", err)
	}
	lens := make([]int, 0, nlit+ndist)
	for len(lens) < nlit+ndist {
		s, err := r.decode(clh)
		if err != nil {
			return nil, nil, err
		}
		rep, val := 1, s
		switch s {
		case 16:
			if len(lens) == 0 {
				return nil, nil, errors.New("checker: repeat with no previous length")
			}
			x, _ := r.bits(2)
			rep, val = 3+x, lens[len(lens)-1]
		case 17:
			x, _ := r.bits(3)
			rep, val = 3+x, 0
		case 18:
			x, _ := r.bits(7)
			rep, val = 11+x, 0
		}
		for range rep {
			lens = append(lens, val)
		}
	}
	if len(lens) != nlit+ndist {
		return nil, nil, errors.New("checker: code lengths overrun HLIT+HDIST")
	}
	if lens[256] == 0 {
		return nil, nil, errors.New("checker: no end-of-block code")
	}
	if lit, err = newTestHuff(lens[:nlit]); err != nil {
		return nil, nil, fmt.Errorf("literal/length code: %w", err)
	}
	if dist, err = newTestHuff(lens[nlit:]); err != nil {
		return nil, nil, fmt.Errorf("distance code: %w", err)
	}
	return lit, dist, nil
}

func (k *windowChecker) symbols(r *bitReader, lit, dist *testHuff) error {
	for {
		s, err := r.decode(lit)
		if err != nil {
			return err
		}
		switch {
		case s < 256:
			k.hist = append(k.hist, byte(s))
			continue
		case s == 256:
			return nil
		case s > 285:
			return fmt.Errorf("checker: literal/length symbol %d", s)
		}
		base, extra := testLengthBase(s)
		x, err := r.bits(extra)
		if err != nil {
			return err
		}
		length := base + x
		ds, err := r.decode(dist)
		if err != nil {
			return err
		}
		if ds > 29 {
			return fmt.Errorf("checker: distance symbol %d", ds)
		}
		base, extra = testDistBase(ds)
		if x, err = r.bits(extra); err != nil {
			return err
		}
		d := base + x
		if d > k.window {
			return fmt.Errorf("checker: distance %d beyond the window of %d", d, k.window)
		}
		if d > len(k.hist) {
			return fmt.Errorf("checker: distance %d beyond the history of %d bytes", d, len(k.hist))
		}
		for range length {
			k.hist = append(k.hist, k.hist[len(k.hist)-d])
		}
		k.matches++
		k.maxDist = max(k.maxDist, d)
	}
}

// trim keeps the checker's history of a takeover stream bounded: only the
// window can be referred to.
func (k *windowChecker) trim() {
	if keep := 1 << 16; len(k.hist) > 2*keep {
		k.hist = append(k.hist[:0], k.hist[len(k.hist)-keep:]...)
	}
}
