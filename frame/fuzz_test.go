package frame

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseHeader(f *testing.F) {
	for _, tt := range headerTests {
		h := tt.h
		f.Add(tt.wire, h.Fin, h.Rsv, uint8(h.Opcode), h.Masked, uint32(h.Mask[0])<<24|uint32(h.Mask[3]), h.Length)
	}
	f.Add([]byte{0x82, 0x7E, 0x00, 0x05}, false, uint8(0), uint8(0), false, uint32(0), int64(0)) // non-minimal
	f.Add([]byte{0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0}, true, uint8(7), uint8(0xF), true, ^uint32(0), int64(-1))
	f.Add([]byte{}, true, uint8(1), uint8(2), true, uint32(0x37fa213d), int64(65535))
	f.Add([]byte{0x82, 0x7F, 0x80, 0x00}, false, uint8(0), uint8(1), false, uint32(0), int64(1)) // bad length, short

	f.Fuzz(func(t *testing.T, b []byte, fin bool, rsv, op uint8, masked bool, key uint32, length int64) {
		// Property 1: bytes -> Header -> bytes -> the same Header.
		h, n, err := ParseHeader(b)
		switch {
		case err != nil:
			if codeOf(err) != 1002 || len(b) < 3 || b[1]&0x7F != 127 || b[2]&0x80 == 0 {
				t.Fatalf("ParseHeader(% x): unexpected error %v", b, err)
			}
		case n == 0:
			if len(b) >= MaxHeaderSize || h != (Header{}) {
				t.Fatalf("ParseHeader(% x) wants more bytes", b)
			}
		default:
			if n > len(b) || n < h.Size() || h.Length < 0 {
				t.Fatalf("ParseHeader(% x) = %+v, %d", b, h, n)
			}
			enc := AppendHeader(nil, h)
			if n == len(enc) && !bytes.Equal(enc, b[:n]) {
				t.Fatalf("minimal encoding % x re-encodes as % x", b[:n], enc)
			}
			h2, n2, err2 := ParseHeader(enc)
			if h2 != h || n2 != len(enc) || err2 != nil {
				t.Fatalf("round trip: %+v, %d, %v; want %+v", h2, n2, err2, h)
			}
			// Every proper prefix asks for more.
			if _, m, err := ParseHeader(b[:n-1]); m != 0 || err != nil {
				t.Fatalf("prefix of %d bytes: %d, %v", n-1, m, err)
			}
		}

		// Property 2: Header from the arguments -> bytes -> the same Header.
		in := Header{Fin: fin, Rsv: rsv & 7, Opcode: Opcode(op & 0xF), Masked: masked, Length: length & (1<<63 - 1)}
		if masked {
			in.Mask = [4]byte{byte(key >> 24), byte(key >> 16), byte(key >> 8), byte(key)}
		}
		enc := AppendHeader(nil, in)
		if len(enc) != in.Size() {
			t.Fatalf("%+v: encoded in %d bytes, Size %d", in, len(enc), in.Size())
		}
		out, n, err := ParseHeader(enc)
		if out != in || n != len(enc) || err != nil {
			t.Fatalf("%+v -> % x -> %+v, %d, %v", in, enc, out, n, err)
		}
	})
}

// fuzzChunks returns a chunker cycling through sizes 1 + s[i].
func fuzzChunks(s []byte) chunker {
	i := 0
	return func(rest int) int {
		if len(s) == 0 {
			return rest
		}
		c := 1 + int(s[i%len(s)])
		i++
		return min(c, rest)
	}
}

// decoderFromByte builds a Decoder configuration from one fuzz byte:
// bit 0 server role, bits 1-3 AllowedRsv, bits 4-5 MaxFrameSize, bits 6-7
// MaxMessageSize.
func decoderFromByte(c uint8) Decoder {
	limits := [4]int64{0, 1, 125, 300}
	return Decoder{
		ExpectMasked:   c&1 != 0,
		AllowedRsv:     c >> 1 & 7,
		MaxFrameSize:   limits[c>>4&3],
		MaxMessageSize: limits[c>>6&3],
	}
}

