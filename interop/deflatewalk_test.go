package interop

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"testing"
)

// farthest walks a raw DEFLATE stream (RFC 1951) and returns the largest
// back-reference distance it uses and the number of bytes it decodes to.
//
// It exists because no decoder at hand tells: compress/flate follows any
// distance up to 32 KiB, and zlib's inflate (Node's, Python's) follows any
// distance into the output of the same call, however small its window, so
// a sender that ignores a negotiated max_window_bits goes unnoticed by its
// peer. The walk decodes codes only; it keeps no output (compress/flate
// checks the content), and decodes Huffman codes a bit at a time: it is a
// check, not a decoder.
//
// The stream must end with a final block; a message's payload gets one
// appended (see inflateWire).
func farthest(stream []byte) (maxDist, size int, err error) {
	r := &bitReader{b: stream}
	for {
		final, err := r.bits(1)
		if err != nil {
			return maxDist, size, err
		}
		typ, err := r.bits(2)
		if err != nil {
			return maxDist, size, err
		}
		switch typ {
		case 0:
			n, err := r.stored()
			if err != nil {
				return maxDist, size, err
			}
			size += n
		case 1:
			err = r.codes(&fixedLit, &fixedDist, &maxDist, &size)
		case 2:
			var lit, dist huffman
			if err = r.dynamic(&lit, &dist); err == nil {
				err = r.codes(&lit, &dist, &maxDist, &size)
			}
		default:
			err = errors.New("block type 3")
		}
		if err != nil {
			return maxDist, size, err
		}
		if final == 1 {
			return maxDist, size, nil
		}
	}
}

// bitReader reads a DEFLATE stream's bits, least significant first.
type bitReader struct {
	b   []byte
	bit int // position in bits
}

var errShort = errors.New("stream ends early")

func (r *bitReader) bits(n int) (int, error) {
	if r.bit+n > 8*len(r.b) {
		return 0, errShort
	}
	v := 0
	for i := range n {
		v |= int(r.b[r.bit>>3]>>(r.bit&7)&1) << i
		r.bit++
	}
	return v, nil
}

// stored skips a stored block's bytes and returns their count.
func (r *bitReader) stored() (int, error) {
	r.bit = (r.bit + 7) &^ 7
	start := r.bit >> 3
	if start+4 > len(r.b) {
		return 0, errShort
	}
	n := int(r.b[start]) | int(r.b[start+1])<<8
	if nn := int(r.b[start+2]) | int(r.b[start+3])<<8; n != nn^0xffff {
		return 0, fmt.Errorf("stored block length %#04x, complement %#04x", n, nn)
	}
	if start+4+n > len(r.b) {
		return 0, errShort
	}
	r.bit = 8 * (start + 4 + n)
	return n, nil
}

// huffman is a canonical Huffman code (RFC 1951 §3.2.2): how many codes
// have each length, and the symbols in code order.
type huffman struct {
	count  [16]int
	symbol []int
}

func newHuffman(lengths []int) huffman {
	var h huffman
	for _, l := range lengths {
		h.count[l]++
	}
	h.count[0] = 0
	var offs [16]int
	for l := 1; l < 16; l++ {
		offs[l] = offs[l-1] + h.count[l-1]
	}
	h.symbol = make([]int, len(lengths))
	for s, l := range lengths {
		if l != 0 {
			h.symbol[offs[l]] = s
			offs[l]++
		}
	}
	return h
}

// decode reads one symbol: canonical codes of one length are consecutive
// numbers, and those of length n+1 start at twice the end of those of n.
func (r *bitReader) decode(h *huffman) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		b, err := r.bits(1)
		if err != nil {
			return 0, err
		}
		code |= b
		if n := h.count[l]; code-first < n {
			return h.symbol[index+code-first], nil
		}
		index += h.count[l]
		first = (first + h.count[l]) << 1
		code <<= 1
	}
	return 0, errors.New("no such Huffman code")
}

// The fixed codes of RFC 1951 §3.2.6.
var fixedLit, fixedDist = func() (huffman, huffman) {
	var lit [288]int
	for i := range lit {
		switch {
		case i < 144:
			lit[i] = 8
		case i < 256:
			lit[i] = 9
		case i < 280:
			lit[i] = 7
		default:
			lit[i] = 8
		}
	}
	var dist [30]int
	for i := range dist {
		dist[i] = 5
	}
	return newHuffman(lit[:]), newHuffman(dist[:])
}()

