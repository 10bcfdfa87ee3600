package frame

import "encoding/binary"

// Rsv1 is the first RSV bit as it appears in Header.Rsv, the bit
// permessage-deflate (RFC 7692) uses. Header.Rsv holds the three bits that
// follow FIN in the first header byte, shifted down: RSV1 is 0x4, RSV2 0x2
// and RSV3 0x1. No registered extension uses RSV2 or RSV3, so only RSV1 has
// a name.
const Rsv1 uint8 = 0x4

const (
	// MaxHeaderSize is the size of the longest header: 2 fixed bytes, an
	// 8-byte extended length and a 4-byte masking key.
	MaxHeaderSize = 14

	// MaxControlPayload is the largest payload a control frame may carry
	// (§5.5): control frames always use the 7-bit length.
	MaxControlPayload = 125
)

// Bits of the first two header bytes.
const (
	bitFin    = 0x80
	bitMasked = 0x80
	rsvShift  = 4
	rsvMask   = 0x7
	opMask    = 0x0F
	len7Mask  = 0x7F
	len16Code = 126 // the 7-bit length value announcing a 16-bit length
	len64Code = 127 // the 7-bit length value announcing a 64-bit length
	maxLen7   = 125 // largest length the 7-bit form carries
	maxLen16  = 0xFFFF
)

// Header is a decoded frame header (RFC 6455 §5.2).
type Header struct {
	Fin    bool    // last frame of its message
	Rsv    uint8   // RSV bits: RSV1 (Rsv1) is 0x4, RSV2 0x2, RSV3 0x1
	Opcode Opcode  // frame type
	Masked bool    // payload masked with Mask (frames from clients)
	Mask   [4]byte // masking key, meaningful only when Masked
	Length int64   // payload length in bytes, never negative
}

// Size returns the number of bytes AppendHeader writes for h,
// from 2 to MaxHeaderSize.
func (h Header) Size() int {
	n := 2
	switch {
	case h.Length < 0 || h.Length > maxLen16:
		n += 8
	case h.Length > maxLen7:
		n += 2
	}
	if h.Masked {
		n += 4
	}
	return n
}

// AppendHeader appends the wire encoding of h, h.Size() bytes, to dst and
// returns the extended slice. It panics if h.Length is negative. To encode
// into a fixed buffer without allocating, append to a zero-length slice of
// a [MaxHeaderSize]byte array.
//
// The length uses the shortest of the three encodings, as §5.2 requires.
// Only the low three bits of h.Rsv and the low four bits of h.Opcode are
// encoded; CheckHeader is the place to reject other values.
func AppendHeader(dst []byte, h Header) []byte {
	var b [MaxHeaderSize]byte
	n := putHeader(b[:], h)
	return append(dst, b[:n]...)
}

// putHeader writes the wire encoding of h into b, which must hold
// h.Size() bytes, and returns that count.
func putHeader(b []byte, h Header) int {
	if h.Length < 0 {
		panic("frame: negative Header.Length")
	}
	b0 := (h.Rsv&rsvMask)<<rsvShift | uint8(h.Opcode)&opMask
	if h.Fin {
		b0 |= bitFin
	}
	var b1 byte
	if h.Masked {
		b1 = bitMasked
	}
	var n int
	switch {
	case h.Length <= maxLen7:
		_ = b[1]
		b[0], b[1] = b0, b1|byte(h.Length)
		n = 2
	case h.Length <= maxLen16:
		_ = b[3]
		b[0], b[1] = b0, b1|len16Code
		binary.BigEndian.PutUint16(b[2:], uint16(h.Length))
		n = 4
	default:
		_ = b[9]
		b[0], b[1] = b0, b1|len64Code
		binary.BigEndian.PutUint64(b[2:], uint64(h.Length))
		n = 10
	}
	if h.Masked {
		n += copy(b[n:n+4], h.Mask[:])
	}
	return n
}

