package deflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"testing"
)

// Benchmarks compare the Compressor with compress/flate at the same level
// on the same messages, each compressed on its own (no context takeover:
// the flate.Writer is Reset per message) and ended with a sync flush, as
// permessage-deflate does. "ratio" is input bytes per output byte (higher
// is better), the 4-byte sync tail not counted for either.
//
//	go test -run '^$' -bench . -benchmem ./internal/deflate

type benchPayload struct {
	name string
	data []byte
}

var benchPayloads = []benchPayload{
	{"json-2K", jsonPayload(1, 2<<10)},
	{"json-64K", jsonPayload(2, 64<<10)},
	{"html-16K", htmlPayload(3, 16<<10)},
	{"binary-random-64K", randomPayload(4, 64<<10)},
	{"binary-records-64K", binaryPayload(5, 64<<10)},
}

func BenchmarkCompress(b *testing.B) {
	for _, p := range benchPayloads {
		for _, level := range []int{1, 6, 9} {
			b.Run(fmt.Sprintf("%s/level%d/ours", p.name, level), func(b *testing.B) {
				c := NewCompressor(level, 15, false)
				dst := make([]byte, 0, len(p.data)+1024)
				b.SetBytes(int64(len(p.data)))
				b.ReportAllocs()
				for b.Loop() {
					dst = c.Append(dst[:0], p.data, true)
				}
				b.ReportMetric(float64(len(p.data))/float64(len(dst)), "ratio")
			})
			b.Run(fmt.Sprintf("%s/level%d/flate", p.name, level), func(b *testing.B) {
				var buf bytes.Buffer
				w, _ := flate.NewWriter(&buf, level)
				b.SetBytes(int64(len(p.data)))
				b.ReportAllocs()
				for b.Loop() {
					buf.Reset()
					w.Reset(&buf)
					w.Write(p.data)
					w.Flush()
				}
				b.ReportMetric(float64(len(p.data))/float64(buf.Len()-4), "ratio")
			})
		}
	}
}

// BenchmarkCompressTakeover compresses a stream of 2 KiB JSON messages
// with context takeover, where later messages refer to earlier ones.
func BenchmarkCompressTakeover(b *testing.B) {
	msgs := make([][]byte, 64)
	for i := range msgs {
		msgs[i] = jsonPayload(uint64(i), 2<<10)
	}
	for _, level := range []int{1, 6, 9} {
		for _, wbits := range []int{10, 15} {
			b.Run(fmt.Sprintf("level%d/window%d/ours", level, wbits), func(b *testing.B) {
				c := NewCompressor(level, wbits, true)
				dst := make([]byte, 0, 4<<10)
				b.SetBytes(2 << 10)
				b.ReportAllocs()
				in, out, i := 0, 0, 0
				for b.Loop() {
					m := msgs[i%len(msgs)]
					i++
					dst = c.Append(dst[:0], m, true)
					in += len(m)
					out += len(dst)
				}
				b.ReportMetric(float64(in)/float64(out), "ratio")
			})
		}
		b.Run(fmt.Sprintf("level%d/window15/flate", level), func(b *testing.B) {
			var buf bytes.Buffer
			w, _ := flate.NewWriter(&buf, level)
			b.SetBytes(2 << 10)
			b.ReportAllocs()
			in, out, i := 0, 0, 0
			for b.Loop() {
				m := msgs[i%len(msgs)]
				i++
				buf.Reset()
				w.Write(m)
				w.Flush()
				in += len(m)
				out += buf.Len() - 4
			}
			b.ReportMetric(float64(in)/float64(out), "ratio")
		})
	}
}

func BenchmarkDecompress(b *testing.B) {
	for _, p := range benchPayloads {
		if p.name == "binary-random-64K" {
			continue // stored blocks: a copy
		}
		msg := NewCompressor(6, 15, false).Append(nil, p.data, true)
		b.Run(p.name+"/ours", func(b *testing.B) {
			d := NewDecompressor(15, false)
			dst := make([]byte, 0, len(p.data))
			b.SetBytes(int64(len(p.data)))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if dst, err = d.Append(dst[:0], msg, -1); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(p.name+"/ours-takeover", func(b *testing.B) {
			// A stream of distinct messages of this kind, each one able
			// to refer to the ones before.
			const n = 16
			c := NewCompressor(6, 15, true)
			var stream [][]byte
			size := 0
			for i := range n {
				m := benchVariant(p, i)
				stream = append(stream, c.Append(nil, m, true))
				size += len(m)
			}
			d := NewDecompressor(15, true)
			dst := make([]byte, 0, len(p.data)+1024)
			b.SetBytes(int64(size / n))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if i == n {
					b.StopTimer()
					d = NewDecompressor(15, true) // the stream starts over
					i = 0
					b.StartTimer()
				}
				var err error
				if dst, err = d.Append(dst[:0], stream[i], -1); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run(p.name+"/flate", func(b *testing.B) {
			in := append(append([]byte(nil), msg...), 0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff)
			br := bytes.NewReader(in)
			fr := flate.NewReader(br)
			dst := make([]byte, len(p.data))
			b.SetBytes(int64(len(p.data)))
			b.ReportAllocs()
			for b.Loop() {
				br.Reset(in)
				fr.(flate.Resetter).Reset(br, nil)
				if _, err := io.ReadFull(fr, dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchVariant returns the i-th of a series of payloads like p.
func benchVariant(p benchPayload, i int) []byte {
	seed := uint64(100 + i)
	switch p.name {
	case "json-2K", "json-64K":
		return jsonPayload(seed, len(p.data))
	case "html-16K":
		return htmlPayload(seed, len(p.data))
	case "binary-records-64K":
		return binaryPayload(seed, len(p.data))
	}
	return randomPayload(seed, len(p.data))
}
