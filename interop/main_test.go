package interop

import (
	"testing"

	"github.com/rfc6455/websocket/internal/testutil"
)

// Every goroutine our side started (handlers, senders, the library's own)
// must be gone when the tests end.
func TestMain(m *testing.M) { testutil.VerifyNoLeaks(m) }
