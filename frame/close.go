package frame

import (
	"encoding/binary"
	"unicode/utf8"
)

// maxCloseReason is the room left for the reason in a close payload after
// the 2-byte status code.
const maxCloseReason = MaxControlPayload - 2

// AppendClosePayload appends the payload of a close frame (§5.5.1) to dst:
// code as two big-endian bytes followed by reason. A reason that would make
// the payload longer than MaxControlPayload is cut at the last UTF-8 rune
// boundary that fits. Code 0 and StatusNoStatusReceived append nothing: an
// empty close payload is how "no status" travels.
//
// The code is written as given. The caller should send only codes for
// which ValidOnWire is true and a reason that is valid UTF-8; the peer fails
// the connection otherwise.
func AppendClosePayload(dst []byte, code StatusCode, reason string) []byte {
	if code == 0 || code == StatusNoStatusReceived {
		return dst
	}
	if len(reason) > maxCloseReason {
		reason = reason[:runeCut(reason, maxCloseReason)]
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return append(dst, reason...)
}

// runeCut returns the largest i <= limit such that s[:i] does not end inside
// a UTF-8 sequence. It looks back at most utf8.UTFMax-1 bytes: further than
// that the bytes are not UTF-8 anyway, and limit is as good a cut as any.
func runeCut(s string, limit int) int {
	for i := limit; i > 0 && i > limit-utf8.UTFMax; i-- {
		if utf8.RuneStart(s[i]) {
			return i
		}
	}
	return limit
}

// ParseClosePayload decodes the payload of a received close frame.
//
// An empty payload yields StatusNoStatusReceived and an empty reason. A
// payload of one byte or of more than MaxControlPayload bytes, or a code for
// which ValidOnWire is false, is a *ProtocolError with code 1002; a reason
// that is not valid UTF-8 is a *ProtocolError with code 1007 (§5.5.1,
// §8.1). The reason is copied out of p.
func ParseClosePayload(p []byte) (code StatusCode, reason string, err error) {
	switch {
	case len(p) == 0:
		return StatusNoStatusReceived, "", nil
	case len(p) == 1:
		return 0, "", errCloseOneByte
	case len(p) > MaxControlPayload:
		return 0, "", errCloseTooLong
	}
	code = StatusCode(binary.BigEndian.Uint16(p))
	if !code.ValidOnWire() {
		return 0, "", errCloseCode
	}
	if !utf8.Valid(p[2:]) {
		return 0, "", errCloseReasonUTF8
	}
	return code, string(p[2:]), nil
}
