package frame

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

// Legend for the wire bytes in this package's tests:
//
//	byte 0: 0x80 FIN, 0x40 RSV1, 0x20 RSV2, 0x10 RSV3, low nibble opcode
//	        (0x0 cont, 0x1 text, 0x2 binary, 0x8 close, 0x9 ping, 0xA pong)
//	byte 1: 0x80 MASK, low 7 bits length (126: 16-bit length follows,
//	        127: 64-bit length follows)
//	then the extended length (big endian), then the 4-byte masking key,
//	then the payload.

// rfcKey is the masking key of the examples in RFC 6455 §5.7.
var rfcKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// concat joins byte slices, for building wire streams.
func concat(parts ...[]byte) []byte { return slices.Concat(parts...) }

// seq returns n bytes 0, 1, 2, ... (mod 256), a payload whose every byte
// tells where it belongs.
func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// encodeFrame returns the wire form of a frame: h with Length set from
// payload, followed by payload, masked when h.Masked.
func encodeFrame(h Header, payload []byte) []byte {
	h.Length = int64(len(payload))
	b := AppendHeader(nil, h)
	start := len(b)
	b = append(b, payload...)
	if h.Masked {
		Mask(h.Mask, 0, b[start:])
	}
	return b
}

// The examples of RFC 6455 §5.7, byte for byte, decoded by ParseHeader and
// by a Decoder, and re-encoded by AppendHeader.
func TestRFCExamples(t *testing.T) {
	hello := []byte("Hello")
	tests := []struct {
		name     string
		role     bool // Decoder.ExpectMasked
		wire     []byte
		headers  []Header
		payloads [][]byte
	}{
		{
			name: "single-frame unmasked text",
			wire: []byte{
				0x81, 0x05, // FIN text, unmasked, length 5
				0x48, 0x65, 0x6c, 0x6c, 0x6f, // "Hello"
			},
			headers:  []Header{{Fin: true, Opcode: OpText, Length: 5}},
			payloads: [][]byte{hello},
		},
		{
			name: "single-frame masked text",
			role: true,
			wire: []byte{
				0x81, 0x85, // FIN text, masked, length 5
				0x37, 0xfa, 0x21, 0x3d, // masking key
				0x7f, 0x9f, 0x4d, 0x51, 0x58, // "Hello" masked
			},
			headers:  []Header{{Fin: true, Opcode: OpText, Masked: true, Mask: rfcKey, Length: 5}},
			payloads: [][]byte{hello},
		},
		{
			name: "fragmented unmasked text",
			wire: []byte{
				0x01, 0x03, // text, not final, length 3
				0x48, 0x65, 0x6c, // "Hel"
				0x80, 0x02, // FIN continuation, length 2
				0x6c, 0x6f, // "lo"
			},
			headers: []Header{
				{Opcode: OpText, Length: 3},
				{Fin: true, Opcode: OpContinuation, Length: 2},
			},
			payloads: [][]byte{[]byte("Hel"), []byte("lo")},
		},
		{
			name: "unmasked ping",
			wire: []byte{
				0x89, 0x05, // FIN ping, length 5
				0x48, 0x65, 0x6c, 0x6c, 0x6f, // "Hello"
			},
			headers:  []Header{{Fin: true, Opcode: OpPing, Length: 5}},
			payloads: [][]byte{hello},
		},
		{
			name: "masked pong",
			role: true,
			wire: []byte{
				0x8a, 0x85, // FIN pong, masked, length 5
				0x37, 0xfa, 0x21, 0x3d, // masking key
				0x7f, 0x9f, 0x4d, 0x51, 0x58, // "Hello" masked
			},
			headers:  []Header{{Fin: true, Opcode: OpPong, Masked: true, Mask: rfcKey, Length: 5}},
			payloads: [][]byte{hello},
		},
		{
			name: "256 bytes binary in a single unmasked frame",
			wire: concat([]byte{
				0x82, 0x7e, // FIN binary, 16-bit length follows
				0x01, 0x00, // 256
			}, seq(256)),
			headers:  []Header{{Fin: true, Opcode: OpBinary, Length: 256}},
			payloads: [][]byte{seq(256)},
		},
		{
			name: "64KiB binary in a single unmasked frame",
			wire: concat([]byte{
				0x82, 0x7f, // FIN binary, 64-bit length follows
				0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, // 65536
			}, seq(65536)),
			headers:  []Header{{Fin: true, Opcode: OpBinary, Length: 65536}},
			payloads: [][]byte{seq(65536)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Encoding: headers then payloads, masked as the header says.
			var enc []byte
			for i, h := range tt.headers {
				enc = append(enc, encodeFrame(h, tt.payloads[i])...)
			}
			if !bytes.Equal(enc, tt.wire) {
				t.Errorf("encoded\n% x\nwant\n% x", head(enc), head(tt.wire))
			}

			// Decoding with ParseHeader.
			rest := tt.wire
			for i, want := range tt.headers {
				h, n, err := ParseHeader(rest)
				if err != nil || n != want.Size() || h != want {
					t.Fatalf("frame %d: ParseHeader = %+v, %d, %v; want %+v, %d, nil", i, h, n, err, want, want.Size())
				}
				rest = rest[n+int(h.Length):]
			}
			if len(rest) != 0 {
				t.Errorf("%d bytes left over", len(rest))
			}

			// Decoding with a Decoder.
			d := Decoder{ExpectMasked: tt.role}
			got, err := runDecoder(&d, tt.wire, whole)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.headers) {
				t.Fatalf("decoded %d frames, want %d", len(got), len(tt.headers))
			}
			for i, f := range got {
				if f.h != tt.headers[i] || !bytes.Equal(f.payload, tt.payloads[i]) {
					t.Errorf("frame %d: %+v % x; want %+v % x", i, f.h, head(f.payload), tt.headers[i], head(tt.payloads[i]))
				}
			}
		})
	}
}

// head shortens long byte slices in failure messages.
func head(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}

func TestProtocolError(t *testing.T) {
	var err error = &ProtocolError{Code: StatusProtocolError, Reason: "reserved opcode"}
	if got, want := err.Error(), "websocket: protocol error: reserved opcode (close 1002)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var pe *ProtocolError
	if !errors.As(error(errFrameTooBig), &pe) || pe.Code != StatusMessageTooBig {
		t.Errorf("errors.As(errFrameTooBig) = %v", pe)
	}
}

// codeOf returns the close code of a *ProtocolError, 0 for nil and -1 for
// any other error.
func codeOf(err error) int {
	if err == nil {
		return 0
	}
	var pe *ProtocolError
	if errors.As(err, &pe) {
		return int(pe.Code)
	}
	return -1
}
