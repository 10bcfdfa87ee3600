package websocket_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
)

// benchRequest is a browser-sized opening handshake.
const benchRequest = "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n" +
	"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
	"Sec-WebSocket-Version: 13\r\nOrigin: http://example.com\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r\n" +
	"Accept-Encoding: gzip, deflate, br\r\nAccept-Language: en-US,en;q=0.9\r\n" +
	"Cache-Control: no-cache\r\nPragma: no-cache\r\n\r\n"

// readHead reads from r until the end of a response head, into buf.
func readHead(r io.Reader, buf []byte) error {
	n := 0
	for !bytes.Contains(buf[:n], []byte("\r\n\r\n")) {
		m, err := r.Read(buf[n:])
		if err != nil {
			return err
		}
		n += m
	}
	return nil
}

// BenchmarkUpgrade runs the server side of a whole opening handshake with
// Upgrade over a pipe, the connection's opening and closing included: what
// the handshake costs a server per connection in the goroutine mode.
func BenchmarkUpgrade(b *testing.B) {
	ctx := context.Background()
	opts := &websocket.AcceptOptions{}
	done := make(chan error, 1)
	b.ReportAllocs()
	for b.Loop() {
		srv, cli := net.Pipe()
		go func() {
			var buf [512]byte
			_, err := io.WriteString(cli, benchRequest)
			if err == nil {
				err = readHead(cli, buf[:])
			}
			cli.Close()
			done <- err
		}()
		c, _, err := websocket.Upgrade(ctx, srv, opts)
		if err != nil {
			b.Fatal(err)
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		c.CloseNow()
	}
}

// BenchmarkServerHandshake opens and drops connections to a push-style
// Server over loopback TCP in each I/O mode: the client's side is counted
// too, the same before and after a change to the server.
func BenchmarkServerHandshake(b *testing.B) {
	for _, mode := range ioModes {
		b.Run(mode.String(), func(b *testing.B) {
			if mode == websocket.IOEventLoop {
				if err := loopsProbe(); err != nil {
					b.Skipf("no event loops here: %v", err)
				}
			}
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			srv := &websocket.Server{IO: mode, Loops: 1}
			srv.Options.OnMessage = func(*websocket.Conn, websocket.MessageType, []byte) {}
			go srv.Serve(l)
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				srv.Shutdown(ctx)
			}()
			req := []byte(benchRequest)
			var buf [512]byte
			b.ReportAllocs()
			for b.Loop() {
				nc, err := net.Dial("tcp", l.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				if _, err := nc.Write(req); err != nil {
					b.Fatal(err)
				}
				if err := readHead(nc, buf[:]); err != nil {
					b.Fatal(err)
				}
				nc.Close()
			}
		})
	}
}
