package conn

import (
	"errors"
	"io"
	"time"

	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/bufpool"
)

// NextFrame returns the header of the next frame, checked against the
// framing rules and limits (errors are *frame.ProtocolError carrying the
// close code to send). Any payload of the previous frame that was not read is
// discarded first. Control frames come back like any other frame; the caller
// handles them.
func (c *Conn) NextFrame() (frame.Header, error) {
	if c.rerr != nil {
		return frame.Header{}, c.rerr
	}
	if !c.opened {
		return frame.Header{}, errNotOpen
	}
	if c.ctl {
		// The last call stopped (a deadline, ErrWouldBlock) while this
		// control frame's payload was arriving.
		return c.controlFrame()
	}
	for c.dec.Remaining() > 0 {
		if c.r == c.w {
			if err := c.fill(); err != nil {
				return frame.Header{}, err
			}
		}
		n := int(min(c.dec.Remaining(), int64(c.w-c.r)))
		c.dec.Payload(c.rbuf[c.r : c.r+n])
		c.r += n
	}
	for {
		if c.r < c.w {
			n, done, err := c.dec.ParseHeader(c.rbuf[c.r:c.w])
			c.r += n
			if err != nil {
				c.rerr = err
				return frame.Header{}, err
			}
			if done {
				h := c.dec.Header()
				c.stats.framesIn.Add(1)
				if h.Fin && h.Opcode.IsData() {
					c.stats.messagesIn.Add(1)
				}
				if h.Opcode == frame.OpClose {
					c.toClosing()
				}
				if h.Opcode.IsControl() && h.Length > int64(c.w-c.r) {
					c.ctl = true
					return c.controlFrame()
				}
				return h, nil
			}
		}
		if err := c.fill(); err != nil {
			return frame.Header{}, err
		}
	}
}

// controlFrame buffers the whole payload of the control frame whose header
// was just parsed before returning the header, so that a read that stops
// half way (a deadline, ErrWouldBlock) leaves no payload half consumed: the
// next NextFrame returns the same header.
func (c *Conn) controlFrame() (frame.Header, error) {
	need := int(c.dec.Remaining()) // at most 125
	for c.w-c.r < need {
		if len(c.rbuf)-c.r < need {
			if len(c.rbuf) < need {
				// A read buffer configured smaller than a control frame.
				b := make([]byte, max(need, 2*len(c.rbuf)))
				c.w = copy(b, c.rbuf[c.r:c.w])
				c.putReadBuffer()
				c.rbuf, c.r = b, 0
			} else {
				c.w = copy(c.rbuf, c.rbuf[c.r:c.w])
				c.r = 0
			}
		}
		if err := c.fill(); err != nil {
			return frame.Header{}, err
		}
	}
	c.ctl = false
	return c.dec.Header(), nil
}

// PeekOpcode returns the opcode of the next frame without consuming
// anything more: a reader that handles control frames only (the session's
// heartbeat, reading for a connection that nobody else reads) stops before
// a data frame and leaves it, whole, for the next NextFrame. It knows the
// opcode once the first byte of the frame's header is buffered, or once a
// read that stopped half way through the header consumed it (NextFrame
// then goes on with that header). ok is false when no byte of the next
// header has arrived (WaitReadable waits for one) and when the current
// frame still has payload to read. Only the reader may call it.
func (c *Conn) PeekOpcode() (op frame.Opcode, ok bool) {
	switch {
	case c.ctl:
		// A control frame's header was returned, its payload arriving:
		// NextFrame returns that header again.
		return c.dec.Header().Opcode, true
	case c.dec.Remaining() > 0:
		return 0, false
	case c.dec.Partial():
		return c.dec.PartialOpcode()
	case c.r == c.w:
		return 0, false
	}
	return frame.Opcode(c.rbuf[c.r] & 0x0f), true
}

// MaxMessageSize returns the limit on the sum of a data message's frame
// payloads, 0 for none. A layer that decompresses messages applies it to
// their decompressed size too.
func (c *Conn) MaxMessageSize() int64 { return c.dec.MaxMessageSize }

// Remaining returns the payload bytes of the current frame not read yet.
func (c *Conn) Remaining() int64 { return c.dec.Remaining() }

// Read reads payload bytes of the current frame into p, unmasked. It returns
// io.EOF once the frame's payload is exhausted; NextFrame moves on.
func (c *Conn) Read(p []byte) (int, error) {
	rem := c.dec.Remaining()
	if rem == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p)) > rem {
		p = p[:rem]
	}
	if c.r == c.w {
		if c.rerr != nil {
			return 0, c.rerr
		}
		if len(p) >= c.cfg.readBufSize() {
			// Large read: straight into the caller's buffer.
			if c.holds {
				c.releaseHold()
			}
			for {
				n, err := c.t.Read(p)
				if n > 0 {
					c.stats.bytesIn.Add(uint64(n))
					c.dec.Payload(p[:n])
					return n, nil
				}
				if err = c.readErr(err); err != errInterrupt {
					return 0, err
				}
			}
		}
		if err := c.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, c.rbuf[c.r:c.w])
	c.r += n
	c.dec.Payload(p[:n])
	return n, nil
}

