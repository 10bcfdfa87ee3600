package conn

import (
	"bytes"
	"errors"
	"net"
	"testing"

	"github.com/rfc6455/websocket/frame"
)

// recordConn is a net.Conn that records what is written to it, and each
// Write call, and never has anything to read.
type recordConn struct {
	replayConn
	buf    bytes.Buffer
	writes int
}

func (c *recordConn) Write(p []byte) (int, error) {
	c.writes++
	return c.buf.Write(p)
}

func newRecorded(role Role) (*Conn, *recordConn) {
	rc := &recordConn{replayConn: replayConn{stream: []byte{0}}}
	c := New(rc, role, nil)
	c.Open(nil)
	return c, rc
}

func TestPrepareWire(t *testing.T) {
	// Legend: byte 0 is FIN|opcode (0x81 text, 0x82 binary, 0x89 ping);
	// byte 1 is MASK=0|length, 126 announcing a 16-bit and 127 a 64-bit
	// length; the payload follows unmasked.
	tests := []struct {
		name   string
		op     frame.Opcode
		size   int
		header []byte
	}{
		{"empty text", frame.OpText, 0, []byte{0x81, 0x00}},
		{"7-bit length", frame.OpText, 125, []byte{0x81, 125}},
		{"16-bit length", frame.OpBinary, 126, []byte{0x82, 126, 0x00, 126}},
		{"largest 16-bit", frame.OpBinary, 65535, []byte{0x82, 126, 0xFF, 0xFF}},
		{"64-bit length", frame.OpBinary, 65536, []byte{0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}},
		{"ping", frame.OpPing, 4, []byte{0x89, 0x04}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := pattern(tt.size, 3)
			p := Prepare(tt.op, payload)
			want := append(append([]byte{}, tt.header...), payload...)
			if !bytes.Equal(p.wire, want) {
				t.Fatalf("wire % x..., want % x...", p.wire[:min(len(p.wire), 12)], want[:min(len(want), 12)])
			}
			if p.Opcode() != tt.op || len(p.wire) != len(want) || !bytes.Equal(p.payload(), payload) {
				t.Fatalf("Opcode %v wire %d bytes Payload %d bytes", p.Opcode(), len(p.wire), len(p.payload()))
			}
			if tt.size > 0 {
				payload[0]++ // Prepare copied it
				if p.payload()[0] == payload[0] {
					t.Fatal("Prepare kept the caller's payload")
				}
			}
		})
	}
}

// TestWritePreparedMatchesWriteFrame: a server writes exactly the bytes
// WriteFrame would, alone and in batches, and counts the same stats.
func TestWritePreparedMatchesWriteFrame(t *testing.T) {
	for _, size := range []int{0, 1, 125, 126, 4000, 70000, maxCoalesce + 1} {
		payload := pattern(size, 9)
		for _, corked := range []bool{false, true} {
			direct, drc := newRecorded(Server)
			prep, prc := newRecorded(Server)
			p := Prepare(frame.OpBinary, payload)
			if corked {
				direct.Cork()
				prep.Cork()
			}
			for range 3 {
				if err := direct.WriteFrame(frame.OpBinary, true, 0, payload); err != nil {
					t.Fatal(err)
				}
				if err := prep.WritePrepared(p); err != nil {
					t.Fatal(err)
				}
			}
			if corked {
				direct.Uncork()
				prep.Uncork()
			}
			if !bytes.Equal(drc.buf.Bytes(), prc.buf.Bytes()) {
				t.Fatalf("size %d corked %v: WritePrepared wrote %d bytes unlike WriteFrame's %d", size, corked, prc.buf.Len(), drc.buf.Len())
			}
			ds, ps := direct.Stats(), prep.Stats()
			if ds.BytesOut != ps.BytesOut || ds.FramesOut != ps.FramesOut || ds.MessagesOut != ps.MessagesOut {
				t.Fatalf("size %d: stats %+v, WriteFrame's %+v", size, ps, ds)
			}
			if corked && size <= 1000 && prc.writes != 1 {
				t.Errorf("size %d: three corked frames took %d writes, want 1", size, prc.writes)
			}
		}
	}
}

