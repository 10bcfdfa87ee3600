package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// serverFrames turns the client frames in wire into what an echo server
// sends back: each message unmasked, split into frames of at most frag
// payload bytes (0: one frame), the first binary and the rest continuations.
func serverFrames(t *testing.T, wire []byte, frag int) []byte {
	t.Helper()
	var out []byte
	for len(wire) > 0 {
		if wire[0] != 0x80|opBinary || wire[1]&0x80 == 0 {
			t.Fatalf("client frame starts % x, want FIN binary masked", wire[:2])
		}
		n, hdr := int(wire[1]&0x7F), 2
		switch n {
		case 126:
			n, hdr = int(binary.BigEndian.Uint16(wire[2:])), 4
		case 127:
			n, hdr = int(binary.BigEndian.Uint64(wire[2:])), 10
		}
		key := binary.LittleEndian.Uint32(wire[hdr:])
		payload := make([]byte, n)
		maskXor(payload, wire[hdr+4:hdr+4+n], key, 0)
		wire = wire[hdr+4+n:]
		if frag <= 0 {
			frag = max(n, 1)
		}
		op := byte(opBinary)
		for first := true; first || len(payload) > 0; first = false {
			k := min(frag, len(payload))
			fin := k == len(payload)
			b0 := op
			if fin {
				b0 |= 0x80
			}
			switch {
			case k <= 125:
				out = append(out, b0, byte(k))
			case k <= 0xFFFF:
				out = append(out, b0, 126, byte(k>>8), byte(k))
			default:
				out = append(out, b0, 127)
				out = binary.BigEndian.AppendUint64(out, uint64(k))
			}
			out = append(out, payload[:k]...)
			payload = payload[k:]
			op = opContinuation
		}
	}
	return out
}

// feedChunks feeds b to ps in random pieces and returns the messages done.
func feedChunks(ps *parser, b []byte, rng *rand.Rand) (int, error) {
	total := 0
	for len(b) > 0 {
		n := min(1+rng.IntN(40), len(b))
		if rng.IntN(4) == 0 {
			n = len(b) // sometimes everything at once
		}
		done, err := ps.feed(b[:n])
		total += done
		if err != nil {
			return total, err
		}
		b = b[n:]
	}
	return total, nil
}

func TestParserAcceptsEchoes(t *testing.T) {
	for _, size := range []int{0, 3, 8, 16, 125, 126, 1000, 70000} {
		for _, frag := range []int{0, 1, 7, 4096} {
			pattern := newPattern(size)
			msg := message{size: size, salt: 12345, pattern: pattern}
			keys := rand.New(rand.NewPCG(1, 2))
			var wire []byte
			const n = 5
			for seq := range uint64(n) {
				wire = msg.appendFrame(wire, seq, uint32(keys.Uint64()))
			}
			rng := rand.New(rand.NewPCG(uint64(size), uint64(frag)))

			ps := &parser{msg: &msg}
			done, err := feedChunks(ps, serverFrames(t, wire, frag), rng)
			if err != nil || done != n {
				t.Errorf("size %d frag %d: done %d err %v, want %d nil", size, frag, done, err, n)
			}

			// The TCP baseline echoes the client frames themselves.
			replay := rand.New(rand.NewPCG(1, 2))
			raw := &parser{msg: &msg, raw: true, keys: func() uint32 { return uint32(replay.Uint64()) }}
			done, err = feedChunks(raw, wire, rng)
			if err != nil || done != n {
				t.Errorf("raw size %d: done %d err %v, want %d nil", size, done, err, n)
			}
		}
	}
}

func TestParserFindsTheWrongByte(t *testing.T) {
	const size = 300
	msg := message{size: size, salt: 7, pattern: newPattern(size)}
	var wire []byte
	for seq := range uint64(3) {
		wire = msg.appendFrame(wire, seq, 0xA1B2C3D4)
	}
	echo := serverFrames(t, wire, 0)
	// Second message: its header is 4 bytes (length 300), so payload
	// byte 100 of it is at (4+300) + 4 + 100.
	echo[304+4+100] ^= 0x01
	ps := &parser{msg: &msg}
	done, err := ps.feed(echo)
	var mis *mismatchError
	if !errors.As(err, &mis) || done != 1 || mis.seq != 1 || mis.offset != 100 {
		t.Fatalf("done %d, err %v; want message 1 byte 100 mismatched after 1 message", done, err)
	}

	// The same in raw mode, where the echo is still masked: client
	// headers are 8 bytes here (4 of length, 4 of key).
	for _, off := range []int{0, 5, 8, 9, 100, 299} {
		raw := append([]byte(nil), wire...)
		raw[308+8+off] ^= 0x80
		ps := &parser{msg: &msg, raw: true, keys: func() uint32 { return 0xA1B2C3D4 }}
		done, err := ps.feed(raw)
		if !errors.As(err, &mis) || done != 1 || mis.seq != 1 || mis.offset != off || mis.got^mis.want != 0x80 {
			t.Fatalf("raw: done %d, err %v; want message 1 byte %d mismatched by 0x80 after 1 message", done, err, off)
		}
	}
}

