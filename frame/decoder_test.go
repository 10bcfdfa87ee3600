package frame

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

// decoded is one frame as a Decoder delivered it.
type decoded struct {
	h       Header
	payload []byte // unmasked; may be short if the stream ended early
}

// chunker decides how many of the rest bytes of a stream arrive next; it
// returns a value in [1, rest].
type chunker func(rest int) int

func whole(rest int) int { return rest }
func oneByte(int) int    { return 1 }

func randomChunks(seed uint64) chunker {
	r := rand.New(rand.NewPCG(seed, seed))
	return func(rest int) int { return 1 + r.IntN(min(rest, 40)) }
}

// runDecoder feeds a copy of in to d in the pieces next chooses, the way a
// read loop would, and returns the frames decoded and the first error. It
// also checks the invariants that hold whatever the input.
func runDecoder(d *Decoder, in []byte, next chunker) ([]decoded, error) {
	in = bytes.Clone(in) // Payload unmasks in place
	var frames []decoded
	for len(in) > 0 {
		k := next(len(in))
		chunk := in[:k]
		in = in[k:]
		for len(chunk) > 0 {
			if d.Remaining() > 0 {
				n := d.Payload(chunk)
				if n <= 0 || n > len(chunk) {
					return frames, errors.New("Payload consumed no bytes or too many")
				}
				f := &frames[len(frames)-1]
				f.payload = append(f.payload, chunk[:n]...)
				chunk = chunk[n:]
			} else {
				n, done, err := d.ParseHeader(chunk)
				if err != nil {
					return frames, err
				}
				if n < 0 || n > len(chunk) || (!done && n != len(chunk)) {
					return frames, errors.New("ParseHeader consumed a wrong count")
				}
				chunk = chunk[n:]
				if done {
					frames = append(frames, decoded{h: d.Header(), payload: []byte{}})
				}
			}
			if d.Remaining() < 0 {
				return frames, errors.New("Remaining is negative")
			}
		}
	}
	return frames, nil
}

// Header helpers for building streams.
func text(fin bool, p string) []byte { return encodeFrame(Header{Fin: fin, Opcode: OpText}, []byte(p)) }
func bin(fin bool, p string) []byte {
	return encodeFrame(Header{Fin: fin, Opcode: OpBinary}, []byte(p))
}
func cont(fin bool, p string) []byte {
	return encodeFrame(Header{Fin: fin, Opcode: OpContinuation}, []byte(p))
}
func ping(p string) []byte { return encodeFrame(Header{Fin: true, Opcode: OpPing}, []byte(p)) }