func TestWritePreparedRoundTrip(t *testing.T) {
	client, server := openPair(t, nil)
	for _, size := range []int{0, 125, 126, 65536, 200000} {
		p := Prepare(frame.OpText, bytes.Repeat([]byte("a"), size))
		// A server sends p's bytes; a client must mask them.
		for _, pair := range [][2]*Conn{{server, client}, {client, server}} {
			errc := make(chan error, 1)
			go func() { errc <- pair[0].WritePrepared(p) }()
			h, got, err := readFrame(pair[1])
			if err != nil || h.Opcode != frame.OpText || !h.Fin || h.Masked != (pair[0] == client) || !bytes.Equal(got, p.payload()) {
				t.Fatalf("%v sent %d bytes: got %v, %d bytes, %v", pair[0].Role(), size, h, len(got), err)
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestWritePreparedControl(t *testing.T) {
	c, rc := newRecorded(Server)
	var pe *frame.ProtocolError
	if err := c.WritePrepared(Prepare(frame.OpPing, make([]byte, 126))); !errors.As(err, &pe) {
		t.Fatalf("a 126-byte ping: %v, want a *frame.ProtocolError", err)
	}
	closing := Prepare(frame.OpClose, frame.AppendClosePayload(nil, frame.StatusGoingAway, ""))
	if err := c.WritePrepared(closing); err != nil {
		t.Fatal(err)
	}
	if c.State() != Closing {
		t.Errorf("state after a prepared close frame: %v, want Closing", c.State())
	}
	if err := c.WritePrepared(Prepare(frame.OpText, nil)); err != ErrCloseSent {
		t.Errorf("data after close: %v, want ErrCloseSent", err)
	}
	if want := []byte{0x88, 0x02, 0x03, 0xE9}; !bytes.Equal(rc.buf.Bytes(), want) {
		t.Errorf("wrote % x, want % x (close, 1001)", rc.buf.Bytes(), want)
	}
	if err := New(&replayConn{}, Server, nil).WritePrepared(closing); err != errNotOpen {
		t.Errorf("before Open: %v, want errNotOpen", err)
	}
}

func TestWritePreparedZeroAllocs(t *testing.T) {
	for _, size := range []int{16, 1024, 128 << 10} {
		c := New(&replayConn{stream: []byte{0}}, Server, nil)
		c.Open(nil)
		p := Prepare(frame.OpBinary, make([]byte, size))
		if n := testing.AllocsPerRun(100, func() { c.WritePrepared(p) }); n != 0 {
			t.Errorf("WritePrepared of %d bytes: %v allocations, want 0", size, n)
		}
	}
}

// FuzzPrepare: the prepared bytes parse back to one final, unmasked frame
// with the opcode and payload given, and match what WriteFrame sends.
func FuzzPrepare(f *testing.F) {
	f.Add(uint8(frame.OpText), []byte("hello"))
	f.Add(uint8(frame.OpBinary), make([]byte, 126))
	f.Add(uint8(frame.OpPing), []byte{})
	f.Fuzz(func(t *testing.T, op uint8, payload []byte) {
		o := frame.Opcode(op & 0xF)
		p := Prepare(o, payload)
		h, n, err := frame.ParseHeader(p.wire)
		if err != nil {
			t.Fatal(err)
		}
		if !h.Fin || h.Masked || h.Rsv != 0 || h.Opcode != o || h.Length != int64(len(payload)) || !bytes.Equal(p.wire[n:], payload) {
			t.Fatalf("Prepare(%v, %d bytes) parses as %+v with %d payload bytes", o, len(payload), h, len(p.wire)-n)
		}
		if o.IsControl() && len(payload) > frame.MaxControlPayload {
			return
		}
		c, rc := newRecorded(Server)
		c.WriteFrame(o, true, 0, payload)
		if !bytes.Equal(rc.buf.Bytes(), p.wire) {
			t.Fatal("WriteFrame and Prepare disagree")
		}
	})
}

func BenchmarkWritePrepared(b *testing.B) {
	for _, size := range benchSizes[:3] {
		b.Run(sizeName(size), func(b *testing.B) {
			c := New(&replayConn{stream: []byte{0}}, Server, nil)
			c.Open(nil)
			p := Prepare(frame.OpBinary, make([]byte, size))
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if err := c.WritePrepared(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

var _ net.Conn = (*recordConn)(nil)
