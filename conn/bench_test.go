package conn

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/rfc6455/websocket/frame"
)

// replayConn is a net.Conn whose reads replay one encoded stream forever
// and whose writes are discarded, so benchmarks measure the codec and the
// buffering, not the kernel.
type replayConn struct {
	stream []byte
	pos    int
}

func (c *replayConn) Read(p []byte) (int, error) {
	n := copy(p, c.stream[c.pos:])
	c.pos = (c.pos + n) % len(c.stream)
	return n, nil
}
func (c *replayConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *replayConn) Close() error                     { return nil }
func (c *replayConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *replayConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *replayConn) SetDeadline(time.Time) error      { return nil }
func (c *replayConn) SetReadDeadline(time.Time) error  { return nil }
func (c *replayConn) SetWriteDeadline(time.Time) error { return nil }

// clientStream encodes copies of a masked binary frame with size bytes of
// payload, enough to fill at least 64 KiB.
func clientStream(size int) []byte {
	var b []byte
	for len(b) < 64<<10 || len(b) == 0 {
		h := frame.Header{Fin: true, Opcode: frame.OpBinary, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Length: int64(size)}
		b = frame.AppendHeader(b, h)
		b = append(b, make([]byte, size)...)
	}
	return b
}

var benchSizes = []int{16, 1024, 64 << 10, 1 << 20}

func sizeName(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// BenchmarkReadFrame reads frames (header and unmasked payload) as a server.
func BenchmarkReadFrame(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(sizeName(size), func(b *testing.B) {
			c := New(&replayConn{stream: clientStream(size)}, Server, nil)
			c.Open(nil)
			buf := make([]byte, 0, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.NextFrame(); err != nil {
					b.Fatal(err)
				}
				if _, err := c.ReadPayload(buf[:0]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWriteFrame writes frames in both roles (a client masks).
func BenchmarkWriteFrame(b *testing.B) {
	for _, role := range []Role{Server, Client} {
		for _, size := range benchSizes {
			b.Run(role.String()+"/"+sizeName(size), func(b *testing.B) {
				c := New(&replayConn{stream: []byte{0}}, role, nil)
				c.Open(nil)
				payload := make([]byte, size)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if err := c.WriteFrame(frame.OpBinary, true, 0, payload); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
