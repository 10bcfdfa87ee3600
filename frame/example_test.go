package frame_test

import (
	"errors"
	"fmt"

	"github.com/rfc6455/websocket/frame"
)

// A client encodes a masked text frame: the header, then the payload masked
// in place with the header's key.
func ExampleAppendHeader() {
	payload := []byte("Hello")
	h := frame.Header{
		Fin:    true,
		Opcode: frame.OpText,
		Masked: true,
		Mask:   [4]byte{0x37, 0xfa, 0x21, 0x3d}, // a fresh key from crypto/rand in real code (§5.3)
		Length: int64(len(payload)),
	}
	buf := frame.AppendHeader(nil, h)
	start := len(buf)
	buf = append(buf, payload...)
	frame.Mask(h.Mask, 0, buf[start:])
	fmt.Printf("% x\n", buf)
	// Output: 81 85 37 fa 21 3d 7f 9f 4d 51 58
}

// A server decodes frames from bytes that arrive in arbitrary pieces; here
// a masked "Hel" + "lo" text message with a ping in between, cut at awkward
// places.
func ExampleDecoder() {
	arrivals := [][]byte{
		{0x01, 0x83, 0x01, 0x02},                         // text, not final, masked, length 3; half the key
		{0x03, 0x04, 0x49, 0x67, 0x6f, 0x89},             // rest of the key, "Hel" masked; ping starts
		{0x80, 0x00, 0x00, 0x00, 0x00},                   // ping, masked with a zero key, empty
		{0x80, 0x82, 0x10, 0x20, 0x30, 0x40, 0x7c, 0x4f}, // final continuation, "lo" masked
	}
	d := frame.Decoder{ExpectMasked: true, MaxMessageSize: 1 << 20}
	for _, p := range arrivals {
		for len(p) > 0 {
			if d.Remaining() > 0 {
				n := d.Payload(p) // unmasks in place
				fmt.Printf("  payload %q\n", p[:n])
				p = p[n:]
				continue
			}
			n, done, err := d.ParseHeader(p)
			if err != nil {
				var pe *frame.ProtocolError
				if errors.As(err, &pe) {
					fmt.Println("fail the connection with", pe.Code)
				}
				return
			}
			p = p[n:]
			if done {
				h := d.Header()
				fmt.Printf("%v fin=%v length=%d message=%v\n", h.Opcode, h.Fin, h.Length, d.MessageOpcode())
			}
		}
	}
	// Output:
	// text fin=false length=3 message=text
	//   payload "Hel"
	// ping fin=true length=0 message=text
	// continuation fin=true length=2 message=text
	//   payload "lo"
}

func ExampleParseClosePayload() {
	code, reason, err := frame.ParseClosePayload([]byte{0x03, 0xE9, 'b', 'y', 'e'})
	fmt.Println(code, reason, err)
	_, _, err = frame.ParseClosePayload([]byte{0x03, 0xED})
	fmt.Println(err)
	// Output:
	// 1001 (going away) bye <nil>
	// websocket: protocol error: invalid close status code (close 1002)
}
