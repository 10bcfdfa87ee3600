package deflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"
)

// The examples of RFC 7692 §7.2.3, each a message payload as sent (the
// 00 00 ff ff tail removed).
var rfcVectors = []struct {
	name string
	msg  []byte
	want string
}{
	// §7.2.3.1: one fixed Huffman block; the sync flush's stored-block
	// header is the final 00.
	{"one block", []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, "Hello"},
	// §7.2.3.3: a stored block: 00 (BFINAL 0, BTYPE 00), LEN 0005, NLEN
	// fffa, "Hello", then the sync flush's header.
	{"stored", []byte{0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}, "Hello"},
	// §7.2.3.4: a block with BFINAL set, then an empty stored block with
	// BFINAL 0 whose LEN and NLEN are the removed tail.
	{"BFINAL block", []byte{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}, "Hello"},
	// §7.2.3.5: "He" and "llo" in two blocks, the first one ended with a
	// sync flush of its own (00 00 00 ff ff).
	{"two blocks", []byte{0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00}, "Hello"},
	// §7.2.3.6: an empty message as a stored-block header alone, and as
	// a fixed Huffman block holding only the end-of-block code.
	{"empty stored", []byte{0x00}, ""},
	{"empty fixed", []byte{0x02, 0x00}, ""},
	// Nothing at all: the tail alone is a valid empty message too.
	{"empty payload", []byte{}, ""},
}

func TestDecompressRFCVectors(t *testing.T) {
	for _, v := range rfcVectors {
		for _, takeover := range []bool{false, true} {
			d := NewDecompressor(15, takeover)
			got, err := d.Append(nil, v.msg, -1)
			if err != nil || string(got) != v.want {
				t.Errorf("%s, takeover %v: Append = %q, %v; want %q", v.name, takeover, got, err, v.want)
			}
			d.Start(bytes.NewReader(v.msg))
			got, err = io.ReadAll(d)
			if err != nil || string(got) != v.want {
				t.Errorf("%s, takeover %v: Read = %q, %v; want %q", v.name, takeover, got, err, v.want)
			}
		}
	}
}

func TestDecompressRFCTakeover(t *testing.T) {
	// §7.2.3.2: the second "Hello" refers to the first one.
	first := []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}
	second := []byte{0xf2, 0x00, 0x11, 0x00, 0x00}
	d := NewDecompressor(15, true)
	for i, m := range [][]byte{first, second, second} {
		got, err := d.Append(nil, m, -1)
		if err != nil || string(got) != "Hello" {
			t.Fatalf("message %d: %q, %v", i, got, err)
		}
	}
	// Without takeover the reference has nothing to point to.
	d = NewDecompressor(15, false)
	d.Append(nil, first, -1)
	if _, err := d.Append(nil, second, -1); !errors.Is(err, ErrCorrupt) {
		t.Errorf("back-reference without takeover: %v, want ErrCorrupt", err)
	}
}

func TestDecompressRestartAfterFinalBlock(t *testing.T) {
	// A message made of a whole DEFLATE stream (ended by a final block)
	// followed by more blocks that refer back into it.
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, 6)
	w.Write([]byte("Hello, Hello, Hello"))
	w.Close()
	c := NewCompressor(9, 15, true)
	c.Append(nil, []byte("Hello, Hello, Hello"), true) // the same history
	msg := c.Append(append([]byte(nil), buf.Bytes()...), []byte(" Hello again"), true)
	for _, takeover := range []bool{false, true} {
		d := NewDecompressor(15, takeover)
		got, err := d.Append(nil, msg, -1)
		if want := "Hello, Hello, Hello Hello again"; err != nil || string(got) != want {
			t.Errorf("takeover %v: Append = %q, %v; want %q", takeover, got, err, want)
		}
		d.Start(iotest.OneByteReader(bytes.NewReader(msg)))
		got, err = io.ReadAll(d)
		if want := "Hello, Hello, Hello Hello again"; err != nil || string(got) != want {
			t.Errorf("takeover %v: Read = %q, %v; want %q", takeover, got, err, want)
		}
	}
}

