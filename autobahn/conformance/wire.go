package conformance

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Opcode is the 4-bit frame opcode of RFC 6455 §5.2. The runner sends any of
// the 16 values, reserved ones included, so it is a plain number with names.
type Opcode byte

// Opcodes defined by RFC 6455 §5.2.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// String returns the RFC name of the opcode, or "reserved-N".
func (o Opcode) String() string {
	switch o {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return fmt.Sprintf("reserved-%d", byte(o))
}

// isControl reports whether o is a control opcode (high bit set, §5.5).
func (o Opcode) isControl() bool { return o&0x8 != 0 }

// isDefined reports whether RFC 6455 assigns a meaning to o.
func (o Opcode) isDefined() bool {
	switch o {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return true
	}
	return false
}

// Close status codes the cases name (RFC 6455 §7.4.1).
const (
	CloseNormal         = 1000
	CloseGoingAway      = 1001
	CloseProtocolError  = 1002
	CloseUnsupported    = 1003
	CloseInvalidPayload = 1007
	ClosePolicy         = 1008
	CloseTooBig         = 1009
	CloseExtension      = 1010
	CloseInternalError  = 1011
)

// validCloseCode reports whether a peer may put code on the wire: the codes
// RFC 6455 §7.4.1 defines for use in a close frame, the IANA-registered
// 1012-1014, and the 3000-4999 range for libraries and applications.
// 1004-1006 and 1015 are reserved and must never be sent.
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// frame is one decoded or to-be-encoded frame. Payload is unmasked.
type frame struct {
	Fin     bool
	RSV     byte // the three RSV bits as the low bits: RSV1=4, RSV2=2, RSV3=1
	Opcode  Opcode
	Masked  bool
	MaskKey [4]byte
	Payload []byte
}

// maxHeaderLen is the longest header: 2 fixed bytes, 8 length bytes, 4 mask bytes.
const maxHeaderLen = 14

// appendHeader appends the wire header for f with a payload of n bytes. It
// always uses the shortest length encoding, which §5.2 requires of senders.
func appendHeader(b []byte, f *frame, n int) []byte {
	b0 := byte(f.Opcode & 0xF)
	if f.Fin {
		b0 |= 0x80
	}
	b0 |= (f.RSV & 7) << 4
	var mask byte
	if f.Masked {
		mask = 0x80
	}
	switch {
	case n <= 125:
		b = append(b, b0, mask|byte(n))
	case n <= 0xFFFF:
		b = append(b, b0, mask|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, b0, mask|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if f.Masked {
		b = append(b, f.MaskKey[:]...)
	}
	return b
}

// appendFrame appends the complete wire encoding of f, masking the payload
// copy if f.Masked; f.Payload is not modified.
func appendFrame(b []byte, f *frame) []byte {
	b = appendHeader(b, f, len(f.Payload))
	start := len(b)
	b = append(b, f.Payload...)
	if f.Masked {
		maskBytes(f.MaskKey, 0, b[start:])
	}
	return b
}

// maskBytes XORs p with key, starting at key position pos (§5.3); it returns
// the key position after p so that a payload can be masked in pieces.
func maskBytes(key [4]byte, pos int, p []byte) int {
	for i := range p {
		p[i] ^= key[(pos+i)&3]
	}
	return (pos + len(p)) & 3
}

// errFrameTooLarge is returned when a peer declares a payload above the
// reader's limit; the runner refuses to allocate from a declared length.
var errFrameTooLarge = errors.New("conformance: frame payload exceeds the limit")

// errNonMinimalLength is returned for a length that is not in its shortest
// form or that sets the most significant bit of the 64-bit length (§5.2).
var errNonMinimalLength = errors.New("conformance: frame length not minimally encoded")

// readFrame decodes one frame from r. The payload is unmasked. limit bounds
// the payload size; the payload buffer grows as bytes arrive, so a peer
// declaring a huge length without sending it costs nothing.
func readFrame(r io.Reader, limit int64) (*frame, error) {
	var h [maxHeaderLen]byte
	if _, err := io.ReadFull(r, h[:2]); err != nil {
		return nil, err
	}
	f := &frame{
		Fin:    h[0]&0x80 != 0,
		RSV:    (h[0] >> 4) & 7,
		Opcode: Opcode(h[0] & 0xF),
		Masked: h[1]&0x80 != 0,
	}
	n := int64(h[1] & 0x7F)
	switch n {
	case 126:
		if _, err := io.ReadFull(r, h[2:4]); err != nil {
			return nil, unexpected(err)
		}
		n = int64(binary.BigEndian.Uint16(h[2:4]))
		if n < 126 {
			return nil, errNonMinimalLength
		}
	case 127:
		if _, err := io.ReadFull(r, h[2:10]); err != nil {
			return nil, unexpected(err)
		}
		u := binary.BigEndian.Uint64(h[2:10])
		if u>>63 != 0 || u <= 0xFFFF {
			return nil, errNonMinimalLength
		}
		if u > uint64(limit) {
			return nil, errFrameTooLarge
		}
		n = int64(u)
	}
	if n > limit {
		return nil, errFrameTooLarge
	}
	if f.Masked {
		if _, err := io.ReadFull(r, f.MaskKey[:]); err != nil {
			return nil, unexpected(err)
		}
	}
	// Grow in chunks rather than trusting n up front.
	const chunk = 1 << 16
	f.Payload = make([]byte, 0, min(n, chunk))
	for int64(len(f.Payload)) < n {
		want := min(n-int64(len(f.Payload)), chunk)
		start := len(f.Payload)
		f.Payload = append(f.Payload, make([]byte, want)...)
		if _, err := io.ReadFull(r, f.Payload[start:]); err != nil {
			return nil, unexpected(err)
		}
	}
	if f.Masked {
		maskBytes(f.MaskKey, 0, f.Payload)
	}
	return f, nil
}

// unexpected turns a clean EOF in the middle of a frame into ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// utf8Prefix reports whether b could begin a valid UTF-8 string: every
// complete sequence is valid and a trailing incomplete sequence can still be
// completed. It is the fail-fast check a conformant receiver applies to each
// fragment of a text message (RFC 6455 §8.1).
func utf8Prefix(b []byte) bool {
	for len(b) > 0 {
		if b[0] < utf8.RuneSelf {
			b = b[1:]
			continue
		}
		if !utf8.FullRune(b) {
			// utf8.FullRune treats an invalid leading sequence as "full", so
			// a false here means a valid but unfinished sequence.
			return true
		}
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			return false
		}
		b = b[size:]
	}
	return true
}

// utf8From validates b incrementally: b[:from] was already found to be a
// valid prefix ending on a code point boundary. It reports whether b is
// still a valid prefix and the boundary to resume from next time, so that
// a message arriving in many small pieces is scanned once, not once per piece.
func utf8From(b []byte, from int) (next int, ok bool) {
	if !utf8Prefix(b[from:]) {
		return from, false
	}
	// Resume at the start of a trailing unfinished sequence, if any: it is at
	// most 3 bytes back, at the last byte that is not a continuation byte.
	for i := len(b) - 1; i >= from && i >= len(b)-3; i-- {
		if b[i]&0xC0 != 0x80 {
			if !utf8.FullRune(b[i:]) {
				return i, true
			}
			break
		}
	}
	return len(b), true
}

// encodeClose builds a close frame payload. code < 0 means no status code
// (an empty payload unless reason is set, which then stands alone).
func encodeClose(code int, reason []byte) []byte {
	if code < 0 {
		return append([]byte(nil), reason...)
	}
	p := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(reason)), uint16(code))
	return append(p, reason...)
}

// closeError describes what is wrong with a received close payload, or is
// empty. A conformant peer's close payload is empty, or a valid code followed
// by a UTF-8 reason (§5.5.1, §7.4).
func closeError(p []byte) string {
	switch {
	case len(p) == 0:
		return ""
	case len(p) == 1:
		return "close payload of 1 byte"
	}
	if c := int(binary.BigEndian.Uint16(p)); !validCloseCode(c) {
		return fmt.Sprintf("invalid close code %d", c)
	}
	if !utf8.Valid(p[2:]) {
		return "close reason is not valid UTF-8"
	}
	return ""
}
