package bufpool_test

import (
	"fmt"

	"github.com/rfc6455/websocket/internal/bufpool"
)

func ExampleGet() {
	b := bufpool.Get(1000) // rounded up to the 1 KiB class
	defer bufpool.Put(b)   // b must not be used after this

	b.B = append(b.B, "hello"...)
	fmt.Println(len(b.B), cap(b.B))
	// Output: 5 1024
}