// Lengths and distances: base values and extra bits (RFC 1951 §3.2.5).
var (
	lenBase   = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lenExtra  = [29]int{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase  = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra = [30]int{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	// clOrder is the order code length code lengths come in.
	clOrder = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

// dynamic reads a dynamic block's code definitions (RFC 1951 §3.2.7).
func (r *bitReader) dynamic(lit, dist *huffman) error {
	hlit, err := r.bits(5)
	if err != nil {
		return err
	}
	hdist, err := r.bits(5)
	if err != nil {
		return err
	}
	hclen, err := r.bits(4)
	if err != nil {
		return err
	}
	nlit, ndist := hlit+257, hdist+1
	var clens [19]int
	for _, s := range clOrder[:hclen+4] {
		if clens[s], err = r.bits(3); err != nil {
			return err
		}
	}
	cl := newHuffman(clens[:])
	lengths := make([]int, 0, nlit+ndist)
	for len(lengths) < nlit+ndist {
		s, err := r.decode(&cl)
		if err != nil {
			return err
		}
		if s < 16 {
			lengths = append(lengths, s)
			continue
		}
		var v, rep int
		switch s {
		case 16:
			if len(lengths) == 0 {
				return errors.New("code length repeat with nothing to repeat")
			}
			v = lengths[len(lengths)-1]
			rep, err = r.bits(2)
			rep += 3
		case 17:
			rep, err = r.bits(3)
			rep += 3
		default:
			rep, err = r.bits(7)
			rep += 11
		}
		if err != nil {
			return err
		}
		if len(lengths)+rep > nlit+ndist {
			return errors.New("code lengths overflow")
		}
		for range rep {
			lengths = append(lengths, v)
		}
	}
	*lit, *dist = newHuffman(lengths[:nlit]), newHuffman(lengths[nlit:])
	return nil
}

// codes walks a Huffman-coded block up to its end-of-block code.
func (r *bitReader) codes(lit, dist *huffman, maxDist, size *int) error {
	for {
		s, err := r.decode(lit)
		if err != nil {
			return err
		}
		switch {
		case s < 256:
			*size++
			continue
		case s == 256:
			return nil
		case s > 285:
			return fmt.Errorf("length symbol %d", s)
		}
		extra, err := r.bits(lenExtra[s-257])
		if err != nil {
			return err
		}
		*size += lenBase[s-257] + extra
		d, err := r.decode(dist)
		if err != nil {
			return err
		}
		if d > 29 {
			return fmt.Errorf("distance symbol %d", d)
		}
		extra, err = r.bits(distExtra[d])
		if err != nil {
			return err
		}
		*maxDist = max(*maxDist, distBase[d]+extra)
	}
}

func TestFarthest(t *testing.T) {
	// Hand-made streams, bits written least significant first.
	tests := []struct {
		name           string
		stream         []byte
		maxDist, size  int
		wantErr        bool
		legendOfStream string
	}{
		{
			name: "empty final stored block", stream: []byte{0x01, 0x00, 0x00, 0xff, 0xff},
			legendOfStream: "BFINAL=1 BTYPE=00, aligned; LEN 0000, NLEN ffff",
		},
		{
			name: "stored abc", stream: []byte{0x01, 0x03, 0x00, 0xfc, 0xff, 'a', 'b', 'c'}, size: 3,
			legendOfStream: "BFINAL=1 BTYPE=00; LEN 3, NLEN ^3; a b c",
		},
		{
			// Fixed codes: 'a' (0x61 -> 8-bit code 0x91), then length 3
			// (symbol 257, 7-bit code 1) at distance 1 (5-bit code 0),
			// end of block (7-bit code 0).
			name: "fixed a + copy(3, 1)", stream: []byte{0x4b, 0x04, 0x02, 0x00}, maxDist: 1, size: 4,
			legendOfStream: "BFINAL=1 BTYPE=01; lit a; len 3; dist 1; EOB",
		},
		{name: "truncated", stream: []byte{0x4b, 0x04}, wantErr: true},
		{name: "bad complement", stream: []byte{0x01, 0x03, 0x00, 0x00, 0x00, 'a', 'b', 'c'}, wantErr: true},
	}
	for _, tt := range tests {
		d, n, err := farthest(tt.stream)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err %v, want error %t", tt.name, err, tt.wantErr)
			continue
		}
		if err == nil && (d != tt.maxDist || n != tt.size) {
			t.Errorf("%s: distance %d, size %d; want %d, %d", tt.name, d, n, tt.maxDist, tt.size)
		}
		// The hand-made streams are real DEFLATE: compress/flate agrees.
		if out, ferr := io.ReadAll(flate.NewReader(bytes.NewReader(tt.stream))); !tt.wantErr && (ferr != nil || len(out) != tt.size) {
			t.Errorf("%s: compress/flate reads %d bytes, %v; want %d", tt.name, len(out), ferr, tt.size)
		}
	}
}

// TestFarthestFlate walks compress/flate's output: the size must be the
// input's, and a block repeated at distance d must show a back-reference
// of d (no nearer copy exists in random bytes), never more than 32 KiB.
func TestFarthestFlate(t *testing.T) {
	for _, d := range []int{300, 2048, 20000} {
		for _, level := range []int{flate.HuffmanOnly, flate.BestSpeed, flate.DefaultCompression, flate.BestCompression} {
			block := randomBytes(d, uint32(d))
			data := append(append([]byte{}, block...), block...)
			var buf bytes.Buffer
			w, _ := flate.NewWriter(&buf, level)
			w.Write(data)
			w.Close()
			got, n, err := farthest(buf.Bytes())
			if err != nil {
				t.Fatalf("d=%d level %d: %v", d, level, err)
			}
			want := d
			if level == flate.HuffmanOnly {
				want = 0
			}
			if n != len(data) || got != want {
				t.Errorf("d=%d level %d: size %d, farthest %d; want %d, %d", d, level, n, got, len(data), want)
			}
		}
	}
}
