package deflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

// syncTail is what RFC 7692 strips from every message and a receiver puts
// back.
var syncTail = []byte{0x00, 0x00, 0xff, 0xff}

// compressSplit compresses msg as one message, cut into Append calls at
// the given points (offsets into msg, ascending).
func compressSplit(c *Compressor, dst, msg []byte, cuts []int) []byte {
	prev := 0
	for _, p := range cuts {
		if p < prev || p > len(msg) {
			continue
		}
		dst = c.Append(dst, msg[prev:p], false)
		prev = p
	}
	return c.Append(dst, msg[prev:], true)
}

// randomCuts returns up to n ascending cut points in 0..size.
func randomCuts(r *rand.Rand, size, n int) []int {
	cuts := make([]int, r.IntN(n+1))
	for i := range cuts {
		cuts[i] = r.IntN(size + 1)
	}
	for i := 1; i < len(cuts); i++ {
		for j := i; j > 0 && cuts[j] < cuts[j-1]; j-- {
			cuts[j], cuts[j-1] = cuts[j-1], cuts[j]
		}
	}
	return cuts
}

// flateMessage inflates one message on its own, with dict as the history.
func flateMessage(msg, dict []byte) ([]byte, error) {
	in := append(append(append([]byte(nil), msg...), syncTail...), 0x01, 0x00, 0x00, 0xff, 0xff)
	return io.ReadAll(flate.NewReaderDict(bytes.NewReader(in), dict))
}

// checkStream compresses msgs as consecutive messages of one Compressor,
// each cut at random points, and checks every one with the window checker,
// with compress/flate on its own (with the previous messages as the
// dictionary when takeover), and, with takeover, through one flate reader
// fed the whole stream.
func checkStream(t *testing.T, level, wbits int, takeover bool, msgs [][]byte, seed uint64) {
	t.Helper()
	r := newRand(seed)
	c := NewCompressor(level, wbits, takeover)
	k := newWindowChecker(wbits, takeover)
	var stream, all []byte
	var out []byte
	for i, msg := range msgs {
		out = compressSplit(c, out[:0], msg, randomCuts(r, len(msg), 4))
		got, err := k.message(out)
		if err != nil {
			t.Fatalf("level %d window %d takeover %v message %d (%d bytes): checker: %v", level, wbits, takeover, i, len(msg), err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("level %d window %d takeover %v message %d: checker decoded %d bytes that differ from the %d sent",
				level, wbits, takeover, i, len(got), len(msg))
		}
		var dict []byte
		if takeover {
			dict = all[max(len(all)-32<<10, 0):]
		}
		got, err = flateMessage(out, dict)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("level %d window %d takeover %v message %d: compress/flate: %v (%d bytes, want %d)",
				level, wbits, takeover, i, err, len(got), len(msg))
		}
		all = append(all, msg...)
		stream = append(append(stream, out...), syncTail...)
		k.trim()
	}
	if takeover {
		got := make([]byte, len(all))
		if _, err := io.ReadFull(flate.NewReader(bytes.NewReader(stream)), got); err != nil || !bytes.Equal(got, all) {
			t.Fatalf("level %d window %d: one flate reader over the stream: %v", level, wbits, err)
		}
	}
}

// smallMessages is a mix of the payload kinds at sizes up to a few KiB,
// plus the edge cases: empty, one byte, runs.
func smallMessages(seed uint64) [][]byte {
	return [][]byte{
		jsonPayload(seed, 2000),
		{},
		jsonPayload(seed+1, 700),
		{'x'},
		htmlPayload(seed, 3000),
		randomPayload(seed, 1500),
		runPayload('a', 1000),
		jsonPayload(seed, 2000), // the first one again: a takeover stream refers back
		binaryPayload(seed, 2500),
		mixedPayload(seed, 6000),
		{0},
		runPayload(0, 300),
	}
}

