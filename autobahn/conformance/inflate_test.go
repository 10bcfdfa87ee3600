package conformance

import (
	"bytes"
	"compress/flate"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

// bitWriter writes a DEFLATE bit stream by hand: values least significant
// bit first, Huffman codes most significant bit first (RFC 1951 §3.1.1).
type bitWriter struct {
	out []byte
	acc uint64
	n   uint
}

func (w *bitWriter) bits(v uint64, n uint) {
	w.acc |= v << w.n
	w.n += n
	for w.n >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.n -= 8
	}
}

// code writes an n-bit Huffman code.
func (w *bitWriter) code(c uint64, n uint) {
	var r uint64
	for range n {
		r = r<<1 | c&1
		c >>= 1
	}
	w.bits(r, n)
}

// align pads to the byte boundary with zero bits.
func (w *bitWriter) align() {
	if w.n > 0 {
		w.bits(0, 8-w.n)
	}
}

// Fixed Huffman codes (RFC 1951 §3.2.6).
func (w *bitWriter) fixedSym(sym int) {
	switch {
	case sym < 144:
		w.code(uint64(0x30+sym), 8)
	case sym < 256:
		w.code(uint64(0x190+sym-144), 9)
	case sym < 280:
		w.code(uint64(sym-256), 7)
	default:
		w.code(uint64(0xc0+sym-280), 8)
	}
}

func (w *bitWriter) fixedMatch(length, dist int) {
	li := 0
	for li+1 < len(lengthBase) && int(lengthBase[li+1]) <= length {
		li++
	}
	w.fixedSym(257 + li)
	w.bits(uint64(length-int(lengthBase[li])), uint(lengthExtra[li]))
	di := 0
	for di+1 < len(distBase) && int(distBase[di+1]) <= dist {
		di++
	}
	w.code(uint64(di), 5)
	w.bits(uint64(dist-int(distBase[di])), uint(distExtra[di]))
}

// permessage ends a non-final block stream the way a sync flush does (an
// empty stored block), minus the 00 00 ff ff that RFC 7692 strips.
func (w *bitWriter) permessage() []byte {
	w.bits(0, 3) // BFINAL 0, BTYPE 00
	w.align()
	return w.out
}

// farStream encodes msg as one fixed-Huffman block in which one 3-byte
// sequence is a back-reference farther back than window bytes (and within
// 32 KiB, so compress/flate still decodes it). It returns nil when msg has
// no such repeat.
func farStream(msg []byte, window int) []byte {
	seen := map[[3]byte][]int{}
	at, dist := -1, 0
search:
	for i := 0; i+3 <= len(msg); i++ {
		k := [3]byte(msg[i : i+3])
		for _, p := range seen[k] {
			if d := i - p; d > window && d <= 1<<15 {
				at, dist = i, d
				break search
			}
		}
		seen[k] = append(seen[k], i)
	}
	if at < 0 {
		return nil
	}
	var w bitWriter
	w.bits(1<<1, 3) // BFINAL 0, BTYPE 01 (fixed)
	for _, b := range msg[:at] {
		w.fixedSym(int(b))
	}
	w.fixedMatch(3, dist)
	for _, b := range msg[at+3:] {
		w.fixedSym(int(b))
	}
	w.fixedSym(256)
	return w.permessage()
}

