package frame

import (
	"bytes"
	"testing"
)

// RSV2 and RSV3 as they appear in Header.Rsv. No extension uses them, so
// the package does not name them; the tests need them to check that they are
// encoded and rejected.
const (
	rsv2 uint8 = 0x2
	rsv3 uint8 = 0x1
)

// Header encodings at every length boundary, with and without mask and
// flags. Bytes follow the legend in frame_test.go.
var headerTests = []struct {
	name string
	wire []byte
	h    Header
}{
	{"empty text", []byte{0x81, 0x00}, Header{Fin: true, Opcode: OpText}},
	{"not final continuation", []byte{0x00, 0x00}, Header{Opcode: OpContinuation}},
	{"all RSV bits", []byte{0xF2, 0x01}, Header{Fin: true, Rsv: Rsv1 | rsv2 | rsv3, Opcode: OpBinary, Length: 1}},
	{"RSV1", []byte{0x41, 0x01}, Header{Rsv: Rsv1, Opcode: OpText, Length: 1}},
	{"RSV2", []byte{0x21, 0x01}, Header{Rsv: rsv2, Opcode: OpText, Length: 1}},
	{"RSV3", []byte{0x11, 0x01}, Header{Rsv: rsv3, Opcode: OpText, Length: 1}},
	{"reserved opcode", []byte{0x8B, 0x00}, Header{Fin: true, Opcode: 0xB}},
	{"7-bit max 125", []byte{0x82, 0x7D}, Header{Fin: true, Opcode: OpBinary, Length: 125}},
	{"16-bit min 126", []byte{0x82, 0x7E, 0x00, 0x7E}, Header{Fin: true, Opcode: OpBinary, Length: 126}},
	{"16-bit max 65535", []byte{0x82, 0x7E, 0xFF, 0xFF}, Header{Fin: true, Opcode: OpBinary, Length: 65535}},
	{"64-bit min 65536", []byte{0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}, Header{Fin: true, Opcode: OpBinary, Length: 65536}},
	{"64-bit max 1<<63-1", []byte{0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, Header{Fin: true, Opcode: OpBinary, Length: 1<<63 - 1}},
	{"masked 7-bit", []byte{0x89, 0x80 | 0x7D, 0x37, 0xfa, 0x21, 0x3d}, Header{Fin: true, Opcode: OpPing, Masked: true, Mask: rfcKey, Length: 125}},
	{"masked 16-bit", []byte{0x82, 0x80 | 0x7E, 0x00, 0x7E, 1, 2, 3, 4}, Header{Fin: true, Opcode: OpBinary, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Length: 126}},
	{"masked 64-bit", []byte{0x02, 0x80 | 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00, 1, 2, 3, 4}, Header{Opcode: OpBinary, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Length: 65536}},
	{"masked zero key", []byte{0x81, 0x80, 0, 0, 0, 0}, Header{Fin: true, Opcode: OpText, Masked: true}},
}

func TestHeaderEncoding(t *testing.T) {
	for _, tt := range headerTests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.h.Size(); got != len(tt.wire) {
				t.Errorf("Size() = %d, want %d", got, len(tt.wire))
			}
			prefix := []byte{0xEE}
			if got := AppendHeader(prefix, tt.h); !bytes.Equal(got, concat(prefix, tt.wire)) {
				t.Errorf("AppendHeader = % x, want ee % x", got, tt.wire)
			}
			var b [MaxHeaderSize]byte
			if n := putHeader(b[:], tt.h); n != len(tt.wire) || !bytes.Equal(b[:n], tt.wire) {
				t.Errorf("putHeader = %d, % x; want % x", n, b[:n], tt.wire)
			}
			if n := putHeader(b[:tt.h.Size()], tt.h); n != len(tt.wire) {
				t.Errorf("putHeader into an exact buffer = %d", n)
			}

			// Trailing bytes are left alone.
			h, n, err := ParseHeader(concat(tt.wire, []byte{0xAB, 0xCD}))
			if h != tt.h || n != len(tt.wire) || err != nil {
				t.Errorf("ParseHeader = %+v, %d, %v; want %+v, %d, nil", h, n, err, tt.h, len(tt.wire))
			}
			// Every proper prefix asks for more bytes.
			for i := range len(tt.wire) {
				if h, n, err := ParseHeader(tt.wire[:i]); n != 0 || err != nil || h != (Header{}) {
					t.Errorf("ParseHeader(first %d bytes) = %+v, %d, %v; want need more", i, h, n, err)
				}
			}
		})
	}
}

// Lengths in a longer form than needed decode to the same length.
func TestParseHeaderNonMinimal(t *testing.T) {
	tests := []struct {
		name string
		wire []byte
		len  int64
	}{
		{"0 in 16 bits", []byte{0x82, 0x7E, 0x00, 0x00}, 0},
		{"125 in 16 bits", []byte{0x82, 0x7E, 0x00, 0x7D}, 125},
		{"5 in 64 bits", []byte{0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0, 0x05}, 5},
		{"65535 in 64 bits", []byte{0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF}, 65535},
	}
	for _, tt := range tests {
		h, n, err := ParseHeader(tt.wire)
		if err != nil || n != len(tt.wire) || h.Length != tt.len {
			t.Errorf("%s: %+v, %d, %v", tt.name, h, n, err)
		}
	}
}