func TestParserRejects(t *testing.T) {
	msg := message{size: 4, salt: 1, pattern: newPattern(4)}
	good := serverFrames(t, msg.appendFrame(nil, 0, 99), 0) // 82 04 + 4 bytes
	tests := []struct {
		name string
		edit func(b []byte) []byte
		want string
	}{
		{"text instead of binary", func(b []byte) []byte { b[0] = 0x81; return b }, "opcode 0x1"},
		{"masked server frame", func(b []byte) []byte {
			return append([]byte{0x82, 0x84, 0, 0, 0, 0}, b[2:]...)
		}, "masked"},
		{"RSV1 set", func(b []byte) []byte { b[0] |= 0x40; return b }, "RSV"},
		{"too short", func(b []byte) []byte { b[1] = 3; return b[:5] }, "ends after 3 bytes"},
		{"too long", func(b []byte) []byte { b[1] = 5; return append(b, 0) }, "longer"},
		{"close from the server", func([]byte) []byte { return []byte{0x88, 0x02, 0x03, 0xE9} }, "close (code 1001"},
		{"ping from the server", func([]byte) []byte { return []byte{0x89, 0x00} }, "control frame 0x9"},
		{"continuation first", func(b []byte) []byte { b[0] = 0x80; return b }, "opcode 0x0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.edit(append([]byte(nil), good...))
			_, err := (&parser{msg: &msg}).feed(b)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
	// The raw parser insists on the key the writer used.
	raw := &parser{msg: &msg, raw: true, keys: func() uint32 { return 98 }}
	if _, err := raw.feed(msg.appendFrame(nil, 0, 99)); err == nil || !strings.Contains(err.Error(), "masking key") {
		t.Errorf("raw parser with a wrong key: err = %v", err)
	}
}

func TestMaskXorMatchesBytewise(t *testing.T) {
	src := newPattern(5000)
	lengths := []int{100, 2047, 2048, 2049, 4100, 5000}
	for n := range 70 {
		lengths = append(lengths, n)
	}
	for pos := range 8 {
		for _, n := range lengths {
			got := make([]byte, n)
			end := maskXor(got, src[:n], 0x11223344, pos)
			key := []byte{0x44, 0x33, 0x22, 0x11} // wire order
			for i := range n {
				if want := src[i] ^ key[(pos+i)%4]; got[i] != want {
					t.Fatalf("pos %d n %d: byte %d = %#x, want %#x", pos, n, i, got[i], want)
				}
			}
			if end != pos+n {
				t.Fatalf("returned %d, want %d", end, pos+n)
			}
		}
	}
}

func TestHistogramPercentiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(int64(i) * 1000) // 1 µs .. 1 ms
	}
	for _, c := range []struct {
		p    float64
		want float64
	}{{0.5, 500e3}, {0.99, 990e3}} {
		got := float64(h.percentile(c.p))
		if got < c.want*0.96 || got > c.want*1.04 {
			t.Errorf("p%v = %v ns, want %v within 4%%", c.p*100, got, c.want)
		}
	}
	for ns := int64(0); ns < 1<<20; ns = ns*5/4 + 1 {
		if lo, hi := lowerBound(bucket(ns)), lowerBound(bucket(ns)+1); ns < lo || ns >= hi {
			t.Fatalf("%d ns in bucket [%d, %d)", ns, lo, hi)
		}
	}
}

func BenchmarkMaskXor64KiB(b *testing.B) {
	src := newPattern(64 << 10)[:64<<10]
	dst := make([]byte, len(src))
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		maskXor(dst, src, 0x11223344, 1)
	}
}

func BenchmarkCheck64KiB(b *testing.B) {
	msg := message{size: 64 << 10, salt: 3, pattern: newPattern(64 << 10)}
	frame := msg.appendFrame(nil, 5, 0x11223344)
	payload := frame[len(frame)-msg.size:]
	plain := make([]byte, msg.size)
	maskXor(plain, payload, 0x11223344, 0)
	b.Run("plain", func(b *testing.B) {
		b.SetBytes(int64(msg.size))
		for b.Loop() {
			if err := msg.check(5, 0, plain); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("masked", func(b *testing.B) {
		b.SetBytes(int64(msg.size))
		for b.Loop() {
			if err := msg.checkMasked(5, 0, payload, 0x11223344); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestPremasked checks that a frame sent as a head and a premasked body is
// byte for byte the frame appendFrame makes with the same key, for every
// variant, and that the parser accepts its echo.
func TestPremasked(t *testing.T) {
	const size = premaskMin + 5
	msg := message{size: size, salt: 0x0123456789abcdef, pattern: newPattern(size)}
	keys := rand.New(rand.NewPCG(3, 4))
	pre := msg.premask(func() uint32 { return uint32(keys.Uint64()) })
	if msg.variants != premaskVariants {
		t.Fatalf("variants = %d, want %d", msg.variants, premaskVariants)
	}
	ps := &parser{msg: &msg}
	for seq := uint64(0); seq < 3*premaskVariants; seq++ {
		v := seq % premaskVariants
		got := append(msg.appendHead(nil, seq, pre.keys[v]), pre.bodies[v]...)
		want := msg.appendFrame(nil, seq, pre.keys[v])
		if !bytes.Equal(got, want) {
			t.Fatalf("message %d: premasked frame differs from appendFrame's", seq)
		}
		// The echo: the same payload, unmasked, in a server frame.
		if done, err := ps.feed(serverFrames(t, want, 0)); err != nil || done != 1 {
			t.Fatalf("message %d: echo: done %d, %v", seq, done, err)
		}
	}
	if pre.keys[0] == pre.keys[1] && pre.keys[1] == pre.keys[2] {
		t.Error("the variants share one key")
	}
}