// Every rule and limit of the Decoder, each breaking at a known frame with
// a known code. Streams are spelled as frames (built with the helpers above)
// or as raw bytes where the encoder cannot produce them.
func TestDecoderRules(t *testing.T) {
	tests := []struct {
		name    string
		dec     Decoder
		stream  []byte
		frames  int // headers accepted before the error
		code    int // expected close code, 0 for none
		payload int // total payload bytes delivered, when code == 0
	}{
		{"single text", Decoder{}, text(true, "abc"), 1, 0, 3},
		{"fragments with ping in between", Decoder{}, concat(text(false, "ab"), ping("p"), cont(false, "c"), cont(true, "d")), 4, 0, 5},
		{"empty fragments", Decoder{}, concat(bin(false, ""), cont(false, ""), cont(true, "")), 3, 0, 0},
		{"two messages", Decoder{}, concat(text(true, "a"), bin(true, "b")), 2, 0, 2},

		// §5.4 fragmentation.
		{"continuation first", Decoder{}, cont(true, "x"), 0, 1002, 0},
		{"continuation after final", Decoder{}, concat(text(true, "a"), cont(true, "b")), 1, 1002, 0},
		{"text inside message", Decoder{}, concat(text(false, "a"), text(true, "b")), 1, 1002, 0},
		{"binary inside message", Decoder{}, concat(text(false, "a"), ping(""), bin(true, "b")), 2, 1002, 0},

		// §5.2 reserved opcodes and RSV bits.
		{"reserved data opcode 0x3", Decoder{}, []byte{0x83, 0x00}, 0, 1002, 0},
		{"reserved data opcode 0x7", Decoder{}, []byte{0x87, 0x00}, 0, 1002, 0},
		{"reserved control opcode 0xB", Decoder{}, []byte{0x8B, 0x00}, 0, 1002, 0},
		{"reserved control opcode 0xF", Decoder{}, []byte{0x8F, 0x00}, 0, 1002, 0},
		{"RSV1 without extension", Decoder{}, []byte{0xC1, 0x00}, 0, 1002, 0},
		{"RSV2 without extension", Decoder{}, []byte{0xA1, 0x00}, 0, 1002, 0},
		{"RSV3 without extension", Decoder{}, []byte{0x91, 0x00}, 0, 1002, 0},
		{"RSV1 with deflate", Decoder{AllowedRsv: Rsv1}, []byte{0xC1, 0x00}, 1, 0, 0},
		{"RSV2 with deflate", Decoder{AllowedRsv: Rsv1}, []byte{0xA1, 0x00}, 0, 1002, 0},
		{"RSV1 on continuation with deflate", Decoder{AllowedRsv: Rsv1}, []byte{
			0x41, 0x00, // RSV1 text, not final, length 0
			0xC0, 0x00, // FIN RSV1 continuation, length 0
		}, 1, 1002, 0},
		{"RSV1 on ping with deflate", Decoder{AllowedRsv: Rsv1}, []byte{0xC9, 0x00}, 0, 1002, 0},

		// §5.5 control frames.
		{"fragmented ping", Decoder{}, []byte{0x09, 0x00}, 0, 1002, 0},
		{"fragmented close", Decoder{}, []byte{0x08, 0x00}, 0, 1002, 0},
		{"ping of 125 bytes", Decoder{}, ping(string(seq(125))), 1, 0, 125},
		{"ping of 126 bytes", Decoder{}, []byte{0x89, 0x7E, 0x00, 0x7E}, 0, 1002, 0},
		{"pong of 126 bytes non-minimal 64-bit", Decoder{}, []byte{0x8A, 0x7F, 0, 0, 0, 0, 0, 0, 0, 0x7E}, 0, 1002, 0},

		// §5.1 masking direction.
		{"server gets unmasked", Decoder{ExpectMasked: true}, text(true, "a"), 0, 1002, 0},
		{"client gets masked", Decoder{}, encodeFrame(Header{Fin: true, Opcode: OpText, Masked: true, Mask: rfcKey}, []byte("a")), 0, 1002, 0},
		{"server gets masked", Decoder{ExpectMasked: true}, encodeFrame(Header{Fin: true, Opcode: OpText, Masked: true, Mask: rfcKey}, []byte("a")), 1, 0, 1},

		// §5.2 64-bit length with the top bit set.
		{"length top bit", Decoder{}, []byte{0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0}, 0, 1002, 0},

		// Limits.
		{"frame at limit", Decoder{MaxFrameSize: 3}, bin(true, "abc"), 1, 0, 3},
		{"frame over limit", Decoder{MaxFrameSize: 3}, bin(true, "abcd"), 0, 1009, 0},
		{"huge frame over limit", Decoder{MaxFrameSize: 1 << 20}, []byte{0x82, 0x7F, 0, 0, 0x01, 0, 0, 0, 0, 0}, 0, 1009, 0},
		{"frame limit spares control frames", Decoder{MaxFrameSize: 3}, ping("abcdef"), 1, 0, 6},
		{"message at limit", Decoder{MaxMessageSize: 4}, concat(text(false, "ab"), ping("xyz"), cont(true, "cd")), 3, 0, 7},
		{"message over limit", Decoder{MaxMessageSize: 4}, concat(text(false, "ab"), cont(false, "cd"), cont(true, "e")), 2, 1009, 0},
		{"message limit per message", Decoder{MaxMessageSize: 4}, concat(text(true, "abcd"), bin(false, "ab"), cont(true, "cd")), 3, 0, 8},
		{"message limit on single frame", Decoder{MaxMessageSize: 4}, bin(true, "abcde"), 0, 1009, 0},
		{"both limits, huge", Decoder{MaxFrameSize: 1 << 62, MaxMessageSize: 10}, concat(text(false, "abcdefghij"), []byte{0x80, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}), 1, 1009, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []struct {
				name string
				next chunker
			}{{"whole", whole}, {"bytes", oneByte}, {"random", randomChunks(7)}} {
				d := tt.dec
				frames, err := runDecoder(&d, tt.stream, c.next)
				if got := codeOf(err); got != tt.code {
					t.Fatalf("%s: error %v (code %d), want code %d", c.name, err, got, tt.code)
				}
				if len(frames) != tt.frames {
					t.Fatalf("%s: %d frames accepted, want %d", c.name, len(frames), tt.frames)
				}
				if tt.code != 0 {
					// The error is sticky.
					if _, _, err2 := d.ParseHeader([]byte{0x81, 0x00}); err2 != err {
						t.Errorf("%s: after the error ParseHeader returned %v, want %v", c.name, err2, err)
					}
					if n := d.Payload([]byte{1, 2, 3}); n != 0 {
						t.Errorf("%s: after the error Payload consumed %d bytes", c.name, n)
					}
					continue
				}
				total := 0
				for _, f := range frames {
					total += len(f.payload)
				}
				if total != tt.payload {
					t.Errorf("%s: %d payload bytes, want %d", c.name, total, tt.payload)
				}
			}
		})
	}
}

