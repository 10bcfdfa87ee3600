package endpoint

// DefaultDelayForTest lets the external tests compare against the
// Dialer's default delay without it being part of the package's API.
const DefaultDelayForTest = defaultDelay
