package conn

import (
	"crypto/rand"
	"net"
	"sync"
	"time"

	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/bufpool"
)

// WriteFrame writes one frame: fin, the RSV bits rsv, opcode op and
// payload, masked if this is a client. It is safe to call from many
// goroutines. When other writers are waiting, the frame is left in the
// write buffer and the last of them writes the batch in one system call; a
// nil error then means the frame was accepted into a batch, and a failure of
// that batch shows up as the sticky error of every later call.
//
// Control frames must have payloads of at most 125 bytes and fin set. After
// a close frame has been written, only control frames other than close are
// refused too: data frames get ErrCloseSent.
func (c *Conn) WriteFrame(op frame.Opcode, fin bool, rsv uint8, payload []byte) error {
	if op.IsControl() && (len(payload) > frame.MaxControlPayload || !fin) {
		return errControlFrame()
	}
	last, err := c.lockWrite()
	if err != nil {
		return err
	}
	err = c.writeLocked(op, fin, rsv, payload)
	if err == nil && last && !c.corked && !c.held {
		err = c.flushLocked()
	}
	c.wmu.Unlock()
	return err
}

// AnswerPing writes the pong that answers a ping whose payload is p,
// unless the peer is not reading its pongs: when the last pong has not
// left yet and more than pongBacklog bytes wait to be sent, it writes
// nothing and counts the ping (Stats.PingsUnanswered). A peer that floods
// pings and reads nothing then costs a bounded queue rather than a pong
// per ping, while a peer that is slow to read a large download still has
// its occasional ping answered (its last pong left long ago). RFC 6455
// §5.5.3 lets an endpoint answer only some of several pings it has not
// yet answered; the peer gets a pong again once it reads what was sent.
//
// How much waits is the transport's to say (an Unsent method: the event
// loops' sockets, and the goroutine mode's sockets on Linux); over one
// that cannot tell, every ping is answered, and a peer that does not read
// holds up the writer instead, as any other write does.
func (c *Conn) AnswerPing(p []byte) error {
	if len(p) > frame.MaxControlPayload {
		return errControlFrame()
	}
	if c.flooded {
		// Left unanswered since the last read: the next read pauses
		// first; until then the pongs stay stuck (no need to ask).
		c.stats.pingsUnanswered.Add(1)
		return nil
	}
	last, err := c.lockWrite()
	if err != nil {
		return err
	}
	if c.pongStuck() {
		c.wmu.Unlock()
		c.stats.pingsUnanswered.Add(1)
		// A blocking reader whose peer floods pings never waits: every
		// read finds the next ping. Its next refill pauses (fillOnce);
		// an event loop bounds its sockets' share itself.
		c.flooded = !c.nb
		return nil
	}
	err = c.writeLocked(frame.OpPong, true, 0, p)
	if err == nil {
		c.pongEnd = c.stats.bytesOut.Load()
		if c.wbuf != nil {
			c.pongEnd += uint64(len(c.wbuf.B))
		}
		if last && !c.corked && !c.held {
			err = c.flushLocked()
		}
	}
	c.wmu.Unlock()
	return err
}

// pongBacklog is how many bytes may wait in the transport, unsent, before
// a ping finds the peer not reading its pongs (if the last pong is among
// them). 4 KiB is a few dozen pongs and far less than a socket's send
// buffer, so the goroutine mode's kernel queue reaches it before a pong's
// write would block.
const pongBacklog = 4 << 10

// pongStuck reports whether the last pong written has not left yet while
// more than pongBacklog bytes wait in the transport. wmu is held.
func (c *Conn) pongStuck() bool {
	if c.pongEnd == 0 {
		return false
	}
	u, ok := c.t.(interface{ Unsent() int })
	if !ok {
		return false
	}
	n := u.Unsent()
	if n <= pongBacklog {
		return false
	}
	// The stream has sent out-n bytes; the pong ends at pongEnd, past
	// out while it is still in the write buffer.
	out := c.stats.bytesOut.Load()
	return c.pongEnd > out || uint64(n) > out-c.pongEnd
}

