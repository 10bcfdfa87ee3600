package conformance

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// Wire legend: byte 0 = FIN(0x80) | RSV1(0x40) RSV2(0x20) RSV3(0x10) | opcode;
// byte 1 = MASK(0x80) | 7-bit length (126: 16-bit length follows, 127: 64-bit);
// then the 4-byte mask key when masked, then the payload.
func TestFrameWire(t *testing.T) {
	tests := []struct {
		name string
		f    frame
		wire string // hex
	}{
		{"empty text", frame{Fin: true, Opcode: OpText, Payload: []byte{}}, "81" + "00"},
		{"unmasked Hello (RFC 6455 §5.7)", frame{Fin: true, Opcode: OpText, Payload: []byte("Hello")}, "81" + "05" + "48656c6c6f"},
		{"masked Hello (RFC 6455 §5.7)", frame{Fin: true, Opcode: OpText, Masked: true, MaskKey: [4]byte{0x37, 0xfa, 0x21, 0x3d}, Payload: []byte("Hello")},
			"81" + "85" + "37fa213d" + "7f9f4d5158"},
		{"first fragment, RSV1+RSV3", frame{RSV: 5, Opcode: OpText, Payload: []byte("a")}, "51" + "01" + "61"},
		{"reserved opcode 0xB", frame{Fin: true, Opcode: 0xB, Payload: []byte{}}, "8b" + "00"},
		{"126 bytes: 16-bit length", frame{Fin: true, Opcode: OpBinary, Payload: bytes.Repeat([]byte{0xfe}, 126)},
			"82" + "7e" + "007e" + strings.Repeat("fe", 126)},
		{"65536 bytes: 64-bit length", frame{Fin: true, Opcode: OpBinary, Payload: bytes.Repeat([]byte{0}, 65536)},
			"82" + "7f" + "0000000000010000" + strings.Repeat("00", 65536)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := appendFrame(nil, &tt.f)
			if hex.EncodeToString(got) != tt.wire {
				t.Fatalf("encode: got %x, want %s", got[:min(len(got), 32)], tt.wire[:min(len(tt.wire), 64)])
			}
			back, err := readFrame(bytes.NewReader(got), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if back.Fin != tt.f.Fin || back.RSV != tt.f.RSV || back.Opcode != tt.f.Opcode || back.Masked != tt.f.Masked ||
				back.MaskKey != tt.f.MaskKey || !bytes.Equal(back.Payload, tt.f.Payload) {
				t.Fatalf("decode: got %+v", back)
			}
		})
	}
}