func TestRoundTripAllLevelsWindows(t *testing.T) {
	for level := 1; level <= 9; level++ {
		for wbits := MinWindowBits; wbits <= MaxWindowBits; wbits++ {
			for _, takeover := range []bool{false, true} {
				t.Run(fmt.Sprintf("level%d/window%d/takeover=%v", level, wbits, takeover), func(t *testing.T) {
					t.Parallel()
					seed := uint64(level*100 + wbits*2)
					msgs := smallMessages(seed)
					if !raceEnabled || wbits == MinWindowBits || wbits == MaxWindowBits {
						msgs = append(msgs, mixedPayload(seed, 70<<10)) // past 64 KiB
					}
					checkStream(t, level, wbits, takeover, msgs, seed)
				})
			}
		}
	}
}

func TestRoundTripLarge(t *testing.T) {
	size := 3 << 20
	if testing.Short() || raceEnabled {
		size = 256 << 10
	}
	for _, level := range []int{1, 6, 9} {
		for _, wbits := range []int{8, 15} {
			t.Run(fmt.Sprintf("level%d/window%d", level, wbits), func(t *testing.T) {
				t.Parallel()
				seed := uint64(level + wbits)
				msgs := [][]byte{
					mixedPayload(seed, size),
					jsonPayload(seed, size/2),
					randomPayload(seed, size/4),
					runPayload('z', size/2),
				}
				checkStream(t, level, wbits, true, msgs, seed)
			})
		}
	}
}

func TestEmptyMessage(t *testing.T) {
	// RFC 7692 §7.2.3.6: an empty message may be sent as a single 00 byte
	// (an empty stored block without its LEN and NLEN).
	for _, takeover := range []bool{false, true} {
		c := NewCompressor(1, 15, takeover)
		if got := c.Append(nil, nil, true); !bytes.Equal(got, []byte{0x00}) {
			t.Errorf("takeover %v: empty message = % x, want 00", takeover, got)
		}
		c.Append(nil, []byte("hello"), true)
		if got := c.Append(nil, nil, true); !bytes.Equal(got, []byte{0x00}) {
			t.Errorf("takeover %v: empty message after another = % x, want 00", takeover, got)
		}
	}
}

func TestHelloVector(t *testing.T) {
	// RFC 7692 §7.2.3.1: "Hello" is f2 48 cd c9 c9 07 00, a fixed Huffman
	// block and the sync flush's stored-block header.
	c := NewCompressor(1, 15, true)
	first := c.Append(nil, []byte("Hello"), true)
	if want := []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}; !bytes.Equal(first, want) {
		t.Errorf("Hello = % x, want % x", first, want)
	}
	// §7.2.3.2 sends it again with context takeover as f2 00 11 00 00: a
	// literal H and a 4-byte match. The whole message is one 5-byte match
	// at distance 5, one byte shorter. Bits, first to last:
	//   0 01         BFINAL 0, BTYPE 01 (fixed)
	//   0000011      symbol 259: length 5
	//   00100 0      distance symbol 4 (5..6), extra bit 0: distance 5
	//   0000000      end of block
	//   0 00 +pad    the sync flush: BFINAL 0, BTYPE 00, to the byte
	// = 02 13 00 00 (LSB first).
	second := c.Append(nil, []byte("Hello"), true)
	if want := []byte{0x02, 0x13, 0x00, 0x00}; !bytes.Equal(second, want) {
		t.Errorf("Hello again = % x, want % x", second, want)
	}
}

func TestIncompressibleIsStored(t *testing.T) {
	msg := randomPayload(7, 50000)
	for level := 1; level <= 9; level++ {
		c := NewCompressor(level, 15, false)
		out := c.Append(nil, msg, true)
		// Stored: 5 bytes per block, one block per buffer's worth, plus
		// the sync flush's byte.
		if len(out) > len(msg)+5*4+1 {
			t.Errorf("level %d: %d random bytes compress to %d", level, len(msg), len(out))
		}
		k := newWindowChecker(15, false)
		if _, err := k.message(out); err != nil {
			t.Fatal(err)
		}
		if k.fixed+k.dynamic != 0 {
			t.Errorf("level %d: %d Huffman blocks for random data", level, k.fixed+k.dynamic)
		}
	}
}

