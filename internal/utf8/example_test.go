package utf8_test

import (
	"fmt"

	"github.com/rfc6455/websocket/internal/utf8"
)

// A text message arrives in frames that cut code points apart; the
// validator carries the open code point from one Write to the next.
func ExampleValidator() {
	var v utf8.Validator
	fmt.Println(v.Write([]byte("caf\xc3")), v.Complete()) // "é" cut after its first byte
	fmt.Println(v.Write([]byte("\xa9!")), v.Complete())

	// Fail fast: 0xED 0xA0 can only start a UTF-16 surrogate, so the
	// message is rejected at 0xA0, before the code point is complete.
	v.Reset()
	fmt.Println(v.Write([]byte("ok \xed")), v.Write([]byte("\xa0")))
	// Output:
	// true false
	// true true
	// true false
}
