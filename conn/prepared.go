package conn

import (
	"github.com/rfc6455/websocket/frame"
)

// Prepared is one whole frame (FIN set, no RSV bits) encoded once, so that
// a message sent to many connections is framed once and every server
// connection writes the very same bytes. It is immutable after Prepare and
// safe for concurrent use by any number of connections.
type Prepared struct {
	op    frame.Opcode
	wire  []byte // the unmasked header and payload, as a server sends them
	hsize int
}

// Prepare encodes a frame with opcode op and payload for WritePrepared. The
// payload is copied. A control frame's payload must be at most 125 bytes,
// or WritePrepared refuses it.
func Prepare(op frame.Opcode, payload []byte) *Prepared {
	h := frame.Header{Fin: true, Opcode: op, Length: int64(len(payload))}
	b := make([]byte, 0, h.Size()+len(payload))
	b = frame.AppendHeader(b, h)
	b = append(b, payload...)
	return &Prepared{op: op, wire: b, hsize: h.Size()}
}

// Opcode returns the frame's opcode.
func (p *Prepared) Opcode() frame.Opcode { return p.op }

// payload returns the frame's payload.
func (p *Prepared) payload() []byte { return p.wire[p.hsize:] }

// WritePrepared writes the frame p. A server connection writes p's bytes as
// they are, without encoding or copying them when nothing else is waiting to
// be written; a client connection must mask with a fresh key, so it writes p
// like WriteFrame. Coalescing, the errors and the stats are those of
// WriteFrame.
func (c *Conn) WritePrepared(p *Prepared) error {
	if c.role == Client {
		return c.WriteFrame(p.op, true, 0, p.payload())
	}
	if p.op.IsControl() && len(p.wire)-p.hsize > frame.MaxControlPayload {
		return errControlFrame()
	}
	last, err := c.lockWrite()
	if err != nil {
		return err
	}
	flush := last && !c.corked && !c.held
	err = c.writePreparedLocked(p, flush)
	if err == nil && flush {
		err = c.flushLocked()
	}
	c.wmu.Unlock()
	return err
}

func (c *Conn) writePreparedLocked(p *Prepared, flush bool) error {
	if c.werr != nil {
		return c.werr
	}
	if !c.opened {
		return errNotOpen
	}
	if c.sentClose {
		return ErrCloseSent
	}
	if !flush && len(p.wire) <= maxCoalesce {
		// Another writer will flush the batch: join it.
		b := c.buffer(len(p.wire))
		if len(b)+len(p.wire) <= cap(b) {
			c.wbuf.B = append(b, p.wire...)
			c.sentFrame(p.op, true)
			return nil
		}
	}
	// What is buffered and the frame in one writev, the frame not copied.
	var b []byte
	if c.wbuf != nil {
		b = c.wbuf.B
	}
	_, err := c.writev(b, p.wire)
	if c.wbuf != nil {
		c.wbuf.B = b[:0]
	}
	if err != nil {
		return err
	}
	c.sentFrame(p.op, true)
	return nil
}
