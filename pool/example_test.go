package pool_test

import (
	"fmt"

	"github.com/rfc6455/websocket/pool"
)

func ExampleGetBuffer() {
	b := pool.GetBuffer(1000) // rounded up to the 1 KiB class
	defer pool.PutBuffer(b)   // b must not be used after this

	b.B = append(b.B, "hello"...)
	fmt.Println(len(b.B), cap(b.B))
	// Output: 5 1024
}
