package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// poll handles whatever the peer has sent so far without blocking.
func (c *conn) poll() {
	c.mu.Lock()
	items := c.queue
	c.queue = nil
	c.mu.Unlock()
	for _, it := range items {
		c.handle(it)
	}
}

// waitUntil handles incoming frames until cond holds, TCP is closed, or the
// deadline passes; it reports cond().
func (c *conn) waitUntil(deadline time.Time, cond func() bool) bool {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	for {
		c.poll()
		if cond() {
			return true
		}
		if c.tcpClosed {
			return false
		}
		select {
		case <-c.signal:
		case <-t.C:
			c.poll()
			return cond()
		}
	}
}

// pause waits d (in units of the runner's time scale), reacting to the peer.
func (c *conn) pause(d float64) {
	c.waitUntil(time.Now().Add(c.opts.scale(d)), func() bool { return false })
}

// checkpoint pauses, then records a timeout event named tag if the
// connection is still open; it reports whether it was.
func (c *conn) checkpoint(d float64, tag string) bool {
	c.pause(d)
	if !c.open() {
		return false
	}
	c.received = append(c.received, timeoutEv(tag))
	c.log(wireEntry{Dir: "note", Text: "checkpoint " + tag})
	return true
}

// next waits up to d for the next recorded event after index i.
func (c *conn) next(i int, d time.Duration) (Event, bool) {
	ok := c.waitUntil(time.Now().Add(d), func() bool { return len(c.received) > i })
	if !ok {
		return Event{}, false
	}
	return c.received[i], true
}

func (c *conn) handle(it inItem) {
	if c.tcpClosed {
		return
	}
	if it.err != nil {
		c.tcpLost(it.err)
		return
	}
	f := it.f
	c.log(wireEntry{Dir: "rx", Opcode: f.Opcode.String(), Fin: f.Fin, RSV: f.RSV, Masked: f.Masked,
		Len: len(f.Payload), Payload: describePayload(f.Payload, f.Opcode == OpText)})
	if c.closeRecv {
		c.note("peer sent a %s frame after its close frame", f.Opcode)
		return
	}
	switch {
	case f.RSV != 0 && c.pmd == nil:
		c.fail(CloseProtocolError, fmt.Sprintf("peer set RSV bits %03b without a negotiated extension", f.RSV))
		return
	case f.RSV != 0 && !(c.failedByMe && c.closeSent) && !c.rsvAllowed(f):
		// (Once we have failed the connection, the rest of a message in
		// flight is discarded below, whatever its RSV bits.)
		return
	case !f.Opcode.isDefined():
		c.fail(CloseProtocolError, fmt.Sprintf("peer used reserved opcode %d", byte(f.Opcode)))
		return
	case c.role == RoleClient && f.Masked:
		c.fail(CloseProtocolError, "server sent a masked frame")
		return
	case c.role == RoleServer && !f.Masked:
		c.fail(CloseProtocolError, "client sent an unmasked frame")
		return
	case f.Opcode.isControl() && !f.Fin:
		c.fail(CloseProtocolError, "peer fragmented a control frame")
		return
	case f.Opcode.isControl() && len(f.Payload) > 125:
		c.fail(CloseProtocolError, "peer sent a control frame longer than 125 bytes")
		return
	}
	if c.failedByMe && c.closeSent && !f.Opcode.isControl() {
		// RFC 6455 §5.5.1: a peer may still send the rest of a fragmented
		// message after a close frame. Once we have failed the connection,
		// data frames still in flight are read and discarded, not judged.
		// (After a normal close they still count: 7.1.1 expects the echo
		// of a message sent just before the close.)
		c.note("discarded a %s frame that arrived after our close frame", f.Opcode)
		return
	}
	switch f.Opcode {
	case OpClose:
		c.onClose(f.Payload)
	case OpPing:
		c.record(Event{Kind: EventPing, Payload: f.Payload})
		if !c.closeSent {
			c.send(OpPong, f.Payload)
		}
	case OpPong:
		c.record(Event{Kind: EventPong, Payload: f.Payload})
	case OpContinuation:
		if !c.inMsg {
			c.fail(CloseProtocolError, "peer sent a continuation frame with no message to continue")
			return
		}
		c.onData(f)
	default: // text or binary
		if c.inMsg {
			c.fail(CloseProtocolError, "peer started a new message inside a fragmented one")
			return
		}
		c.inMsg, c.msgOp, c.msgBuf, c.utf8Checked = true, f.Opcode, c.msgBuf[:0], 0
		c.msgCompressed = f.RSV&rsv1 != 0
		c.onData(f)
	}
}