// The message state follows the frames: inMessage ends at the final
// frame's header, MessageOpcode lasts until the next header.
func TestDecoderMessageState(t *testing.T) {
	type state struct {
		op      Opcode // header opcode
		inMsg   bool
		msgOp   Opcode
		partial bool
	}
	stream := concat(
		text(false, "a"), // message starts
		ping(""),         // interleaved control frame
		cont(false, "b"), // middle
		cont(true, "c"),  // final: message over, payload still to come
		ping("p"),        // between messages
		bin(true, "d"),   // single-frame message
		text(false, ""),  // next message starts
	)
	want := []state{
		{OpText, true, OpText, false},
		{OpPing, true, OpText, false},
		{OpContinuation, true, OpText, false},
		{OpContinuation, false, OpText, false},
		{OpPing, false, OpContinuation, false},
		{OpBinary, false, OpBinary, false},
		{OpText, true, OpText, false},
	}
	var d Decoder
	if d.inMessage || d.MessageOpcode() != OpContinuation || d.Partial() {
		t.Fatal("zero Decoder is in a message")
	}
	var got []state
	p := stream
	for len(p) > 0 {
		n, done, err := d.ParseHeader(p)
		if err != nil || !done {
			t.Fatalf("ParseHeader: %d, %v, %v", n, done, err)
		}
		p = p[n:]
		got = append(got, state{d.Header().Opcode, d.inMessage, d.MessageOpcode(), d.Partial()})
		p = p[d.Payload(p):]
	}
	if len(got) != len(want) {
		t.Fatalf("got %d frames, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("after header %d: %+v, want %+v", i, got[i], want[i])
		}
	}

	// A partial header shows in Partial and survives across calls.
	n, done, err := d.ParseHeader([]byte{0x80})
	if n != 1 || done || err != nil || !d.Partial() {
		t.Fatalf("partial header: %d, %v, %v, Partial %v", n, done, err, d.Partial())
	}
	if op, ok := d.PartialOpcode(); !ok || op != OpContinuation {
		t.Errorf("PartialOpcode() = %v, %v during the header, want continuation, true", op, ok)
	}
	n, done, err = d.ParseHeader([]byte{0x7E, 0x01})
	if n != 2 || done || err != nil || !d.Partial() {
		t.Fatalf("partial header: %d, %v, %v, Partial %v", n, done, err, d.Partial())
	}
	// The header ends after one more byte; the two after it stay.
	n, done, err = d.ParseHeader([]byte{0x00, 0xAA, 0xBB})
	if n != 1 || !done || err != nil || d.Partial() || d.Remaining() != 256 {
		t.Fatalf("end of header: %d, %v, %v, Partial %v, Remaining %d", n, done, err, d.Partial(), d.Remaining())
	}
	if op, ok := d.PartialOpcode(); ok {
		t.Errorf("PartialOpcode() = %v, true after the header ended", op)
	}
	if d.inMessage || d.MessageOpcode() != OpText {
		t.Errorf("after the final frame: inMessage %v, MessageOpcode %v", d.inMessage, d.MessageOpcode())
	}

	// Misuse: a header while payload is due is not the peer's fault.
	if _, _, err := d.ParseHeader([]byte{0x81, 0x00}); err == nil || codeOf(err) != -1 {
		t.Errorf("ParseHeader with payload pending: %v", err)
	}
	if d.Remaining() != 256 {
		t.Errorf("misuse changed Remaining to %d", d.Remaining())
	}
}

// The payload of a masked frame is unmasked however it is split, the mask
// position carrying over between calls.
func TestDecoderMaskedPayload(t *testing.T) {
	payload := seq(1000)
	wire := concat(
		encodeFrame(Header{Opcode: OpBinary, Masked: true, Mask: [4]byte{1, 2, 3, 4}}, payload[:333]),
		encodeFrame(Header{Fin: true, Opcode: OpContinuation, Masked: true, Mask: [4]byte{5, 6, 7, 8}}, payload[333:]),
	)
	for seed := range uint64(20) {
		d := Decoder{ExpectMasked: true}
		frames, err := runDecoder(&d, wire, randomChunks(seed))
		if err != nil || len(frames) != 2 {
			t.Fatalf("seed %d: %d frames, %v", seed, len(frames), err)
		}
		if got := concat(frames[0].payload, frames[1].payload); !bytes.Equal(got, payload) {
			t.Fatalf("seed %d: payload differs", seed)
		}
	}
}