func TestReadFrameRejects(t *testing.T) {
	tests := []struct {
		name string
		wire string
		want error
	}{
		{"16-bit length below 126", "81" + "7e" + "007d", errNonMinimalLength},
		{"64-bit length below 65536", "81" + "7f" + "000000000000ffff", errNonMinimalLength},
		{"64-bit length with top bit", "81" + "7f" + "8000000000000000", errNonMinimalLength},
		{"declared length above the limit, nothing sent", "82" + "7f" + "0000000100000000", errFrameTooLarge},
		{"truncated payload", "81" + "05" + "4865", io.ErrUnexpectedEOF},
		{"truncated mask key", "81" + "85" + "37fa", io.ErrUnexpectedEOF},
		{"nothing", "", io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := hex.DecodeString(tt.wire)
			_, err := readFrame(bytes.NewReader(b), 1<<20)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestMaskInPieces(t *testing.T) {
	key := [4]byte{1, 2, 3, 4}
	whole := []byte("the quick brown fox")
	pieces := append([]byte(nil), whole...)
	maskBytes(key, 0, whole)
	pos := 0
	for _, cut := range [][2]int{{0, 3}, {3, 4}, {4, 11}, {11, 19}} {
		pos = maskBytes(key, pos, pieces[cut[0]:cut[1]])
	}
	if !bytes.Equal(whole, pieces) {
		t.Fatalf("masking in pieces differs: %x vs %x", pieces, whole)
	}
}

func TestAcceptKey(t *testing.T) {
	// The example of RFC 6455 §1.3.
	if got := acceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("got %s", got)
	}
}

func TestUTF8Incremental(t *testing.T) {
	tests := []struct {
		pieces []string
		okAt   int // index of the first piece that makes the prefix invalid, or -1
	}{
		{[]string{kosme}, -1},
		{[]string{kosme, "\xf4\x90\x80\x80", "edited"}, 1}, // 6.4.1: fails on the 2nd part
		{[]string{kosme + "\xf4", "\x90", "\x80\x80edited"}, 1},
		{[]string{"\xce", "\xba", "\xe1\xbd", "\xb9"}, -1},
		{[]string{"\xed", "\xa0\x80"}, 1}, // surrogate
		{[]string{"a", "\x80"}, 1},
		{[]string{"\xf0\x9f", "\x98\x80", "\xc0"}, 2}, // \xc0 can never start a sequence
	}
	for _, tt := range tests {
		var b []byte
		checked := 0
		failedAt := -1
		for i, p := range tt.pieces {
			b = append(b, p...)
			var ok bool
			if checked, ok = utf8From(b, checked); !ok {
				failedAt = i
				break
			}
		}
		if failedAt != tt.okAt {
			t.Errorf("%q: failed at piece %d, want %d", tt.pieces, failedAt, tt.okAt)
		}
	}
}

// FuzzReadFrame: whatever decodes re-encodes to the same bytes (the decoder
// accepts only minimal lengths, so the encoding is unique), and the decoder
// never reads past the frame.
func FuzzReadFrame(f *testing.F) {
	for _, fr := range []frame{
		{Fin: true, Opcode: OpText, Payload: []byte("Hello")},
		{Fin: true, Opcode: OpText, Masked: true, MaskKey: [4]byte{0x37, 0xfa, 0x21, 0x3d}, Payload: []byte("Hello")},
		{RSV: 7, Opcode: 0xF, Payload: bytes.Repeat([]byte{1}, 200)},
		{Fin: true, Opcode: OpClose, Payload: encodeClose(1000, []byte("bye"))},
	} {
		f.Add(appendFrame(nil, &fr))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		src := bytes.NewReader(b)
		r := bufio.NewReader(src)
		fr, err := readFrame(r, 1<<16)
		if err != nil {
			return
		}
		// What was consumed: neither buffered in r nor still unread in src
		// (inputs longer than r's buffer leave bytes in src).
		used := len(b) - r.Buffered() - src.Len()
		again := appendFrame(nil, fr)
		if !bytes.Equal(again, b[:used]) {
			t.Fatalf("re-encoding differs:\n in  %x\n out %x", b[:used], again)
		}
	})
}

// FuzzUTF8From: incremental validation over any split agrees with
// utf8.Valid on the whole (the prefix test being exact for completed input).
func FuzzUTF8From(f *testing.F) {
	f.Add([]byte(kosme), uint8(3))
	f.Add([]byte(kosme+"\xed\xa0\x80edited"), uint8(1))
	f.Add([]byte("\xf4\x8f\xbf\xbf\xf4\x90"), uint8(5))
	f.Fuzz(func(t *testing.T, b []byte, step uint8) {
		n := int(step%7) + 1
		checked, ok := 0, true
		for end := 0; end < len(b) && ok; {
			end = min(end+n, len(b))
			checked, ok = utf8From(b[:end], checked)
		}
		if !ok && utf8.Valid(b) {
			t.Fatalf("%x: incremental rejected valid UTF-8", b)
		}
		if ok && checked == len(b) && !utf8.Valid(b) {
			t.Fatalf("%x: incremental accepted invalid UTF-8", b)
		}
		if ok && checked < len(b) && (utf8.Valid(b) || !utf8.Valid(b[:checked])) {
			t.Fatalf("%x: stopped at %d, which is not the start of an unfinished sequence", b, checked)
		}
	})
}
