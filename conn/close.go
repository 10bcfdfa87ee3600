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
	return c.closeAfterFlush(closeGraceful)
}

// CloseLingering is Close for a connection being failed while its peer may
// still be sending (a message refused part way, a protocol error): after
// the buffered frames (the close frame among them) it ends the write side
// of the stream, and reads and discards what still arrives for at most
// 1 s (defaults.CloseLinger) before it closes the stream. A socket closed
// with unread bytes makes TCP reset the connection, and a peer reset while
// it is still writing may never read the close frame that says why. A
// Transport that is not a Lingerer is closed as by Close. It returns
// without waiting for the linger; the Conn is Closed at once.
func (c *Conn) CloseLingering() error {
	return c.closeAfterFlush(closeLingering)
}

// How finish closes the Transport.
type closing uint8

const (
	closeGraceful  closing = iota // Close: after what was written
	closeLingering                // Lingerer.CloseLingering, or Close
	closeAbort                    // Abort: at once, a reset
)

func (c *Conn) closeAfterFlush(how closing) error {
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
	return c.finish(nil, how)
}

// Abort closes the socket at once, discarding buffered frames; a TCP peer
// sees a reset. err, if not nil, is recorded as the reason the connection
// ended (see Err and Config.OnClose). It is for a connection being failed
// (a read error, a timeout, a failed write); a peer that ended its stream
// with FIN may still read what was sent to it, and gets Close (package
// session does so on io.EOF).
func (c *Conn) Abort(err error) error {
	return c.finish(err, closeAbort)
}

func (c *Conn) finish(err error, how closing) error {
	if err != nil {
		c.closeErr.CompareAndSwap(nil, &err)
	}
	var cerr error
	if !c.finished.Swap(true) {
		switch l, ok := c.t.(Lingerer); {
		case how == closeAbort:
			cerr = c.t.Abort()
		case how == closeLingering && ok:
			cerr = l.CloseLingering()
		default:
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