func TestParseHeaderLengthTopBit(t *testing.T) {
	wire := []byte{0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0} // 64-bit length 1<<63
	// Reported as soon as the byte holding the bit arrives.
	for i := 3; i <= len(wire); i++ {
		if _, n, err := ParseHeader(wire[:i]); codeOf(err) != 1002 || n != 0 {
			t.Errorf("first %d bytes: n %d, err %v; want 1002", i, n, err)
		}
	}
	if _, _, err := ParseHeader([]byte{0x82, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}); codeOf(err) != 1002 {
		t.Errorf("all ones: %v, want 1002", err)
	}
}

func TestAppendHeaderMasksFields(t *testing.T) {
	// Out-of-range Rsv and Opcode bits do not leak into other fields.
	h := Header{Rsv: 0xFF, Opcode: 0xF1}
	got := AppendHeader(nil, h)
	if want := []byte{0x71, 0x00}; !bytes.Equal(got, want) {
		t.Errorf("AppendHeader = % x, want % x", got, want)
	}
	defer func() {
		if recover() == nil {
			t.Error("AppendHeader with a negative length did not panic")
		}
	}()
	AppendHeader(nil, Header{Length: -1})
}

func TestCheckHeader(t *testing.T) {
	const server, client = true, false
	masked := func(h Header) Header { h.Masked = true; return h }
	tests := []struct {
		name    string
		h       Header
		role    bool // expectMasked
		allowed uint8
		want    error
	}{
		{"text to client", Header{Fin: true, Opcode: OpText, Length: 10}, client, 0, nil},
		{"text to server", masked(Header{Fin: true, Opcode: OpText, Length: 10}), server, 0, nil},
		{"huge binary", Header{Opcode: OpBinary, Length: 1<<63 - 1}, client, 0, nil},
		{"continuation", Header{Opcode: OpContinuation}, client, 0, nil},
		{"close 125", Header{Fin: true, Opcode: OpClose, Length: 125}, client, 0, nil},
		{"ping", Header{Fin: true, Opcode: OpPing}, client, 0, nil},
		{"pong", masked(Header{Fin: true, Opcode: OpPong}), server, 0, nil},

		{"opcode 0x3", Header{Fin: true, Opcode: 0x3}, client, 0, errReservedOpcode},
		{"opcode 0x7", Header{Fin: true, Opcode: 0x7}, client, 0, errReservedOpcode},
		{"opcode 0xB", Header{Fin: true, Opcode: 0xB}, client, 0, errReservedOpcode},
		{"opcode 0xF", Header{Fin: true, Opcode: 0xF}, client, 0, errReservedOpcode},
		{"opcode 0x10", Header{Fin: true, Opcode: 0x10}, client, 0, errReservedOpcode},
		{"negative length", Header{Fin: true, Opcode: OpText, Length: -1}, client, 0, errNegativeLength},

		{"RSV1 text, none allowed", Header{Fin: true, Rsv: Rsv1, Opcode: OpText}, client, 0, errDataRsv},
		{"RSV1 text, RSV1 allowed", Header{Fin: true, Rsv: Rsv1, Opcode: OpText}, client, Rsv1, nil},
		{"RSV1|RSV2 text, RSV1 allowed", Header{Fin: true, Rsv: Rsv1 | rsv2, Opcode: OpText}, client, Rsv1, errDataRsv},
		{"RSV3 binary, RSV3 allowed", Header{Fin: true, Rsv: rsv3, Opcode: OpBinary}, client, rsv3, nil},
		{"RSV1 continuation, none allowed", Header{Rsv: Rsv1, Opcode: OpContinuation}, client, 0, errContinuationRsv},
		{"RSV1 ping, RSV1 allowed", Header{Fin: true, Rsv: Rsv1, Opcode: OpPing}, client, Rsv1, errControlRsv},
		{"RSV3 close", Header{Fin: true, Rsv: rsv3, Opcode: OpClose}, client, Rsv1 | rsv2 | rsv3, errControlRsv},

		{"fragmented ping", Header{Opcode: OpPing}, client, 0, errControlFragmented},
		{"fragmented close", Header{Opcode: OpClose}, client, 0, errControlFragmented},
		{"pong 126", Header{Fin: true, Opcode: OpPong, Length: 126}, client, 0, errControlTooLong},
		{"close 1<<40", Header{Fin: true, Opcode: OpClose, Length: 1 << 40}, client, 0, errControlTooLong},

		{"unmasked to server", Header{Fin: true, Opcode: OpText}, server, 0, errUnmaskedClient},
		{"masked to client", masked(Header{Fin: true, Opcode: OpText}), client, 0, errMaskedServer},
		{"unmasked ping to server", Header{Fin: true, Opcode: OpPing}, server, 0, errUnmaskedClient},
	}
	for _, tt := range tests {
		err := CheckHeader(tt.h, tt.role, tt.allowed)
		if err != tt.want {
			t.Errorf("%s: CheckHeader = %v, want %v", tt.name, err, tt.want)
		}
		if err != nil && codeOf(err) != 1002 {
			t.Errorf("%s: code %d, want 1002", tt.name, codeOf(err))
		}
	}
}

func TestHeaderAllocs(t *testing.T) {
	h := Header{Fin: true, Opcode: OpBinary, Masked: true, Mask: rfcKey, Length: 70000}
	buf := make([]byte, 0, 64)
	wire := AppendHeader(nil, h)
	for name, f := range map[string]func(){
		"putHeader":    func() { putHeader(buf[:MaxHeaderSize], h) },
		"AppendHeader": func() { buf = AppendHeader(buf[:0], h) },
		"ParseHeader":  func() { ParseHeader(wire) },
		"CheckHeader":  func() { CheckHeader(h, false, 0) },
	} {
		if allocs := testing.AllocsPerRun(100, f); allocs != 0 {
			t.Errorf("%s: %v allocations, want 0", name, allocs)
		}
	}
}
