//go:build linux

package netpoll

import (
	"io"
	"net"
	"testing"
)

// BenchmarkLoopEcho echoes through a Socket on one loop, its handler
// reading into a 4 KiB buffer as conn does: "roundtrip" is one 16-byte
// write and its echo at a time (a turn per message), "stream" a peer that
// writes 64 KiB chunks without waiting while it reads the echo (reads that
// fill the buffer, where the share of a turn bites).
func BenchmarkLoopEcho(b *testing.B) {
	for _, bc := range []struct {
		name   string
		size   int
		stream bool
	}{{"roundtrip/16", 16, false}, {"stream/64KiB", 64 << 10, true}} {
		b.Run(bc.name, func(b *testing.B) {
			ls, err := newLoops(1)
			if err != nil {
				b.Fatal(err)
			}
			defer ls.Close()
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			dialed := make(chan net.Conn, 1)
			go func() {
				c, err := net.Dial("tcp", l.Addr().String())
				if err != nil {
					b.Error(err)
				}
				dialed <- c
			}()
			s, err := ls.accept(l)
			if err != nil {
				b.Fatal(err)
			}
			client := <-dialed
			if client == nil {
				b.FailNow()
			}
			defer client.Close()
			buf := make([]byte, 4<<10)
			s.Start(newTestHandler(func() {
				for {
					n, err := s.Read(buf)
					if n == 0 {
						if err != nil {
							s.Close()
						}
						return
					}
					if _, err := s.Write(buf[:n]); err != nil {
						s.Close()
						return
					}
				}
			}))
			msg := make([]byte, bc.size)
			got := make([]byte, bc.size)
			b.SetBytes(int64(bc.size))
			b.ResetTimer()
			if bc.stream {
				wrote := make(chan error, 1)
				go func() {
					var err error
					for i := 0; i < b.N && err == nil; i++ {
						_, err = client.Write(msg)
					}
					wrote <- err
				}()
				if _, err := io.CopyN(io.Discard, client, int64(b.N)*int64(bc.size)); err != nil {
					b.Fatal(err)
				}
				if err := <-wrote; err != nil {
					b.Fatal(err)
				}
				return
			}
			for i := 0; i < b.N; i++ {
				if _, err := client.Write(msg); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(client, got); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