func TestDecompressLimit(t *testing.T) {
	msg := jsonPayload(1, 10000)
	comp := NewCompressor(6, 15, false).Append(nil, msg, true)
	n := int64(len(msg))
	for _, tc := range []struct {
		limit int64
		err   error
	}{
		{-1, nil},
		{n, nil},
		{n + 1, nil},
		{n - 1, ErrTooLarge},
		{0, ErrTooLarge},
		{1, ErrTooLarge},
	} {
		for _, room := range []int{0, 100, 20000} {
			d := NewDecompressor(15, false)
			dst := make([]byte, 3, 3+room)
			got, err := d.Append(dst, comp, tc.limit)
			if err != tc.err {
				t.Errorf("limit %d room %d: error %v, want %v", tc.limit, room, err, tc.err)
			}
			if err == nil && !bytes.Equal(got[3:], msg) {
				t.Errorf("limit %d room %d: wrong output", tc.limit, room)
			}
			if err != nil && len(got) != 3 {
				t.Errorf("limit %d room %d: on error len(dst) = %d, want the original 3", tc.limit, room, len(got))
			}
		}
	}
	// An empty message fits a zero limit.
	if _, err := NewDecompressor(15, false).Append(nil, []byte{0x00}, 0); err != nil {
		t.Errorf("empty message, limit 0: %v", err)
	}
}

func TestDecompressBomb(t *testing.T) {
	// 10 MiB of zeros (3 MiB under the race detector) compress to about
	// 10 KB. With a 1 MiB limit, Append must give up after inflating
	// little more than the limit: flate decodes at most one 32 KiB window
	// ahead of what it returns.
	size, limit := 10<<20, int64(1<<20)
	if raceEnabled {
		size = 3 << 20
	}
	zeros := make([]byte, size)
	for _, level := range []int{1, 9} {
		bomb := NewCompressor(level, 15, false).Append(nil, zeros, true)
		d := NewDecompressor(15, false)
		dst := make([]byte, 0, 64<<10)
		out, err := d.Append(dst, bomb, limit)
		if err != ErrTooLarge {
			t.Fatalf("level %d: %v, want ErrTooLarge", level, err)
		}
		if len(out) != 0 {
			t.Errorf("level %d: %d bytes returned with ErrTooLarge", level, len(out))
		}
		// What the consumed input inflates to is what was inflated.
		inflated, _ := io.Copy(io.Discard, flate.NewReader(bytes.NewReader(bomb[:d.used])))
		t.Logf("level %d: %d-byte bomb of %d bytes; stopped after %d compressed bytes, which inflate to %d",
			level, len(bomb), size, d.used, inflated)
		if inflated > limit+64<<10 {
			t.Errorf("level %d: inflated %d bytes for a limit of %d", level, inflated, limit)
		}
	}
}

func TestDecompressCorrupt(t *testing.T) {
	good := NewCompressor(6, 15, false).Append(nil, jsonPayload(2, 5000), true)
	for _, tc := range []struct {
		name string
		msg  []byte
	}{
		{"reserved block type", []byte{0x07, 0x00}},
		{"stored LEN/NLEN mismatch", []byte{0x00, 0x05, 0x00, 0x00, 0x00, 'H', 'e', 'l', 'l', 'o', 0x00}},
		{"distance before the start", []byte{0xf2, 0x00, 0x11, 0x00, 0x00}},
		{"truncated", good[:len(good)/2]},
		{"garbage", []byte("this is not deflate data at all, no, not at all")},
	} {
		d := NewDecompressor(15, false)
		_, err := d.Append(nil, tc.msg, -1)
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Append error %v, want ErrCorrupt", tc.name, err)
		}
		d.Start(bytes.NewReader(tc.msg))
		_, err = io.ReadAll(d)
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Read error %v, want ErrCorrupt", tc.name, err)
		}
		// The Decompressor is usable again.
		if got, err := d.Append(nil, good, -1); err != nil || !bytes.Equal(got, jsonPayload(2, 5000)) {
			t.Errorf("%s: next message: %v", tc.name, err)
		}
	}
}

func TestDecompressSourceError(t *testing.T) {
	// A failing source is reported as itself, not as corrupt data.
	boom := errors.New("boom")
	msg := NewCompressor(1, 15, false).Append(nil, jsonPayload(3, 3000), true)
	d := NewDecompressor(15, true)
	d.Start(io.MultiReader(bytes.NewReader(msg[:20]), iotest.ErrReader(boom)))
	if _, err := io.ReadAll(d); err != boom {
		t.Errorf("Read error %v, want the source's", err)
	}
	if _, err := d.Read(make([]byte, 10)); err != boom {
		t.Errorf("Read after the error: %v, want the source's again", err)
	}
}

