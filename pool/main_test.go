package pool

import (
	"testing"

	"github.com/rfc6455/websocket/internal/testutil"
)

func TestMain(m *testing.M) { testutil.VerifyNoLeaks(m) }
