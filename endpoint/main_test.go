package endpoint_test

import (
	"testing"

	"github.com/rfc6455/websocket/internal/testutil"
)

// TestMain fails the run if a test leaves a goroutine behind: a Dialer
// must join every attempt it starts.
func TestMain(m *testing.M) { testutil.VerifyNoLeaks(m) }
