package conformance

import (
	"encoding/binary"
	"errors"
	"net"
	"time"
)

func (c *conn) onClose(p []byte) {
	c.closeRecv = true
	if len(p) >= 2 {
		code := int(binary.BigEndian.Uint16(p))
		c.remoteCode = &code
		c.remoteReason = string(p[2:])
	}
	if msg := closeError(p); msg != "" {
		c.note("peer's close frame is invalid: %s", msg)
	}
	if !c.closeSent {
		// Echo the peer's code when it is one that may be sent; otherwise
		// answer with a bare close.
		code := -1
		if c.remoteCode != nil && validCloseCode(*c.remoteCode) {
			code = *c.remoteCode
		}
		c.sendClose(code, nil)
	}
	// The closing handshake is complete. A server closes TCP now (§7.1.1);
	// a client waits for the server to do it, in finish.
	if c.role == RoleServer {
		c.wasClean = true
		c.drop("close handshake complete")
	}
}

// fail reacts to a protocol violation by the peer the way a conformant
// endpoint does: it starts the closing handshake with code.
func (c *conn) fail(code int, why string) {
	c.note("%s", why)
	c.failedByMe = true
	c.inMsg = false
	if !c.closeSent {
		c.sendClose(code, nil)
	} else {
		c.drop("protocol violation while closing")
	}
}

// tcpLost records the end of the TCP connection as seen by the reader.
func (c *conn) tcpLost(err error) {
	c.tcpClosed = true
	if c.closeSent && c.closeRecv {
		c.wasClean = true
	} else if c.wasNotCleanReason == "" {
		c.wasNotCleanReason = "peer dropped the TCP connection without a completed closing handshake"
	}
	if !errors.Is(err, net.ErrClosed) {
		c.log(wireEntry{Dir: "note", Text: "TCP closed by peer: " + err.Error()})
	}
	c.nc.Close()
}

// drop closes TCP from our side.
func (c *conn) drop(why string) {
	if c.tcpClosed {
		return
	}
	c.droppedByMe = true
	c.tcpClosed = true
	if !(c.closeSent && c.closeRecv) && c.wasNotCleanReason == "" {
		c.wasNotCleanReason = "runner dropped the TCP connection: " + why
	}
	c.log(wireEntry{Dir: "note", Text: "runner drops TCP: " + why})
	c.nc.Close()
}

// killAfter ends a script the way the suite's kill timer does: wait d for
// the case to finish on its own, then fail the connection with a close frame
// (1001), then wait for the end.
func (c *conn) killAfter(d float64) {
	// Unlike the suite, a closing handshake already under way when the timer
	// fires gets the full close timeout (in finish) rather than a drop: with
	// a shortened TimeUnit a busy machine would otherwise judge a conformant
	// peer UNCLEAN.
	if c.waitUntil(time.Now().Add(c.opts.scale(d)), func() bool { return c.closeSent }); !c.tcpClosed && !c.closeSent {
		c.log(wireEntry{Dir: "note", Text: "kill timer fired"})
		c.failedByMe = true
		c.sendClose(CloseGoingAway, []byte("Going Away"))
	}
	c.finish()
}

// closeAfter waits d, then starts a closing handshake without status code
// if the connection is still up, then waits for the end.
func (c *conn) closeAfter(d float64) {
	if c.waitUntil(time.Now().Add(c.opts.scale(d)), func() bool { return false }); !c.tcpClosed {
		c.log(wireEntry{Dir: "note", Text: "close timer fired"})
		c.sendClose(-1, nil)
	}
	c.finish()
}

// finish waits for the closing handshake and the TCP close, bounded by the
// close timeout, and drops TCP if they do not come.
func (c *conn) finish() {
	if !c.tcpClosed {
		c.waitUntil(time.Now().Add(c.opts.closeTimeout()), func() bool { return c.tcpClosed })
	}
	if !c.tcpClosed {
		switch {
		case c.closeSent && c.closeRecv:
			c.wasNotCleanReason = "peer did not close TCP after the closing handshake (in time)"
		case c.closeSent:
			c.wasNotCleanReason = "peer did not answer the close frame (in time)"
		}
		c.drop("close timeout")
	}
	c.nc.Close()
	<-c.done
}