func FuzzDecoder(f *testing.F) {
	mk := func(h Header, p string) []byte { return encodeFrame(h, []byte(p)) }
	key := rfcKey
	seeds := []struct {
		cfg    uint8
		stream []byte
	}{
		{0, concat(text(false, "Hel"), ping("x"), cont(true, "lo"))},
		{1, concat(mk(Header{Fin: true, Opcode: OpText, Masked: true, Mask: key}, "Hello"), mk(Header{Fin: true, Opcode: OpClose, Masked: true, Mask: key}, "\x03\xe8"))},
		{1 | Rsv1<<1, concat(mk(Header{Rsv: Rsv1, Opcode: OpBinary, Masked: true, Mask: key}, "abc"), mk(Header{Fin: true, Opcode: OpContinuation, Masked: true, Mask: key}, "def"))},
		{2 << 4, concat(bin(true, string(seq(200))), bin(true, "x"))},
		{3 << 6, concat(text(false, string(seq(200))), cont(true, string(seq(200))))},
		{0, concat(cont(true, "x"))},
		{0, []byte{0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0}},
		{0, []byte{0x82, 0x7F, 0, 0, 0x01, 0, 0, 0, 0, 0, 1, 2, 3}},
	}
	for _, s := range seeds {
		f.Add(s.cfg, s.stream, []byte{0, 3, 1, 12})
	}

	f.Fuzz(func(t *testing.T, cfg uint8, stream, chunks []byte) {
		dw := decoderFromByte(cfg)
		want, werr := runDecoder(&dw, stream, whole)
		dc := decoderFromByte(cfg)
		got, gerr := runDecoder(&dc, stream, fuzzChunks(chunks))
		if gerr != werr {
			t.Fatalf("error %v in pieces, %v whole", gerr, werr)
		}
		if werr != nil && codeOf(werr) != 1002 && codeOf(werr) != 1009 {
			t.Fatalf("unexpected error %v", werr)
		}
		if len(got) != len(want) {
			t.Fatalf("%d frames in pieces, %d whole", len(got), len(want))
		}
		var msgLen int64
		for i := range want {
			if got[i].h != want[i].h || !bytes.Equal(got[i].payload, want[i].payload) {
				t.Fatalf("frame %d: %+v in pieces, %+v whole", i, got[i].h, want[i].h)
			}
			h := want[i].h
			// Accepted headers obey the rules and limits.
			allowed := uint8(0)
			if h.Opcode == OpText || h.Opcode == OpBinary {
				allowed = dw.AllowedRsv
			}
			if err := CheckHeader(h, dw.ExpectMasked, allowed); err != nil {
				t.Fatalf("frame %d accepted against the rules: %v", i, err)
			}
			if int64(len(want[i].payload)) > h.Length {
				t.Fatalf("frame %d: %d payload bytes for length %d", i, len(want[i].payload), h.Length)
			}
			if h.Opcode.IsData() {
				if dw.MaxFrameSize > 0 && h.Length > dw.MaxFrameSize {
					t.Fatalf("frame %d over MaxFrameSize", i)
				}
				if h.Opcode != OpContinuation {
					msgLen = 0
				}
				msgLen += h.Length
				if dw.MaxMessageSize > 0 && msgLen > dw.MaxMessageSize {
					t.Fatalf("frame %d over MaxMessageSize", i)
				}
			}
		}
		if dw.Remaining() != dc.Remaining() || dw.Partial() != dc.Partial() ||
			dw.inMessage != dc.inMessage || dw.MessageOpcode() != dc.MessageOpcode() {
			t.Fatalf("final states differ: %+v in pieces, %+v whole", dc, dw)
		}
	})
}

func FuzzClosePayload(f *testing.F) {
	f.Add([]byte{}, uint16(1000), "")
	f.Add([]byte{0x03}, uint16(1005), "ignored")
	f.Add([]byte{0x03, 0xE8, 'b', 'y', 'e'}, uint16(4000), "bye")
	f.Add([]byte{0x03, 0xEC}, uint16(1004), "x")
	f.Add([]byte{0x03, 0xE8, 0xFF}, uint16(3000), "é"+strings.Repeat("€", 50))
	f.Add(concat([]byte{0x13, 0x87}, []byte(strings.Repeat("😀", 30))), uint16(4999), strings.Repeat("a", 122)+"é")

	f.Fuzz(func(t *testing.T, p []byte, c uint16, r string) {
		// Parse, then append what was parsed: the same bytes come back.
		code, reason, err := ParseClosePayload(p)
		if err != nil {
			if k := codeOf(err); k != 1002 && k != 1007 {
				t.Fatalf("ParseClosePayload(% x): %v", p, err)
			}
		} else {
			enc := AppendClosePayload(nil, code, reason)
			if !bytes.Equal(enc, p) {
				t.Fatalf("% x parsed as %v %q, appends as % x", p, code, reason, enc)
			}
			code2, reason2, err2 := ParseClosePayload(enc)
			if code2 != code || reason2 != reason || err2 != nil {
				t.Fatalf("reparse: %v %q %v", code2, reason2, err2)
			}
		}

		// Append from the arguments: at most 125 bytes, a prefix of the
		// reason cut at a rune boundary, parsing back when valid.
		enc := AppendClosePayload(nil, StatusCode(c), r)
		if len(enc) > MaxControlPayload {
			t.Fatalf("AppendClosePayload(%d, %q): %d bytes", c, r, len(enc))
		}
		if c == 0 || StatusCode(c) == StatusNoStatusReceived {
			if len(enc) != 0 {
				t.Fatalf("no-status payload % x", enc)
			}
			return
		}
		if len(enc) < 2 || !strings.HasPrefix(r, string(enc[2:])) {
			t.Fatalf("AppendClosePayload(%d, %q) = % x", c, r, enc)
		}
		if utf8.ValidString(r) {
			if !utf8.Valid(enc[2:]) {
				t.Fatalf("reason cut inside a rune: % x", enc)
			}
			if StatusCode(c).ValidOnWire() {
				code, reason, err := ParseClosePayload(enc)
				if err != nil || code != StatusCode(c) || reason != string(enc[2:]) {
					t.Fatalf("parse back: %v %q %v", code, reason, err)
				}
			}
		}
	})
}
