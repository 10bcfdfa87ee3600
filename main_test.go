package websocket_test

import (
	"testing"

	"github.com/rfc6455/websocket/internal/testutil"
)

// TestMain fails the run if any goroutine outlives the tests.
func TestMain(m *testing.M) { testutil.VerifyNoLeaks(m) }
