package session

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkRoundTrip sends a message from a client session and reads it on
// a server session over loopback TCP, with the reader's buffer reused: the
// steady state of an echo server's read side and a client's write side.
func BenchmarkRoundTrip(b *testing.B) {
	for _, size := range []int{16, 1024, 64 << 10} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			client, server := pair(b, nil, nil)
			msg := make([]byte, size)
			buf := make([]byte, 0, size)
			ctx := context.Background()
			done := make(chan error, 1)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			go func() {
				for i := 0; i < b.N; i++ {
					if err := client.WriteMessage(ctx, Binary, msg); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			for i := 0; i < b.N; i++ {
				if _, _, err := server.AppendMessage(ctx, buf[:0]); err != nil {
					b.Fatal(err)
				}
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		})
	}
}
