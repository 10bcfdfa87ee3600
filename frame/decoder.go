package frame

// Decoder reads frames from a byte stream as a resumable state machine. It
// does no I/O: the caller feeds it whatever bytes have arrived, in pieces of
// any size, and the Decoder keeps every piece of partial state itself, so an
// interrupted read (a deadline, a non-blocking socket with nothing more to
// give) loses nothing.
//
// The cycle per frame is: call ParseHeader until it reports done, then call
// Payload until Remaining returns 0, then ParseHeader again. ParseHeader
// validates each header before it is reported: the per-frame rules of
// CheckHeader, the fragmentation rules of §5.4, and the size limits, so a
// declared length is never trusted before it has been checked.
//
// After ParseHeader has returned an error the Decoder is unusable: the
// error is a protocol violation by the peer and the connection must be
// failed. Later calls to ParseHeader return the same error and Payload
// consumes nothing. A new connection needs a fresh Decoder: assign a new
// Decoder value with the same configuration fields to reuse the memory.
//
// The zero value is a client-side decoder with no extensions and no
// limits. A Decoder is not safe for concurrent use; it belongs to the
// connection's reader.
type Decoder struct {
	// ExpectMasked is true on the server side: frames from a client must
	// be masked, frames from a server must not (§5.1).
	ExpectMasked bool

	// AllowedRsv holds the RSV bits, as in Header.Rsv, that negotiated
	// extensions allow on the first frame of a data message; Rsv1 when
	// permessage-deflate is in use. Any RSV bit on a continuation or
	// control frame is a protocol error.
	AllowedRsv uint8

	// MaxFrameSize, when positive, is the largest payload a data frame
	// may declare; a larger one is rejected with code 1009 as soon as its
	// header is complete. Control frames are bounded by
	// MaxControlPayload instead.
	MaxFrameSize int64

	// MaxMessageSize, when positive, bounds the sum of the payload
	// lengths of the frames of one data message; the header that would
	// exceed it is rejected with code 1009. It counts bytes on the wire,
	// so with compression it bounds the compressed size only.
	MaxMessageSize int64

	hdr       Header // the current frame
	remaining int64  // payload bytes of hdr not yet consumed
	msgLen    int64  // sum of the lengths of the current message's frames
	err       error  // sticky: set once the peer broke the protocol

	// The small fields together: every connection carries a Decoder.
	hdrBuf    [MaxHeaderSize]byte // header bytes received so far
	hdrLen    uint8               // number of valid bytes in hdrBuf
	maskPos   uint8               // key position of the next payload byte
	inMessage bool                // a data message has started and its final frame is still to come
	msgOp     Opcode              // opcode of the current data message, or OpContinuation
	msgEnded  bool                // the last data header was final: forget msgOp at the next header
}

// ParseHeader consumes header bytes from p. It returns the number of bytes
// consumed and whether the header is now complete. With done false, all of
// p was consumed (n == len(p)) and the caller should come back with more
// bytes; it may do so any number of times. With done true, the header is
// available from Header, Remaining returns its Length, and the bytes of p
// after the header have not been consumed.
//
// ParseHeader must be called only between frames, when Remaining() == 0.
//
// A complete header is validated before it is accepted: the rules of
// CheckHeader (with AllowedRsv applying to the first frame of a data message
// only), then the fragmentation rules of §5.4 (a continuation frame needs a
// message in progress, a text or binary frame needs none; control frames
// may come in between), then MaxFrameSize and MaxMessageSize. A violation
// is returned as a *ProtocolError and leaves the Decoder unusable.
func (d *Decoder) ParseHeader(p []byte) (n int, done bool, err error) {
	if d.err != nil {
		return 0, false, d.err
	}
	if d.remaining != 0 {
		return 0, false, errPayloadPending
	}
	if d.hdrLen == 0 {
		// Fast path: the whole header is in p, nothing to buffer.
		n, err = parseHeader(&d.hdr, p)
		if err != nil {
			return 0, false, d.fail(err)
		}
	}
	if n == 0 {
		// Buffer up to the end of the header and no further: the first
		// two bytes tell how long it is.
		for {
			size := 2
			if d.hdrLen >= 2 {
				size = headerSize(d.hdrBuf[1])
			}
			if int(d.hdrLen) == size || n == len(p) {
				break
			}
			c := copy(d.hdrBuf[d.hdrLen:size], p[n:])
			d.hdrLen += uint8(c)
			n += c
		}
		m, err := parseHeader(&d.hdr, d.hdrBuf[:d.hdrLen])
		if err != nil {
			return n, false, d.fail(err)
		}
		if m == 0 {
			return n, false, nil
		}
		d.hdrLen = 0
	}
	if err := d.accept(&d.hdr); err != nil {
		return n, false, d.fail(err)
	}
	return n, true, nil
}