// TestWindowRespected puts a repeat of a chunk just beyond and just within
// each window size: the encoder must not refer to the far copy, and should
// use the near one.
func TestWindowRespected(t *testing.T) {
	for wbits := MinWindowBits; wbits <= MaxWindowBits; wbits++ {
		w := 1 << wbits
		chunk := randomPayload(uint64(wbits), 64)
		for _, level := range []int{1, 2, 4, 9} {
			for _, gap := range []int{w - 64, w - 63, w + 1} {
				// chunk, gap, chunk: the distance is gap+64. A random gap
				// is crossed with sparse probes, a run of one byte with
				// matches that keep the next probe close.
				for _, fill := range [][]byte{randomPayload(uint64(gap), gap), runPayload(0xee, gap)} {
					msg := append(append(append([]byte(nil), chunk...), fill...), chunk...)
					c := NewCompressor(level, wbits, false)
					out := c.Append(nil, msg, true)
					k := newWindowChecker(wbits, false)
					got, err := k.message(out)
					if err != nil || !bytes.Equal(got, msg) {
						t.Fatalf("window %d level %d gap %d: %v", wbits, level, gap, err)
					}
					if d := gap + 64; d <= w && level > 1 && fill[0] == 0xee && k.maxDist != d {
						t.Errorf("window %d level %d: repeat at distance %d (the window) not found, max distance %d", wbits, level, d, k.maxDist)
					}
				}
			}
		}
	}
}

// TestTakeoverWindowAcrossMessages checks that with takeover a message
// refers to the previous one only within the window.
func TestTakeoverWindowAcrossMessages(t *testing.T) {
	for wbits := MinWindowBits; wbits <= MaxWindowBits; wbits++ {
		for _, level := range []int{1, 5, 9} {
			c := NewCompressor(level, wbits, true)
			k := newWindowChecker(wbits, true)
			a := jsonPayload(uint64(wbits), 3000)
			for i, msg := range [][]byte{a, a, randomPayload(1, 1<<wbits), a, a[:100], {}, a} {
				out := c.Append(nil, msg, true)
				got, err := k.message(out)
				if err != nil || !bytes.Equal(got, msg) {
					t.Fatalf("window %d level %d message %d: %v", wbits, level, i, err)
				}
				if i == 1 && len(out) > 100 && wbits == 15 {
					t.Errorf("window %d level %d: a repeated message compresses to %d bytes", wbits, level, len(out))
				}
			}
		}
	}
}

func TestNoTakeoverForgets(t *testing.T) {
	c := NewCompressor(6, 15, false)
	a := jsonPayload(3, 4000)
	first := c.Append(nil, a, true)
	second := c.Append(nil, a, true)
	if !bytes.Equal(first, second) {
		t.Errorf("without takeover the same message compressed differently: %d then %d bytes", len(first), len(second))
	}
}

func TestResetDropsPendingBits(t *testing.T) {
	c := NewCompressor(1, 15, true)
	c.Append(nil, []byte("some text that leaves bits pending"), false)
	c.Reset()
	out := c.Append(nil, []byte("Hello"), true)
	if want := []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}; !bytes.Equal(out, want) {
		t.Errorf("after Reset, Hello = % x, want % x", out, want)
	}
}

func TestSplitEqualsWhole(t *testing.T) {
	// Splitting changes block boundaries but never the content.
	msg := mixedPayload(11, 200<<10)
	runs := 5
	if raceEnabled {
		msg, runs = msg[:100<<10], 2
	}
	r := newRand(5)
	for level := 1; level <= 9; level += 4 {
		for range runs {
			c := NewCompressor(level, 12, true)
			out := compressSplit(c, nil, msg, randomCuts(r, len(msg), 40))
			got, err := flateMessage(out, nil)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("level %d: %v", level, err)
			}
		}
	}
}