// errControlFrame refuses a control frame that RFC 6455 §5.5 forbids: a
// payload over 125 bytes, or fragmented. Each call gives a value of the
// caller's own (a ProtocolError's fields are exported).
func errControlFrame() error {
	return &frame.ProtocolError{Code: frame.StatusProtocolError, Reason: "invalid control frame"}
}

// lockWrite takes the write lock for one frame, after waiting for room on
// a non-blocking transport (with no lock held: see Transport.WaitRoom). last
// reports that no other writer waits behind this one: whoever is last
// flushes the batch.
func (c *Conn) lockWrite() (last bool, err error) {
	if c.nb {
		if err := c.t.WaitRoom(c.cfg.writeTimeout); err != nil {
			return false, err
		}
	}
	c.waiting.Add(1)
	c.wmu.Lock()
	return c.waiting.Add(-1) == 0, nil
}

// Cork holds frames in the write buffer until Uncork (or a full buffer), so
// that replies produced while handling a batch of incoming frames leave in
// one system call.
func (c *Conn) Cork() {
	c.wmu.Lock()
	c.corked = true
	c.wmu.Unlock()
}

// Uncork ends Cork and writes whatever is buffered.
func (c *Conn) Uncork() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.corked = false
	return c.flushLocked()
}

// CorkUntilRead holds frames in the write buffer until the reader next has
// to wait for the socket (or until Flush, or a full buffer). A reader that
// has more frames buffered calls it before handling the one it has, so
// that the replies to a whole batch of frames leave in one system call;
// the added latency is bounded by the time it takes to handle frames that
// have already arrived. Only the reading goroutine may call it.
func (c *Conn) CorkUntilRead() {
	if c.holds {
		return
	}
	c.holds = true
	c.wmu.Lock()
	c.held = true
	c.wmu.Unlock()
}

// releaseHold ends CorkUntilRead and writes what it held.
func (c *Conn) releaseHold() error {
	c.holds = false
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.held = false
	if c.corked {
		return nil
	}
	return c.flushLocked()
}

// ReleaseWrites ends CorkUntilRead at once (a reader that stops reading
// calls it). Only the reading goroutine may call it.
func (c *Conn) ReleaseWrites() error {
	if !c.holds {
		return nil
	}
	return c.releaseHold()
}

// Flush writes whatever is buffered, even while corked.
func (c *Conn) Flush() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.flushLocked()
}

// Buffered reports whether bytes are waiting in the read buffer, that is
// whether the next NextFrame may complete without a system call.
func (c *Conn) Buffered() int { return c.w - c.r }

// maxCoalesce is the largest frame that is copied into the write buffer;
// larger unmasked frames go out with writev, larger masked ones are masked
// through the buffer in chunks.
const maxCoalesce = 64 << 10

// buffer makes sure a write buffer is held, big enough for need bytes when
// need is small enough to coalesce.
func (c *Conn) buffer(need int) []byte {
	if c.wbuf == nil {
		size := c.cfg.writeBufSize()
		if need <= maxCoalesce {
			size = max(size, need)
		}
		c.wbuf = bufpool.Get(size)
	}
	return c.wbuf.B
}

