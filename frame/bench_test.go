package frame

import (
	"fmt"
	"testing"
)

var benchSizes = []int{16, 125, 300, 1024, 64 << 10, 1 << 20}

// BenchmarkMask compares Mask with the byte-by-byte definition and with
// copy, the speed of memory itself.
func BenchmarkMask(b *testing.B) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	for _, n := range benchSizes {
		buf := make([]byte, n)
		src := make([]byte, n)
		b.Run(fmt.Sprintf("Mask/%d", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				Mask(key, 1, buf)
			}
		})
		b.Run(fmt.Sprintf("bytewise/%d", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				maskBytewise(key, 1, buf)
			}
		})
		b.Run(fmt.Sprintf("copy/%d", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				copy(buf, src)
			}
		})
	}
}

func BenchmarkParseHeader(b *testing.B) {
	for _, h := range []Header{
		{Fin: true, Opcode: OpText, Length: 16},
		{Fin: true, Opcode: OpBinary, Masked: true, Mask: rfcKey, Length: 1024},
		{Fin: true, Opcode: OpBinary, Masked: true, Mask: rfcKey, Length: 1 << 20},
	} {
		wire := AppendHeader(nil, h)
		b.Run(fmt.Sprintf("%dB", len(wire)), func(b *testing.B) {
			for b.Loop() {
				if _, _, err := ParseHeader(wire); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendHeader(b *testing.B) {
	buf := make([]byte, 0, MaxHeaderSize)
	for _, h := range []Header{
		{Fin: true, Opcode: OpText, Length: 16},
		{Fin: true, Opcode: OpBinary, Masked: true, Mask: rfcKey, Length: 1024},
		{Fin: true, Opcode: OpBinary, Masked: true, Mask: rfcKey, Length: 1 << 20},
	} {
		b.Run(fmt.Sprintf("%dB", h.Size()), func(b *testing.B) {
			for b.Loop() {
				buf = AppendHeader(buf[:0], h)
			}
		})
	}
}

// BenchmarkDecoder decodes a stream of masked frames as a server does: a
// 64 KiB buffer of back-to-back frames, headers and payloads, unmasked in
// place. Bytes per second count the whole stream.
func BenchmarkDecoder(b *testing.B) {
	for _, size := range []int{16, 1024} {
		frame := encodeFrame(Header{Fin: true, Opcode: OpBinary, Masked: true, Mask: rfcKey}, seq(size))
		var stream []byte
		for len(stream)+len(frame) <= 64<<10 {
			stream = append(stream, frame...)
		}
		frames := len(stream) / len(frame)
		buf := make([]byte, len(stream))
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			d := Decoder{ExpectMasked: true, MaxFrameSize: 1 << 20, MaxMessageSize: 1 << 20}
			b.SetBytes(int64(len(stream)))
			for b.Loop() {
				// Payload unmasks in place: start from a fresh copy (the
				// copy costs about 1% of the round).
				p := buf
				copy(p, stream)
				for range frames {
					n, done, err := d.ParseHeader(p)
					if err != nil || !done {
						b.Fatal(err)
					}
					p = p[n:]
					p = p[d.Payload(p):]
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*frames), "ns/frame")
		})
	}
}