func TestNonFinalOutputIsUsable(t *testing.T) {
	// Each non-final Append ends its blocks, so what it returned, plus
	// the pending bits, decodes to everything given so far.
	c := NewCompressor(6, 15, false)
	var out []byte
	msg := jsonPayload(9, 10000)
	for i := 0; i < len(msg); i += 2500 {
		out = c.Append(out, msg[i:i+2500], false)
		// A sync flush marker completes the partial stream.
		probe := c.clone().Append(append([]byte(nil), out...), nil, true)
		got, err := flateMessage(probe, nil)
		if err != nil || !bytes.Equal(got, msg[:i+2500]) {
			t.Fatalf("after %d bytes: %v (%d bytes decoded)", i+2500, err, len(got))
		}
	}
}

// clone copies a Compressor with its own buffers, for probing.
func (c *Compressor) clone() *Compressor {
	d := *c
	d.win = bytes.Clone(c.win)
	d.head = append([]uint16(nil), c.head...)
	d.chain = append([]uint16(nil), c.chain...)
	return &d
}

func TestPool(t *testing.T) {
	c := GetCompressor(0, 10)
	if c.level != 1 || c.wbits != 10 || c.takeover {
		t.Fatalf("GetCompressor(0, 10): level %d window %d takeover %v", c.level, c.wbits, c.takeover)
	}
	c.Append(nil, []byte("abc"), false) // pending state that Put must clear
	PutCompressor(c)
	for range 3 {
		c := GetCompressor(1, 10)
		out := c.Append(nil, []byte("Hello"), true)
		if want := []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}; !bytes.Equal(out, want) {
			t.Errorf("pooled compressor: Hello = % x, want % x", out, want)
		}
		PutCompressor(c)
	}
	PutCompressor(nil)
	PutCompressor(NewCompressor(1, 10, true)) // not pooled; must not panic
}

func TestInvalidArguments(t *testing.T) {
	for _, f := range []func(){
		func() { NewCompressor(10, 15, false) },
		func() { NewCompressor(-1, 15, false) },
		func() { NewCompressor(1, 7, false) },
		func() { NewCompressor(1, 16, false) },
		func() { GetCompressor(1, 16) },
		func() { NewDecompressor(7, false) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		}()
	}
}

func TestSize(t *testing.T) {
	// What a connection holds between messages: at most 128 KiB at the
	// largest window whatever the level, less for smaller windows.
	for level := 1; level <= 9; level++ {
		prev := 0
		for wbits := MinWindowBits; wbits <= MaxWindowBits; wbits++ {
			size := NewCompressor(level, wbits, true).Size()
			if size > 128<<10 {
				t.Errorf("level %d window %d: Size %d, want at most 128 KiB", level, wbits, size)
			}
			if size < prev {
				t.Errorf("level %d window %d: Size %d, smaller than with a smaller window", level, wbits, size)
			}
			prev = size
			if level == 1 || level == 9 {
				t.Logf("window %2d level %d: Compressor.Size %6d", wbits, level, size)
			}
		}
	}
	t.Logf("borrowed during Append: ScratchSize %d", ScratchSize)
	for wbits := MinWindowBits; wbits <= MaxWindowBits; wbits++ {
		with, without := NewDecompressor(wbits, true).Size(), NewDecompressor(wbits, false).Size()
		t.Logf("window %2d: Decompressor.Size %d with takeover, %d without", wbits, with, without)
		if with > 1<<wbits+1024 || without > 1024 {
			t.Errorf("window %d: Decompressor.Size %d with takeover, %d without", wbits, with, without)
		}
	}
}

func TestAppendAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	msg := jsonPayload(1, 4000)
	for _, level := range []int{1, 6, 9} {
		for _, takeover := range []bool{false, true} {
			c := NewCompressor(level, 15, takeover)
			dst := make([]byte, 0, 8000)
			allocs := testing.AllocsPerRun(20, func() {
				dst = c.Append(dst[:0], msg[:1000], false)
				dst = c.Append(dst, msg[1000:], true)
			})
			if allocs != 0 {
				t.Errorf("level %d takeover %v: %v allocs per message", level, takeover, allocs)
			}
		}
	}
}
