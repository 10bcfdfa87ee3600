package netpoll

import (
	"time"

	"github.com/rfc6455/websocket/internal/errs"
)

// ErrSlowConsumer is the write error of a socket whose peer let more than
// 64 MiB wait to be sent (see Socket.WaitRoom). It is the one value of
// that meaning (errs.ErrSlowConsumer), which session and the root
// re-export: errors.Is matches it whichever layer ended the connection.
var ErrSlowConsumer = errs.ErrSlowConsumer

// bufferLender lends a read buffer to ReadLazy: the same unnamed interface
// type as conn.Transport.ReadLazy's, so that Socket and Stream satisfy
// conn.Transport without this package importing conn.
type bufferLender = interface {
	Lend() []byte
	Return()
}

// timer is what AfterFunc returns: the same unnamed interface type as
// conn.Transport.AfterFunc returns. *LoopTimer and *time.Timer are ones.
type timer = interface {
	Reset(d time.Duration) bool
	Stop() bool
}