// Whole, byte by byte and in random pieces, a long mixed stream decodes to
// the same frames.
func TestDecoderChunking(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var stream []byte
	var want []decoded
	inMsg := false
	for range 300 {
		var h Header
		switch {
		case r.IntN(4) == 0:
			h = Header{Fin: true, Opcode: []Opcode{OpPing, OpPong, OpClose}[r.IntN(3)]}
		case inMsg:
			h = Header{Fin: r.IntN(2) == 0, Opcode: OpContinuation}
		default:
			h = Header{Fin: r.IntN(2) == 0, Opcode: []Opcode{OpText, OpBinary}[r.IntN(2)]}
		}
		if h.Opcode.IsData() {
			inMsg = !h.Fin
		}
		h.Masked = true
		h.Mask = [4]byte{byte(r.Uint32()), byte(r.Uint32()), 3, 4}
		var n int
		switch r.IntN(5) {
		case 0:
			n = 0
		case 1:
			n = 125
		default:
			n = r.IntN(126)
		}
		if h.Opcode.IsData() && r.IntN(10) == 0 {
			n = 126 + r.IntN(70000)
		}
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(r.Uint32())
		}
		stream = append(stream, encodeFrame(h, p)...)
		h.Length = int64(n)
		want = append(want, decoded{h, p})
	}
	for name, next := range map[string]chunker{"whole": whole, "bytes": oneByte, "random": randomChunks(3)} {
		d := Decoder{ExpectMasked: true}
		got, err := runDecoder(&d, stream, next)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d frames, want %d", name, len(got), len(want))
		}
		for i := range want {
			if got[i].h != want[i].h || !bytes.Equal(got[i].payload, want[i].payload) {
				t.Fatalf("%s: frame %d: %+v, want %+v", name, i, got[i].h, want[i].h)
			}
		}
	}
}

func TestDecoderAllocs(t *testing.T) {
	frame := encodeFrame(Header{Fin: true, Opcode: OpBinary, Masked: true, Mask: rfcKey}, seq(1024))
	d := Decoder{ExpectMasked: true, MaxFrameSize: 1 << 20}
	buf := make([]byte, len(frame))
	allocs := testing.AllocsPerRun(100, func() {
		copy(buf, frame)
		p := buf
		// In two pieces, to go through the buffering path too.
		n, _, _ := d.ParseHeader(p[:3])
		p = p[n:]
		n, _, _ = d.ParseHeader(p)
		p = p[n:]
		d.Payload(p)
	})
	if allocs != 0 {
		t.Errorf("Decoder: %v allocations per frame, want 0", allocs)
	}
	if d.Remaining() != 0 {
		t.Fatalf("Remaining %d", d.Remaining())
	}

	// Rejecting a declared 1 TiB frame allocates nothing either.
	huge := []byte{0x82, 0x7F, 0, 0, 0x01, 0, 0, 0, 0, 0} // FIN binary, 64-bit length 1<<40
	allocs = testing.AllocsPerRun(100, func() {
		d := Decoder{MaxFrameSize: 1 << 20}
		_, _, err := d.ParseHeader(huge)
		if pe, ok := err.(*ProtocolError); !ok || pe.Code != StatusMessageTooBig {
			t.Fatalf("1 TiB frame: %v", err)
		}
	})
	if allocs != 0 {
		t.Errorf("rejecting a 1 TiB frame: %v allocations, want 0", allocs)
	}
}

// Without a message limit the running message length saturates instead of
// overflowing. The payloads are never sent: accept is driven directly.
func TestDecoderMessageLengthSaturates(t *testing.T) {
	var d Decoder
	for i, h := range []Header{
		{Opcode: OpBinary, Length: 1<<63 - 1},
		{Opcode: OpContinuation, Length: 1<<63 - 1},
		{Fin: true, Opcode: OpContinuation, Length: 1},
	} {
		d.hdr = h
		if err := d.accept(&d.hdr); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if d.msgLen != 1<<63-1 {
			t.Fatalf("frame %d: message length %d", i, d.msgLen)
		}
		d.remaining = 0 // as if the payload had been consumed
	}
}
