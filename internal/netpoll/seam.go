package netpoll

import "time"

// BufferLender lends a read buffer to ReadLazy: the same unnamed interface
// type as conn.BufferLender, so that Socket and Stream satisfy
// conn.Transport without this package importing conn.
type BufferLender = interface {
	Lend() []byte
	Return()
}

// Timer is what AfterFunc returns: the same unnamed interface type as
// conn.Timer. *LoopTimer and *time.Timer are Timers.
type Timer = interface {
	Reset(d time.Duration) bool
	Stop() bool
}
