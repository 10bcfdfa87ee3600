package endpoint

import "github.com/rfc6455/websocket/internal/defaults"

// DefaultDelayForTest lets the external tests compare against the
// Dialer's default delay without it being part of the package's API.
const DefaultDelayForTest = defaults.DialAttemptDelay