// TestDecompressTakeoverWindows decodes takeover streams for every window
// size, and checks that exactly 2^windowBits bytes of history are kept: a
// message referring back exactly that far decodes, and fails with one
// window bit less.
func TestDecompressTakeoverWindows(t *testing.T) {
	for wbits := MinWindowBits; wbits <= MaxWindowBits; wbits++ {
		w := 1 << wbits
		c := NewCompressor(9, wbits, true)
		d := NewDecompressor(wbits, true)
		msgs := [][]byte{jsonPayload(1, 3000), jsonPayload(1, 3000), htmlPayload(2, 20000), jsonPayload(1, 500), {}, randomPayload(9, w)}
		far := randomPayload(9, w)[:64] // refers back exactly w bytes, to the start of the last message
		msgs = append(msgs, far)
		var comp [][]byte
		for i, m := range msgs {
			out := c.Append(nil, m, true)
			comp = append(comp, out)
			got, err := d.Append(nil, out, -1)
			if err != nil || !bytes.Equal(got, m) {
				t.Fatalf("window %d message %d: %v", wbits, i, err)
			}
		}
		k := newWindowChecker(wbits, true)
		for _, m := range comp {
			k.message(m)
		}
		if k.maxDist != w {
			t.Fatalf("window %d: the stream's longest distance is %d, want %d", wbits, k.maxDist, w)
		}
		if wbits > MinWindowBits {
			short := NewDecompressor(wbits-1, true)
			var err error
			for _, m := range comp {
				if _, err = short.Append(nil, m, -1); err != nil {
					break
				}
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("window %d decoded with a window of %d: %v, want ErrCorrupt", wbits, w/2, err)
			}
		}
	}
}

func TestDecompressFlatePeer(t *testing.T) {
	// A compress/flate peer with context takeover: one Writer, a sync
	// flush per message.
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, 5)
	d := NewDecompressor(15, true)
	for i := range 20 {
		msg := mixedPayload(uint64(i%4), 3000+i*500)
		buf.Reset()
		w.Write(msg)
		w.Flush()
		got, err := d.Append(nil, bytes.TrimSuffix(buf.Bytes(), syncTail), -1)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("message %d: %v", i, err)
		}
	}
}

func TestStreamingEqualsAppend(t *testing.T) {
	readers := map[string]func(io.Reader) io.Reader{
		"ByteReader": func(r io.Reader) io.Reader { return r },
		"one byte":   iotest.OneByteReader,
		"half":       iotest.HalfReader,
		"data+EOF":   iotest.DataErrReader,
	}
	for _, takeover := range []bool{false, true} {
		for name, wrap := range readers {
			t.Run(fmt.Sprintf("%s/takeover=%v", name, takeover), func(t *testing.T) {
				c := NewCompressor(6, 12, takeover)
				da := NewDecompressor(12, takeover)
				ds := NewDecompressor(12, takeover)
				for i, m := range smallMessages(4) {
					out := c.Append(nil, m, true)
					want, err := da.Append(nil, out, -1)
					if err != nil || !bytes.Equal(want, m) {
						t.Fatalf("message %d: Append: %v", i, err)
					}
					ds.Start(wrap(bytes.NewReader(out)))
					var got []byte
					p := make([]byte, 1+i*97)
					for {
						n, err := ds.Read(p)
						got = append(got, p[:n]...)
						if err == io.EOF {
							break
						}
						if err != nil {
							t.Fatalf("message %d: Read: %v", i, err)
						}
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("message %d: Read gave %d bytes, Append %d", i, len(got), len(want))
					}
				}
			})
		}
	}
}

func TestDecompressEndMidMessage(t *testing.T) {
	// Ending a streamed message early gives back the pooled reader; the
	// next message starts clean (without takeover).
	c := NewCompressor(1, 15, false)
	a := c.Append(nil, jsonPayload(5, 50000), true)
	b := c.Append(nil, []byte("next"), true)
	d := NewDecompressor(15, false)
	d.Start(bytes.NewReader(a))
	io.ReadFull(d, make([]byte, 100))
	d.End()
	if n, err := d.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Errorf("Read after End: %d, %v; want 0, EOF", n, err)
	}
	if got, err := d.Append(nil, b, -1); err != nil || string(got) != "next" {
		t.Errorf("next message: %q, %v", got, err)
	}
}

// flateAllocs counts the allocations of a bare, reused flate.Reader
// inflating msg: compress/flate allocates link tables for each dynamic
// block with codes longer than 9 bits, which the Decompressor inherits.
func flateAllocs(msg []byte, out []byte) float64 {
	in := append(append([]byte(nil), msg...), tail[:]...)
	br := bytes.NewReader(in)
	fr := flate.NewReader(br)
	return testing.AllocsPerRun(20, func() {
		br.Reset(in)
		fr.(flate.Resetter).Reset(br, nil)
		io.ReadFull(fr, out)
	})
}

func TestDecompressAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	for _, tc := range []struct {
		name string
		msg  []byte
	}{
		{"fixed", []byte("a short message, one fixed Huffman block")},
		{"stored", randomPayload(1, 20000)},
		{"dynamic", jsonPayload(1, 20000)},
	} {
		comp := NewCompressor(6, 15, false).Append(nil, tc.msg, true)
		base := flateAllocs(comp, make([]byte, len(tc.msg)))
		if tc.name != "dynamic" && base != 0 {
			t.Errorf("%s: compress/flate allocates %v times", tc.name, base)
		}
		d := NewDecompressor(15, false)
		dst := make([]byte, 0, len(tc.msg))
		allocs := testing.AllocsPerRun(20, func() {
			dst, _ = d.Append(dst[:0], comp, 1<<20)
		})
		if allocs != base {
			t.Errorf("%s: Append: %v allocs per message, compress/flate alone %v", tc.name, allocs, base)
		}
		r := bytes.NewReader(comp)
		p := make([]byte, 4096)
		allocs = testing.AllocsPerRun(20, func() {
			r.Reset(comp)
			d.Start(r)
			for {
				if _, err := d.Read(p); err != nil {
					break
				}
			}
		})
		if allocs != base {
			t.Errorf("%s: Start/Read: %v allocs per message, compress/flate alone %v", tc.name, allocs, base)
		}
	}
	// With takeover: a stream of short messages (fixed Huffman blocks that
	// refer to the history), each decoded into a buffer with room.
	c := NewCompressor(6, 15, true)
	var comps [][]byte
	for i := range 40 {
		comps = append(comps, c.Append(nil, []byte(fmt.Sprintf(`{"id":%d,"type":"update","ok":true}`, i)), true))
	}
	d := NewDecompressor(15, true)
	dst := make([]byte, 0, 4096)
	i := 0
	allocs := testing.AllocsPerRun(30, func() {
		var err error
		if dst, err = d.Append(dst[:0], comps[i], -1); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if allocs != 0 {
		t.Errorf("takeover Append: %v allocs per message", allocs)
	}
}

// fillAll inflates msg with Begin and Fill, growing the output by step
// bytes at a time into a fresh buffer each time (as a caller that moves
// the output under a budget would), and returns what came out.
func fillAll(t *testing.T, d *Decompressor, msg []byte, step int) []byte {
	t.Helper()
	d.Begin(msg)
	var out []byte
	for range 1 << 20 {
		if len(out) == cap(out) {
			bigger := make([]byte, len(out), len(out)+step)
			copy(bigger, out)
			out = bigger
		}
		var done bool
		var err error
		out, done, err = d.Fill(out)
		if err != nil {
			t.Fatalf("Fill: %v", err)
		}
		if done {
			return out
		}
	}
	t.Fatal("Fill never finished")
	return nil
}

// TestFillEqualsAppend: inflating piece by piece, with the output moved
// between pieces, gives what Append gives, with and without context
// takeover (whose history Fill takes from the end of the output), across
// messages, and for a message that restarts after a final block.
func TestFillEqualsAppend(t *testing.T) {
	for _, takeover := range []bool{false, true} {
		for _, step := range []int{1, 7, 4096} {
			t.Run(fmt.Sprintf("takeover=%v/step=%d", takeover, step), func(t *testing.T) {
				c := NewCompressor(6, 12, takeover)
				da := NewDecompressor(12, takeover)
				df := NewDecompressor(12, takeover)
				for i, m := range smallMessages(4) {
					out := c.Append(nil, m, true)
					want, err := da.Append(nil, out, -1)
					if err != nil || !bytes.Equal(want, m) {
						t.Fatalf("message %d: Append: %v", i, err)
					}
					if got := fillAll(t, df, out, step); !bytes.Equal(got, want) {
						t.Fatalf("message %d: Fill gave %d bytes, Append %d", i, len(got), len(want))
					}
				}
			})
		}
	}
	// RFC 7692 §7.2.3.2 (takeover) and a final block mid-message.
	first := []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}
	second := []byte{0xf2, 0x00, 0x11, 0x00, 0x00}
	d := NewDecompressor(15, true)
	for i, m := range [][]byte{first, second, second} {
		if got := fillAll(t, d, m, 2); string(got) != "Hello" {
			t.Fatalf("takeover message %d: %q", i, got)
		}
	}
	for _, v := range rfcVectors {
		if got := fillAll(t, NewDecompressor(15, false), v.msg, 3); string(got) != v.want {
			t.Errorf("%s: Fill = %q, want %q", v.name, got, v.want)
		}
	}
}

// TestFillCorrupt: invalid data is an error wrapping ErrCorrupt, and the
// message is over.
func TestFillCorrupt(t *testing.T) {
	d := NewDecompressor(15, false)
	d.Begin([]byte{0xff, 0xff, 0xff, 0xff})
	_, _, err := d.Fill(make([]byte, 0, 64))
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Fill: %v, want ErrCorrupt", err)
	}
	if _, done, err := d.Fill(make([]byte, 0, 64)); !done || err != nil {
		t.Errorf("Fill after the error: done %v, %v; want the message over", done, err)
	}
}
