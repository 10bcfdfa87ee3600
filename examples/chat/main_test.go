package main

import (
	"testing"

	"github.com/rfc6455/websocket/examples/internal/exampletest"
	"github.com/rfc6455/websocket/internal/testutil"
)

// runMainEnv makes the test binary run main instead of the tests: the
// binary is then the example program, built as go test builds it (with
// the race detector under make test), without a go build of its own.
const runMainEnv = "EXAMPLE_CHAT_RUN_MAIN"

// Every goroutine (handlers, clients, the library's) must be gone at the end.
//
// With runMainEnv set, the test binary is the example itself (see
// signal_test.go): it runs main and exits.
func TestMain(m *testing.M) {
	exampletest.RunMain(runMainEnv, main)
	testutil.VerifyNoLeaks(m)
}
