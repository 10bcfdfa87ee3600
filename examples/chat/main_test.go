package main

import (
	"testing"

	"github.com/rfc6455/websocket/internal/testutil"
)

// Every goroutine (handlers, clients, the library's) must be gone at the end.
func TestMain(m *testing.M) { testutil.VerifyNoLeaks(m) }