// accept validates the header just parsed into d.hdr against the rules and
// limits and, if it passes, starts its payload. After a failure d.hdr holds
// the rejected header, which nobody may read: the Decoder is unusable.
func (d *Decoder) accept(h *Header) error {
	if d.msgEnded {
		d.msgOp, d.msgLen, d.msgEnded = OpContinuation, 0, false
	}
	allowed := uint8(0)
	if h.Opcode == OpText || h.Opcode == OpBinary {
		allowed = d.AllowedRsv
	}
	if err := CheckHeader(*h, d.ExpectMasked, allowed); err != nil {
		return err
	}
	if h.Opcode.IsData() {
		if h.Opcode == OpContinuation {
			if !d.inMessage {
				return errUnexpectedCont
			}
		} else if d.inMessage {
			return errExpectedCont
		}
		if d.MaxFrameSize > 0 && h.Length > d.MaxFrameSize {
			return errFrameTooBig
		}
		if h.Opcode != OpContinuation {
			d.msgOp, d.msgLen = h.Opcode, 0
		}
		// msgLen never exceeds MaxMessageSize, so the subtraction cannot
		// overflow; without a limit the sum saturates instead.
		if d.MaxMessageSize > 0 {
			if h.Length > d.MaxMessageSize-d.msgLen {
				return errMessageTooBig
			}
			d.msgLen += h.Length
		} else if d.msgLen += h.Length; d.msgLen < 0 {
			d.msgLen = 1<<63 - 1
		}
		// The message ends at its final frame's header, although its
		// payload still follows; msgOp stays until the next header so
		// that the payload can be attributed.
		d.inMessage = !h.Fin
		d.msgEnded = h.Fin
	}
	d.remaining = h.Length
	d.maskPos = 0
	return nil
}

// fail records err for good. The partial header is dropped so that the
// state after an error does not depend on how the input was split.
func (d *Decoder) fail(err error) error {
	d.err = err
	d.hdrLen = 0
	return err
}

// Header returns the header of the current frame: the last one ParseHeader
// completed.
func (d *Decoder) Header() Header { return d.hdr }

// Remaining returns the number of payload bytes of the current frame not
// yet consumed by Payload. It is never negative.
func (d *Decoder) Remaining() int64 { return d.remaining }

// Partial reports whether ParseHeader has consumed part of a header but not
// all of it. A stream that ends while Partial or Remaining() > 0 ended in
// the middle of a frame.
func (d *Decoder) Partial() bool { return d.hdrLen != 0 }

// PartialOpcode returns the opcode of the header that ParseHeader has
// begun (Partial), which its first byte carries; ok is false when no
// header is in progress. A reader that handles only control frames tells
// by it whether to go on with the header or to leave it to another.
func (d *Decoder) PartialOpcode() (op Opcode, ok bool) {
	if d.hdrLen == 0 {
		return 0, false
	}
	return Opcode(d.hdrBuf[0] & 0x0f), true
}

// Payload consumes min(len(p), Remaining()) payload bytes from the start of
// p and returns that count. When the frame is masked it unmasks them in
// place, carrying the key position over from the previous call, so the
// payload may arrive in pieces of any size.
func (d *Decoder) Payload(p []byte) int {
	if d.err != nil {
		return 0
	}
	n := len(p)
	if int64(n) > d.remaining {
		n = int(d.remaining)
	}
	if d.hdr.Masked {
		d.maskPos = uint8(Mask(d.hdr.Mask, int(d.maskPos), p[:n]))
	}
	d.remaining -= int64(n)
	return n
}

// MessageOpcode returns the opcode (OpText or OpBinary) of the data message
// the Decoder is in: it is set by the header of the message's first frame
// and kept through the payload of its final frame, including while control
// frames are interleaved, until the next header is parsed. It returns
// OpContinuation when no data message is in progress. A reader reassembling
// messages from frames uses it to type the payload of a continuation frame;
// the final frame is the data frame whose Header().Fin is set.
func (d *Decoder) MessageOpcode() Opcode { return d.msgOp }