func (c *conn) onData(f *frame) {
	if int64(len(c.msgBuf))+int64(len(f.Payload)) > c.opts.maxMessage() {
		c.fail(CloseTooBig, "peer's message exceeds the runner's limit")
		return
	}
	c.msgBuf = append(c.msgBuf, f.Payload...)
	if c.msgOp == OpText && !c.msgCompressed {
		var ok bool
		if c.utf8Checked, ok = utf8From(c.msgBuf, c.utf8Checked); !ok {
			c.fail(CloseInvalidPayload, "peer sent a text message that is not valid UTF-8")
			return
		}
	}
	if !f.Fin {
		return
	}
	c.inMsg = false
	payload := c.msgBuf
	if c.msgCompressed {
		out, err := c.pmd.decompress(c.msgBuf, c.opts.maxMessage())
		switch {
		case errors.Is(err, errTooLong):
			c.fail(CloseTooBig, "peer's decompressed message exceeds the runner's limit")
			return
		case err != nil:
			c.compressionViolation(CloseInvalidPayload, fmt.Sprintf("peer sent an %v", err))
			return
		}
		payload = out
	}
	if c.msgOp == OpText && !utf8.Valid(payload) {
		c.fail(CloseInvalidPayload, "peer sent a text message that ends inside a UTF-8 sequence")
		return
	}
	if !c.msgCompressed {
		payload = bytes.Clone(payload)
	}
	c.record(Event{Kind: EventMessage, Binary: c.msgOp == OpBinary, Payload: payload})
	if cap(c.msgBuf) > 1<<20 {
		c.msgBuf = nil // do not pin a 16 MiB buffer for the rest of the case
	}
}

// rsv1 is the RSV1 bit in frame.RSV: "compressed" for permessage-deflate.
const rsv1 = 4

// rsvAllowed checks the RSV bits of a frame once permessage-deflate is in
// use (RFC 7692 §6): RSV1 may be set on the first frame of a data message
// only; RSV2 and RSV3 stay reserved. It fails the connection otherwise.
func (c *conn) rsvAllowed(f *frame) bool {
	switch {
	case f.RSV&^rsv1 != 0:
		c.compressionViolation(CloseProtocolError, fmt.Sprintf("peer set RSV bits %03b; only RSV1 is negotiated", f.RSV))
	case f.Opcode == OpContinuation:
		c.compressionViolation(CloseProtocolError, "peer set RSV1 on a continuation frame; it belongs on the first frame of a message only")
	case f.Opcode.isControl():
		c.compressionViolation(CloseProtocolError, fmt.Sprintf("peer set RSV1 on a %s frame; control frames are never compressed", f.Opcode))
	default:
		return true
	}
	return false
}

// compressionViolation fails the connection for a broken compression rule
// and remembers the first one: it makes the case FAILED.
func (c *conn) compressionViolation(code int, why string) {
	if c.violation == "" {
		c.violation = why
		// The verdict is FAILED already; a peer that echoes our close
		// code closes correctly.
		if !slices.Contains(c.expectClose.Codes, code) {
			c.expectClose.Codes = append(c.expectClose.Codes, code)
		}
	}
	c.fail(code, why)
}
