package deflate_test

import (
	"fmt"

	"github.com/rfc6455/websocket/internal/deflate"
)

// One direction of a connection that negotiated permessage-deflate with
// context takeover and a 1 KiB window (max_window_bits=10): the sender
// compresses each message, the receiver inflates it with a limit.
func Example() {
	c := deflate.NewCompressor(6, 10, true)
	d := deflate.NewDecompressor(10, true)
	var wire, msg []byte
	for _, text := range []string{`{"type":"hello","id":1}`, `{"type":"hello","id":2}`} {
		wire = c.Append(wire[:0], []byte(text), true) // the frame payload, RSV1 set
		var err error
		msg, err = d.Append(msg[:0], wire, 1<<20)
		fmt.Printf("%d bytes sent for %q, %v\n", len(wire), msg, err)
	}
	// Output:
	// 25 bytes sent for "{\"type\":\"hello\",\"id\":1}", <nil>
	// 6 bytes sent for "{\"type\":\"hello\",\"id\":2}", <nil>
}