// ReadPayload reads the whole remaining payload of the current frame,
// appending it to dst, growing dst as bytes arrive (never by more than twice
// what has arrived). Use it for control frames and small frames.
func (c *Conn) ReadPayload(dst []byte) ([]byte, error) {
	for c.dec.Remaining() > 0 {
		if len(dst) == cap(dst) {
			grow := int(min(c.dec.Remaining(), int64(max(512, cap(dst)))))
			dst = append(dst, make([]byte, grow)...)[:len(dst)]
		}
		n, err := c.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// WaitReadable returns once bytes are buffered for the reader, waiting for
// the socket if none are. A reader that parks here between messages rather
// than deep inside NextFrame keeps its goroutine's stack small, and an idle
// socket connection holds no read buffer while it waits. Errors are those
// of NextFrame: a timeout leaves the connection usable.
func (c *Conn) WaitReadable() error {
	if c.r < c.w {
		return nil
	}
	if c.rerr != nil {
		return c.rerr
	}
	if !c.opened {
		return errNotOpen
	}
	if err := c.fillOnce(); err != errInterrupt {
		return err
	}
	return ErrInterrupted
}

// PauseReading asks a non-blocking Transport to stop reading for d,
// leaving the peer's bytes in the kernel (TCP flow control pushes back on
// the peer), and to call the reader again after d: how a reader on an
// event loop waits without blocking the loop (for memory, say). It reports
// false if the Transport cannot (it has no PauseRead method); blocking
// transports never need to. Only the reader may call it.
func (c *Conn) PauseReading(d time.Duration) bool {
	p, ok := c.t.(interface{ PauseRead(time.Duration) })
	if ok {
		p.PauseRead(d)
	}
	return ok
}

// ResumeReading ends a PauseReading early (the Transport's EndPause), and
// may be called from any goroutine; it does nothing on a Transport that
// cannot pause, or when no pause is under way.
func (c *Conn) ResumeReading() {
	if p, ok := c.t.(interface{ EndPause() }); ok {
		p.EndPause()
	}
}

// fill reads more bytes into the read buffer. It is called only when every
// buffered byte has been consumed by the decoder or handed out, or when a
// partial frame sits at the end of the buffer. An Interrupt meant for
// WaitReadable is absorbed.
func (c *Conn) fill() error {
	for {
		if err := c.fillOnce(); err != errInterrupt {
			return err
		}
	}
}

// floodPause is how long a blocking reader waits before it reads more from
// a peer that floods pings without reading the pongs (AnswerPing left one
// unanswered since the last read). Such a reader never waits otherwise:
// every read finds more pings, so its goroutine is always runnable, and
// the runtime then looks for the other connections' ready sockets only
// when its scheduler has nothing else to run, or every 10 ms (sysmon).
// Pausing once per read buffer, rather than per ping, leaves the CPU to
// the others and still reads a flooder's backlog quickly once it has
// gone (4 KiB every 2 ms, and a pong written after its reset fails the
// connection), so its descriptor is closed soon.
const floodPause = 2 * time.Millisecond

func (c *Conn) fillOnce() error {
	if c.rerr != nil {
		return c.rerr
	}
	if c.holds {
		// About to wait for the socket: what was held goes out now. A
		// write error is the writers' to report.
		c.releaseHold()
	}
	if c.flooded {
		c.flooded = false
		time.Sleep(floodPause)
	}
	if c.r == c.w {
		// Nothing partial is buffered: wait for bytes without holding a
		// buffer, where the Transport can.
		c.r, c.w = 0, 0
		n, err := c.t.ReadLazy((*lender)(c))
		if n > 0 {
			c.w = n
			c.stats.bytesIn.Add(uint64(n))
			return nil
		}
		c.putReadBuffer()
		return c.readErr(err)
	}
	if c.w == len(c.rbuf) {
		c.w = copy(c.rbuf, c.rbuf[c.r:c.w])
		c.r = 0
	}
	n, err := c.t.Read(c.rbuf[c.w:])
	if n > 0 {
		c.w += n
		c.stats.bytesIn.Add(uint64(n))
		return nil
	}
	return c.readErr(err)
}

// ReleaseReadBuffer gives the read buffer back to its pool, dropping
// whatever bytes are still in it, for a reader that will read no more: its
// session has ended. A later read borrows a buffer again. Only the reader
// may call it, as only the reader may call Read.
func (c *Conn) ReleaseReadBuffer() {
	c.r, c.w = 0, 0
	c.putReadBuffer()
}

// getReadBuffer borrows a read buffer from the pool.
func (c *Conn) getReadBuffer() {
	c.rpb = bufpool.Get(c.cfg.readBufSize())
	c.rbuf = c.rpb.B[:cap(c.rpb.B)]
}

// putReadBuffer returns the read buffer, which must be empty, to the pool.
func (c *Conn) putReadBuffer() {
	if c.rpb != nil {
		c.rpb.B = c.rpb.B[:0]
		bufpool.Put(c.rpb)
		c.rpb, c.rbuf = nil, nil
	}
}

// errInterrupt is what readErr makes of the timeout that Interrupt caused.
var errInterrupt = errors.New("websocket: interrupted")

// readErr classifies a read error: timeouts are returned and forgotten,
// anything else ends the read side for good. The timeout Interrupt caused
// becomes errInterrupt, after the deadline set before it is put back.
func (c *Conn) readErr(err error) error {
	if err == nil {
		if c.nb {
			// Would block, not an error: the stream's owner calls the
			// reader again when bytes arrive. With nothing partial
			// buffered, hold no buffer meanwhile.
			if c.r == c.w {
				c.putReadBuffer()
			}
			return ErrWouldBlock
		}
		err = io.ErrNoProgress
	}
	if isTimeout(err) {
		v := c.lockIRQ()
		if v&irqPending != 0 {
			c.t.SetReadDeadline(c.readDeadline())
			c.irq.Store(0)
			return errInterrupt
		}
		c.irq.Store(v)
		return err
	}
	if err == io.EOF && (c.dec.Remaining() > 0 || c.dec.Partial()) {
		err = io.ErrUnexpectedEOF
	}
	c.rerr = err
	return err
}
