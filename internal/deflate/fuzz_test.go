package deflate

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzCompress compresses arbitrary bytes as up to three messages, each cut
// into Append calls at arbitrary points, and checks every message three
// ways: the strict window checker (no distance beyond the window or the
// history), compress/flate, and the Decompressor.
func FuzzCompress(f *testing.F) {
	f.Add([]byte("Hello"), uint8(0), uint8(7), true, uint64(0))
	f.Add(jsonPayload(1, 3000), uint8(5), uint8(0), true, uint64(1))
	f.Add(htmlPayload(2, 2000), uint8(8), uint8(2), false, uint64(2))
	f.Add(mixedPayload(3, 5000), uint8(3), uint8(1), true, uint64(3))
	f.Add(runPayload('a', 1000), uint8(1), uint8(0), false, uint64(4))
	f.Add([]byte{}, uint8(0), uint8(0), false, uint64(5))
	f.Fuzz(fuzzCompress)
}

func fuzzCompress(t *testing.T, data []byte, level, wbits uint8, takeover bool, seed uint64) {
	{
		lv, wb := 1+int(level%9), MinWindowBits+int(wbits%8)
		r := newRand(seed)
		var msgs [][]byte
		for rest := data; ; {
			if len(msgs) == 2 || len(rest) == 0 {
				msgs = append(msgs, rest)
				break
			}
			n := r.IntN(len(rest) + 1)
			msgs = append(msgs, rest[:n])
			rest = rest[n:]
		}
		c := NewCompressor(lv, wb, takeover)
		k := newWindowChecker(wb, takeover)
		d := NewDecompressor(wb, takeover)
		var all []byte
		for i, msg := range msgs {
			out := compressSplit(c, nil, msg, randomCuts(r, len(msg), 5))
			got, err := k.message(out)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("level %d window %d takeover %v message %d: checker: %v", lv, wb, takeover, i, err)
			}
			var dict []byte
			if takeover {
				dict = all[max(len(all)-32<<10, 0):]
			}
			if got, err = flateMessage(out, dict); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("level %d window %d takeover %v message %d: compress/flate: %v", lv, wb, takeover, i, err)
			}
			if got, err = d.Append(nil, out, int64(len(msg))); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("level %d window %d takeover %v message %d: Decompressor: %v", lv, wb, takeover, i, err)
			}
			all = append(all, msg...)
		}
	}
}

// FuzzDecompress feeds arbitrary bytes to the Decompressor as two
// messages: it must not panic, must respect the limit, and reading the
// stream must give what Append gives.
func FuzzDecompress(f *testing.F) {
	for _, v := range rfcVectors {
		f.Add(v.msg, uint8(0), true, uint16(100), uint16(0))
	}
	c := NewCompressor(6, 10, true)
	a := c.Append(nil, jsonPayload(1, 2000), true)
	b := c.Append(nil, jsonPayload(1, 1000), true)
	f.Add(append(append([]byte(nil), a...), b...), uint8(2), true, uint16(1500), uint16(len(a)))
	f.Add(NewCompressor(1, 15, false).Append(nil, runPayload(0, 50000), true), uint8(7), false, uint16(1000), uint16(0))
	f.Add([]byte{0x07, 0x00}, uint8(7), false, uint16(10), uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, wbits uint8, takeover bool, limit uint16, cut uint16) {
		wb := MinWindowBits + int(wbits%8)
		k := min(int(cut), len(data))
		msgs := [][]byte{data[:k], data[k:]}
		whole := NewDecompressor(wb, takeover)
		limited := NewDecompressor(wb, takeover)
		stream := NewDecompressor(wb, takeover)
		for i, m := range msgs {
			want, err := whole.Append(nil, m, -1)
			if err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("message %d: error %v does not wrap ErrCorrupt", i, err)
			}
			got, lerr := limited.Append(nil, m, int64(limit))
			switch {
			case lerr == nil && (err != nil || !bytes.Equal(got, want)):
				t.Fatalf("message %d: with limit %d: %d bytes, nil; without: %d bytes, %v", i, limit, len(got), len(want), err)
			case lerr == nil && len(got) > int(limit):
				t.Fatalf("message %d: %d bytes past the limit %d", i, len(got), limit)
			case lerr == ErrTooLarge && err == nil && len(want) <= int(limit):
				t.Fatalf("message %d: ErrTooLarge for %d bytes with limit %d", i, len(want), limit)
			case lerr != nil && lerr != ErrTooLarge && (err == nil || !errors.Is(lerr, ErrCorrupt)):
				t.Fatalf("message %d: with limit: %v; without: %v", i, lerr, err)
			}
			stream.Start(bytes.NewReader(m))
			sgot, serr := io.ReadAll(stream)
			if (err == nil) != (serr == nil) || (err == nil && !bytes.Equal(sgot, want)) {
				t.Fatalf("message %d: Read: %d bytes, %v; Append: %d bytes, %v", i, len(sgot), serr, len(want), err)
			}
			if err != nil {
				// After an error the history is gone; so is the
				// connection. Stop comparing.
				return
			}
			if lerr != nil {
				limited = NewDecompressor(wb, takeover)
				limited.Append(nil, msgs[0], -1) // catch up
			}
		}
	})
}