func (c *Conn) writeLocked(op frame.Opcode, fin bool, rsv uint8, payload []byte) error {
	if c.werr != nil {
		return c.werr
	}
	if !c.opened {
		return errNotOpen
	}
	if c.sentClose {
		return ErrCloseSent
	}
	h := frame.Header{Fin: fin, Rsv: rsv, Opcode: op, Length: int64(len(payload))}
	if c.role == Client {
		h.Masked = true
		h.Mask = c.maskKey()
	}
	need := h.Size() + len(payload)
	b := c.buffer(need)
	if len(b)+need > cap(b) && len(b) > 0 && (c.role == Client || len(b)+h.Size() > cap(b)) {
		// Make room: a masked frame is copied through the buffer, and an
		// unmasked one needs at least room for its header.
		if err := c.flushLocked(); err != nil {
			return err
		}
		b = c.buffer(need)
	}
	switch {
	case len(b)+need <= cap(b):
		b = frame.AppendHeader(b, h)
		start := len(b)
		b = append(b, payload...)
		if h.Masked {
			frame.Mask(h.Mask, 0, b[start:])
		}
		c.wbuf.B = b
	case !h.Masked:
		// Large unmasked frame: what is buffered, the header and the
		// payload in one writev, without copying the payload.
		b = frame.AppendHeader(b, h)
		_, err := c.writev(b, payload)
		c.wbuf.B = b[:0]
		if err != nil {
			return err
		}
	default:
		// Large masked frame (the buffer is empty here): mask it through
		// the buffer, one buffer-full at a time.
		b = frame.AppendHeader(b, h)
		pos := 0
		for len(payload) > 0 {
			n := min(cap(b)-len(b), len(payload))
			start := len(b)
			b = append(b, payload[:n]...)
			pos = frame.Mask(h.Mask, pos, b[start:])
			payload = payload[n:]
			if len(b) == cap(b) && len(payload) > 0 {
				c.wbuf.B = b
				if err := c.writeBuffered(); err != nil {
					return err
				}
				b = c.wbuf.B
			}
		}
		c.wbuf.B = b
	}
	c.sentFrame(op, fin)
	return nil
}

// sentFrame counts a frame accepted for writing and notes a close frame.
func (c *Conn) sentFrame(op frame.Opcode, fin bool) {
	c.stats.framesOut.Add(1)
	if fin && op.IsData() {
		c.stats.messagesOut.Add(1)
	}
	if op == frame.OpClose {
		c.sentClose = true
		c.toClosing()
	}
}

// iovec is the scratch of writev, pooled: few writes need it, and every
// connection would otherwise carry it.
type iovec struct {
	arr  [2][]byte
	bufs net.Buffers
}

var iovecs = sync.Pool{New: func() any { return new(iovec) }}

// writev writes a and b in one system call where the connection can,
// bounded by WriteTimeout.
func (c *Conn) writev(a, b []byte) (int64, error) {
	v := iovecs.Get().(*iovec)
	v.arr[0], v.arr[1] = a, b
	v.bufs = v.arr[:]
	n, err := c.writeTo(&v.bufs)
	v.arr[0], v.arr[1], v.bufs = nil, nil, nil
	iovecs.Put(v)
	return n, err
}

// writeTo writes bufs to the socket, bounded by WriteTimeout.
func (c *Conn) writeTo(bufs *net.Buffers) (int64, error) {
	if c.cfg.writeTimeout > 0 {
		c.t.SetWriteDeadline(time.Now().Add(c.cfg.writeTimeout))
	}
	n, err := c.t.Writev(bufs)
	c.stats.bytesOut.Add(uint64(n))
	if err != nil {
		c.werr = err
	}
	return n, err
}

// writeBuffered writes the buffered frames and keeps the buffer, emptied.
func (c *Conn) writeBuffered() error {
	if c.werr != nil {
		return c.werr
	}
	b := c.wbuf
	if b == nil || len(b.B) == 0 {
		return nil
	}
	if c.cfg.writeTimeout > 0 {
		c.t.SetWriteDeadline(time.Now().Add(c.cfg.writeTimeout))
	}
	n, err := c.t.Write(b.B)
	c.stats.bytesOut.Add(uint64(n))
	b.B = b.B[:0]
	if err != nil {
		c.werr = err
	}
	return err
}

// flushLocked writes the buffered frames and returns the buffer to its
// pool, so that an idle connection holds no write buffer.
func (c *Conn) flushLocked() error {
	err := c.writeBuffered()
	if c.wbuf != nil {
		bufpool.Put(c.wbuf)
		c.wbuf = nil
	}
	return err
}

// maskKey returns a fresh random mask key. Keys come from crypto/rand in
// batches of 16 to keep the cost off each frame.
func (c *Conn) maskKey() [4]byte {
	if c.keys.pos+4 > len(c.keys.b) {
		rand.Read(c.keys.b[:])
		c.keys.pos = 0
	}
	var k [4]byte
	copy(k[:], c.keys.b[c.keys.pos:])
	c.keys.pos += 4
	return k
}
