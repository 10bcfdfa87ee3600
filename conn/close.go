package conn

import (
	"net"
	"time"

	"github.com/rfc6455/websocket/internal/defaults"
)

// Close flushes buffered frames (waiting at most 2 s for a blocked
// write) and closes the socket. It does not run the WebSocket
// close handshake: package session does. It is safe to call more than once
// and from any goroutine.
func (c *Conn) Close() error {
	if c.State() == Closed {
		return nil
	}
	c.t.SetWriteDeadline(time.Now().Add(defaults.CloseFlushTimeout))
	c.wmu.Lock()
	c.flushLocked()
	if c.werr == nil {
		c.werr = net.ErrClosed
	}
	c.wmu.Unlock()
	return c.finish(nil, false)
}

// Abort closes the socket at once, discarding buffered frames; a TCP peer
// sees a reset. err, if not nil, is recorded as the reason the connection
// ended (see Err and Config.OnClose). It is for a connection being failed
// (a read error, a timeout, a failed write); a peer that ended its stream
// with FIN may still read what was sent to it, and gets Close (package
// session does so on io.EOF).
func (c *Conn) Abort(err error) error {
	return c.finish(err, true)
}

func (c *Conn) finish(err error, abort bool) error {
	if err != nil {
		c.closeErr.CompareAndSwap(nil, &err)
	}
	var cerr error
	if !c.finished.Swap(true) {
		if abort {
			cerr = c.t.Abort()
		} else {
			cerr = c.t.Close()
		}
		for {
			s := c.State()
			if s == Closed || c.state.CompareAndSwap(int32(s), int32(Closed)) {
				if h := c.cfg.hooks; s != Closed && h != nil && h.onStateChange != nil {
					h.onStateChange(c, s, Closed)
				}
				break
			}
		}
		if h := c.cfg.hooks; h != nil && h.onClose != nil {
			h.onClose(c, c.Err())
		}
	}
	return cerr
}
