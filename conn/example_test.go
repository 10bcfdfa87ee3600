package conn_test

import (
	"fmt"
	"net"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
)

// Frames over a net.Pipe, past the opening handshake: the client writes a
// masked text frame, the server reads the header and the unmasked payload
// and echoes it, and the client reads the echo.
func Example() {
	a, b := net.Pipe()
	client := conn.New(a, conn.Client, nil)
	server := conn.New(b, conn.Server, nil)
	client.Open(nil)
	server.Open(nil)
	defer client.Close()
	defer server.Close()

	go func() {
		h, err := server.NextFrame()
		if err != nil {
			return
		}
		payload, err := server.ReadPayload(nil)
		if err != nil {
			return
		}
		server.WriteFrame(h.Opcode, true, 0, payload)
	}()

	if err := client.WriteFrame(frame.OpText, true, 0, []byte("hello")); err != nil {
		fmt.Println(err)
		return
	}
	h, err := client.NextFrame()
	if err != nil {
		fmt.Println(err)
		return
	}
	payload, _ := client.ReadPayload(nil)
	fmt.Printf("%v %q\n", h.Opcode, payload)
	// Output: text "hello"
}

// A Transport of one's own: here a blocking stream over a net.Conn that
// counts the bytes written, under a Conn made with NewTransport. A
// net.Conn brings Read, Write, the deadlines, Close and the addresses; the
// stream adds the rest of the seam.
func ExampleNewTransport() {
	a, b := net.Pipe()
	counted := &countingTransport{Conn: a}
	client := conn.NewTransport(counted, conn.Client, nil)
	server := conn.New(b, conn.Server, nil)
	client.Open(nil)
	server.Open(nil)
	defer client.Close()
	defer server.Close()

	done := make(chan error)
	go func() { done <- client.WriteFrame(frame.OpBinary, true, 0, []byte{1, 2, 3}) }()
	h, _ := server.NextFrame()
	payload, _ := server.ReadPayload(nil)
	<-done
	// A client frame: 2 header bytes, a 4-byte mask key, the payload.
	fmt.Println(h.Opcode, payload, counted.written)
	// Output: binary [1 2 3] 9
}

type countingTransport struct {
	net.Conn
	written int
}

func (t *countingTransport) Write(p []byte) (int, error) {
	n, err := t.Conn.Write(p)
	t.written += n
	return n, err
}

func (t *countingTransport) Writev(bufs *net.Buffers) (int64, error) {
	var n int64
	for _, b := range *bufs {
		m, err := t.Write(b)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	*bufs = nil
	return n, nil
}

// ReadLazy reads into the connection's buffer at once: a net.Conn cannot
// wait for bytes without one.
func (t *countingTransport) ReadLazy(b interface {
	Lend() []byte
	Return()
}) (int, error) {
	return t.Conn.Read(b.Lend())
}

func (t *countingTransport) WaitRoom(time.Duration) error { return nil } // Write blocks instead

func (t *countingTransport) AfterFunc(d time.Duration, f func()) interface {
	Reset(d time.Duration) bool
	Stop() bool
} {
	return time.AfterFunc(d, f)
}

func (t *countingTransport) Abort() error      { return t.Conn.Close() }
func (t *countingTransport) Nonblocking() bool { return false }
