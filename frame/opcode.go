package frame

// Opcode is the 4-bit frame type of RFC 6455 §5.2.
//
// Only the low four bits travel on the wire; values above 0xF cannot be
// encoded and are treated as reserved.
type Opcode uint8

// Opcodes defined by RFC 6455 §11.8. The others are reserved for future use.
const (
	OpContinuation Opcode = 0x0 // continues a fragmented data message
	OpText         Opcode = 0x1 // first frame of a UTF-8 text message
	OpBinary       Opcode = 0x2 // first frame of a binary message
	OpClose        Opcode = 0x8 // close handshake (§5.5.1)
	OpPing         Opcode = 0x9 // heartbeat request (§5.5.2)
	OpPong         Opcode = 0xA // heartbeat answer (§5.5.3)
)

// String returns the opcode's name in lower case ("text", "ping", ...), or
// "reserved(0xN)" for a reserved value.
func (op Opcode) String() string {
	switch op {
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
	return "reserved(0x" + hex(uint64(op)) + ")"
}

// IsControl reports whether op is a control opcode (0x8 to 0xF, §5.5),
// including the reserved ones. Control frames may be injected in the middle
// of a fragmented message and must not themselves be fragmented.
func (op Opcode) IsControl() bool { return op <= 0xF && op&0x8 != 0 }

// IsData reports whether op is one of the defined data opcodes:
// continuation, text or binary.
func (op Opcode) IsData() bool { return op <= OpBinary }

// isReserved reports whether op has no meaning in RFC 6455 (0x3 to 0x7, 0xB
// to 0xF, and anything that does not fit in four bits). A receiver must fail
// the connection on a reserved opcode unless an extension defined it.
func (op Opcode) isReserved() bool {
	return op > 0xF || (op >= 0x3 && op <= 0x7) || op >= 0xB
}

// hex formats v in upper-case hexadecimal without a prefix.
func hex(v uint64) string {
	const digits = "0123456789ABCDEF"
	var buf [16]byte
	i := len(buf)
	for {
		i--
		buf[i] = digits[v&0xF]
		v >>= 4
		if v == 0 {
			break
		}
	}
	return string(buf[i:])
}
