//go:build js && wasm

package websocket

import (
	"time"

	"github.com/rfc6455/websocket/internal/defaults"
)

// Options are the settings of a browser connection: the native build's
// fields that mean something in a browser, with the same names and
// defaults. The rest (buffer and frame sizes, fragmentation, write
// timeouts, the heartbeat, idle timeouts, the send queue, ping and pong
// hooks, compression) belong to the browser, which offers no control over
// them, and are absent here, so that code setting them fails to compile
// for the browser rather than being silently ignored.
type Options struct {
	// MaxMessageSize is the largest message accepted. The browser has
	// already received a message whole when it hands it over, so a larger
	// one is refused then: the connection ends with a 1009 CloseError.
	// It also bounds the read queue (see Conn). Default 1 MiB. Negative
	// means no limit.
	MaxMessageSize int64

	// CloseTimeout bounds how long Close waits for the browser to finish
	// the close handshake. Default 5 s.
	CloseTimeout time.Duration

	// OnMessage receives each message in push style (Conn.Serve). data is
	// valid only during the call; messages arrive one at a time, in order.
	OnMessage func(c *Conn, typ MessageType, data []byte)

	// OnClose, if set, is called once when the connection has ended, with
	// how (a *CloseError), on a goroutine of its own.
	OnClose func(c *Conn, err error)
}

// maxMessageSize returns the limit in effect; negative means none.
func (o *Options) maxMessageSize() int64 {
	if o.MaxMessageSize == 0 {
		return defaults.MaxMessageSize
	}
	return o.MaxMessageSize
}
