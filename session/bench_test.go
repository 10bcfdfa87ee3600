package session

import (
	"context"
	"fmt"
	"testing"

	"github.com/rfc6455/websocket/frame"
)

// BenchmarkRoundTrip sends a message from a client session and reads it on
// a server session over loopback TCP, with the reader's buffer reused: the
// steady state of an echo server's read side and a client's write side.
func BenchmarkRoundTrip(b *testing.B) {
	roundTrip(context.Background(), b, 16, 1024, 64<<10)
}

// BenchmarkRoundTripContext is BenchmarkRoundTrip with a cancellable
// context on both sides, the same for every message (a handler's
// r.Context()): the fast path of the deadline watches.
func BenchmarkRoundTripContext(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	roundTrip(ctx, b, 16, 1024)
}

// roundTrip sends b.N messages of each size from a client session to a
// server session reading them into one buffer, with ctx on both sides.
func roundTrip(ctx context.Context, b *testing.B, sizes ...int) {
	for _, size := range sizes {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			client, server := pair(b, nil, nil)
			msg := make([]byte, size)
			buf := make([]byte, 0, size)
			done := make(chan error, 1)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			go func() {
				for i := 0; i < b.N; i++ {
					if err := client.WriteMessage(ctx, frame.OpBinary, msg); err != nil {
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

// BenchmarkServe is an echo in push style: a client session sends a message
// and reads the reply, which the server's OnMessage writes, served by Serve
// (block) or ServeDetached (detached). Every message finds the server idle,
// so it measures the driver's wait and buffer handling per message.
func BenchmarkServe(b *testing.B) {
	for _, mode := range []string{"block", "detached"} {
		for _, size := range []int{16, 1024} {
			b.Run(fmt.Sprint(mode, "/", size), func(b *testing.B) {
				echo := &Options{OnMessage: func(s *Session, typ frame.Opcode, data []byte) {
					s.WriteMessage(bg, typ, data)
				}}
				client, server := pair(b, nil, echo)
				served := make(chan error, 1)
				if mode == "block" {
					go func() { served <- server.Serve(bg) }()
				} else {
					server.ServeDetached(bg, func(err error) { served <- err })
				}
				msg := make([]byte, size)
				buf := make([]byte, 0, size)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := client.WriteMessage(bg, frame.OpBinary, msg); err != nil {
						b.Fatal(err)
					}
					if _, _, err := client.AppendMessage(bg, buf[:0]); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				client.Close(frame.StatusNormalClosure, "")
				<-served
			})
		}
	}
}