// Stream legend: each block starts with BFINAL (1 bit) and BTYPE (2 bits,
// 00 stored, 01 fixed, 10 dynamic), least significant bit first. A stored
// block then skips to a byte boundary and has LEN, NLEN (little endian,
// NLEN = ^LEN). "tail" is the 00 00 ff ff the receiver appends.
func TestInflateWire(t *testing.T) {
	const tail = "0000ffff"
	tests := []struct {
		name   string
		stream string // hex
		dict   string
		window int
		want   string
		err    error // errors.Is target, or nil
		as     any   // errors.As target, or nil
	}{
		{name: "stored 'hello', final", stream: "01" + "0500" + "faff" + "68656c6c6f", window: 32768, want: "hello"},
		{name: "fixed 'a' + EOB, final (zlib's encoding of 'a')", stream: "4b0400", window: 32768, want: "a"},
		{name: "fixed 'a', then sync flush and tail", stream: "4a0400" + tail, window: 32768, want: "a"},
		{name: "empty message (RFC 7692 §7.2.3.6)", stream: "00" + tail, window: 32768, want: ""},
		{name: "'abc' + match(6, 3): stays within a 4-byte window", stream: "4a4c4a86200000" + tail, window: 4, want: "abcabcabc"},
		{name: "same stream, window of 2 bytes", stream: "4a4c4a86200000" + tail, window: 2, as: new(*windowError)},
		{name: "match(3, 3) reaches into the dictionary", stream: "02220000" + tail, dict: "xyz", window: 32768, want: "xyz"},
		{name: "match(3, 3) with no dictionary", stream: "02220000" + tail, window: 32768, as: new(*historyError)},
		{name: "ends inside a block", stream: "4a4c4a86", window: 32768, err: errDeflateCorrupt},
		{name: "stored length and complement disagree", stream: "01" + "0500" + "0000" + "68656c6c6f", window: 32768, err: errDeflateCorrupt},
		{name: "reserved block type 11", stream: "07", window: 32768, err: errDeflateCorrupt},
		{name: "fixed distance code 30", stream: "033e", window: 32768, err: errDeflateCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := hex.DecodeString(tt.stream)
			if err != nil {
				t.Fatal(err)
			}
			out, err := inflate(in, []byte(tt.dict), tt.window)
			n, cerr := checkDeflate(in, tt.window, int64(len(tt.dict)), 0)
			if (err == nil) != (cerr == nil) || (err == nil && n != int64(len(out))) {
				t.Errorf("inflate and checkDeflate disagree: %v (%d bytes) vs %v (%d bytes)", err, len(out), cerr, n)
			}
			switch {
			case tt.err != nil:
				if !errors.Is(err, tt.err) {
					t.Fatalf("error %v, want %v", err, tt.err)
				}
			case tt.as != nil:
				if !errors.As(err, tt.as) {
					t.Fatalf("error %v (%T), want %T", err, err, tt.as)
				}
			case err != nil:
				t.Fatal(err)
			case string(out) != tt.want:
				t.Fatalf("got %q, want %q", out, tt.want)
			}
		})
	}
}

// The hand-written streams above come from the test's bit writer; this
// pins the writer to them.
func TestBitWriter(t *testing.T) {
	var w bitWriter
	w.bits(1<<1, 3)
	for _, b := range "abc" {
		w.fixedSym(int(b))
	}
	w.fixedMatch(6, 3)
	w.fixedSym(256)
	if got := hex.EncodeToString(w.permessage()); got != "4a4c4a86200000" {
		t.Errorf("abc+match(6,3): %s", got)
	}
	w = bitWriter{}
	w.bits(1<<1, 3)
	w.fixedMatch(3, 3)
	w.fixedSym(256)
	if got := hex.EncodeToString(w.permessage()); got != "02220000" {
		t.Errorf("match(3,3): %s", got)
	}
	msg := repeatTo("0123456789abcdefghij", 4000)
	z := farStream(msg, 512)
	if z == nil {
		t.Fatal("no far repeat found")
	}
	in := append(z, syncTail...)
	var we *windowError
	if _, err := checkDeflate(in, 512, 0, 0); !errors.As(err, &we) || we.Dist <= 512 {
		t.Errorf("farStream: %v", err)
	}
	if out, err := io.ReadAll(flate.NewReader(bytes.NewReader(append(in, finalEmpty...)))); err != nil || !bytes.Equal(out, msg) {
		t.Errorf("compress/flate decodes farStream to %d bytes, %v", len(out), err)
	}
}