// headerSize returns the total header size announced by the second header
// byte.
func headerSize(b1 byte) int {
	n := 2
	switch b1 & len7Mask {
	case len16Code:
		n += 2
	case len64Code:
		n += 8
	}
	if b1&bitMasked != 0 {
		n += 4
	}
	return n
}

// ParseHeader decodes one header from the start of b.
//
// It returns n > 0, the header's size, when b holds a whole header. It
// returns n == 0 and a nil error when b is a valid but incomplete prefix of
// a header: the caller should retry with more bytes. The only encoding
// error is a 64-bit length with its most significant bit set (§5.2), a
// *ProtocolError with code 1002, reported as soon as that byte is present.
//
// Lengths encoded in more bytes than necessary (say, 5 in the 16-bit form)
// are accepted. §5.2 says the minimal encoding "MUST" be used, but it gives
// a receiver nothing to defend against, the length is unambiguous, and
// widely deployed receivers accept it; rejecting would only break
// interoperability.
//
// ParseHeader does not apply the rules that depend on the role or on
// negotiated extensions; see CheckHeader.
func ParseHeader(b []byte) (h Header, n int, err error) {
	n, err = parseHeader(&h, b)
	return h, n, err
}

// parseHeader is ParseHeader writing into *h, which it sets only when it
// returns n > 0. The Decoder parses straight into its current header this
// way, saving a copy of the struct per frame.
func parseHeader(h *Header, b []byte) (int, error) {
	if len(b) < 2 {
		return 0, nil
	}
	b0, b1 := b[0], b[1]
	if b1&len7Mask == len64Code && len(b) > 2 && b[2]&0x80 != 0 {
		return 0, errLengthTopBit
	}
	size := headerSize(b1)
	if len(b) < size {
		return 0, nil
	}
	n := 2
	var length int64
	switch l := b1 & len7Mask; l {
	case len16Code:
		length = int64(binary.BigEndian.Uint16(b[2:4]))
		n = 4
	case len64Code:
		length = int64(binary.BigEndian.Uint64(b[2:10]))
		n = 10
	default:
		length = int64(l)
	}
	var mask [4]byte
	masked := b1&bitMasked != 0
	if masked {
		mask = [4]byte(b[n : n+4])
		n += 4
	}
	*h = Header{
		Fin:    b0&bitFin != 0,
		Rsv:    b0 >> rsvShift & rsvMask,
		Opcode: Opcode(b0 & opMask),
		Masked: masked,
		Mask:   mask,
		Length: length,
	}
	return n, nil
}

// CheckHeader applies the per-frame rules of RFC 6455 §5 to a received
// header and returns a *ProtocolError (code 1002) for the first one it
// breaks:
//
//   - the opcode is reserved;
//   - a control frame has an RSV bit set, is not final, or carries more
//     than MaxControlPayload bytes;
//   - a data frame has an RSV bit outside allowedRsv (the bits of the
//     negotiated extensions; pass 0 for a continuation frame when the
//     extensions define their bit on the first frame only, as
//     permessage-deflate does);
//   - h.Masked differs from expectMasked: a server expects masked frames,
//     a client unmasked ones (§5.1).
//
// The rules that span frames (fragmentation) and size limits are the
// Decoder's.
func CheckHeader(h Header, expectMasked bool, allowedRsv uint8) error {
	switch {
	case h.Opcode.isReserved():
		return errReservedOpcode
	case h.Length < 0:
		return errNegativeLength
	case h.Opcode.IsControl():
		switch {
		case h.Rsv != 0:
			return errControlRsv
		case !h.Fin:
			return errControlFragmented
		case h.Length > MaxControlPayload:
			return errControlTooLong
		}
	case h.Rsv&^allowedRsv != 0:
		if h.Opcode == OpContinuation {
			return errContinuationRsv
		}
		return errDataRsv
	}
	if h.Masked != expectMasked {
		if expectMasked {
			return errUnmaskedClient
		}
		return errMaskedServer
	}
	return nil
}