// Everything compress/flate writes, the checker decodes to the same bytes,
// and a flate stream with a 32 KiB window is caught when the agreed window
// is smaller, as soon as it reaches farther.
func TestInflateMatchesFlate(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var payloads [][]byte
	for _, c := range corpora() {
		d := c.bytes()
		p := r.IntN(len(d) - 70000)
		payloads = append(payloads, d[p:p+1+r.IntN(70000)])
	}
	payloads = append(payloads, []byte{}, []byte("x"), bytes.Repeat([]byte{0}, 300000))
	for _, level := range []int{flate.HuffmanOnly, flate.NoCompression, 1, 6, 9} {
		for i, msg := range payloads {
			var buf bytes.Buffer
			dict := payloads[(i+1)%len(payloads)]
			dict = dict[:min(len(dict), 5000)]
			fw, _ := flate.NewWriterDict(&buf, level, dict)
			fw.Write(msg)
			fw.Flush()
			z := buf.Bytes()
			f := inflater{in: z, window: 1 << 15, hist: int64(len(dict)), produce: true, dict: dict}
			if err := f.run(); err != nil || !bytes.Equal(f.out, msg) {
				t.Fatalf("level %d payload %d (%d bytes): %v, %d bytes out", level, i, len(msg), err, len(f.out))
			}
			// The window check fails exactly when a back-reference
			// reaches farther than the window.
			for _, w := range []int{1 << 8, 1 << 9, 1 << 12} {
				_, err := checkDeflate(z, w, int64(len(dict)), 0)
				var we *windowError
				if (f.maxDist > w) != errors.As(err, &we) || (err != nil && we == nil) {
					t.Errorf("level %d payload %d: farthest distance %d, window %d: %v", level, i, f.maxDist, w, err)
				}
			}
			switch {
			case level == flate.HuffmanOnly || level == flate.NoCompression:
				if f.maxDist != 0 {
					t.Errorf("level %d payload %d uses distance %d", level, i, f.maxDist)
				}
			case i == 0 || i == 2 || i == 3:
				// Text reaches back farther than 256 bytes: the check is
				// exercised, not vacuous.
				if len(msg) > 2000 && f.maxDist <= 256 {
					t.Errorf("level %d text payload %d (%d bytes): farthest distance only %d", level, i, len(msg), f.maxDist)
				}
			}
		}
	}
}

// FuzzInflate compares the checker's decoder with compress/flate on
// arbitrary streams: when either decodes a stream, both produce the same
// bytes. compress/flate reports io.ErrUnexpectedEOF for a stream that ends
// on a block boundary without a final block, which the checker accepts.
func FuzzInflate(f *testing.F) {
	for _, s := range []string{"01" + "0500" + "faff" + "68656c6c6f", "4b0400", "4a04000000ffff", "4a4c4a862000000000ffff", "022200000000ffff"} {
		b, _ := hex.DecodeString(s)
		f.Add(b, uint16(3))
	}
	for _, level := range []int{flate.HuffmanOnly, 1, 9} {
		var buf bytes.Buffer
		fw, _ := flate.NewWriter(&buf, level)
		fw.Write(jsonCorpus().bytes()[:3000])
		fw.Close()
		f.Add(buf.Bytes(), uint16(0))
	}
	dictSrc := []byte("xyz0123456789 the quick brown fox")
	f.Fuzz(func(t *testing.T, stream []byte, dictLen uint16) {
		if len(stream) > 1<<16 {
			return
		}
		dict := dictSrc[:int(dictLen)%(len(dictSrc)+1)]
		ours, err := inflate(stream, dict, 1<<15)
		ref, rerr := io.ReadAll(io.LimitReader(flate.NewReaderDict(bytes.NewReader(stream), dict), 1<<24))
		var ce flate.CorruptInputError
		switch {
		case rerr == nil:
			// flate reached a final block: ours must agree exactly.
			if err != nil || !bytes.Equal(ours, ref) {
				t.Fatalf("flate decodes %d bytes up to a final block; ours: %v, %d bytes", len(ref), err, len(ours))
			}
		case errors.Is(rerr, io.ErrUnexpectedEOF):
			// flate ran out of input. Ours may accept (a stream ending on
			// a block boundary, as permessage-deflate messages do) or
			// refuse (cut inside a block, or flate reads ahead of the
			// point where ours finds an invalid code); what both decoded
			// must agree.
			if err == nil && !bytes.Equal(ours, ref) {
				t.Fatalf("outputs differ: ours %d bytes, flate %d bytes", len(ours), len(ref))
			}
		case errors.As(rerr, &ce):
			if err == nil {
				t.Fatalf("flate: %v; ours decoded %d bytes", rerr, len(ours))
			}
		}
	})
}

// BenchmarkCheckDeflate measures the window checker on 128 KiB messages of
// each corpus compressed by compress/flate at the suite's level.
func BenchmarkCheckDeflate(b *testing.B) {
	for _, c := range corpora() {
		msg := c.bytes()[:128<<10]
		var buf bytes.Buffer
		fw, _ := flate.NewWriter(&buf, suiteLevel)
		fw.Write(msg)
		fw.Flush()
		z := buf.Bytes()
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := checkDeflate(z, 1<<15, 0, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
