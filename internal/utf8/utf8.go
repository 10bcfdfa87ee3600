// Package utf8 validates UTF-8 incrementally, for WebSocket text messages
// that arrive split across frames and reads.
//
// RFC 6455 §8.1 asks an endpoint to fail the connection as soon as the
// bytes of a text message so far cannot be the start of valid UTF-8, not
// when the message ends. A [Validator] therefore keeps a little state
// between calls to [Validator.Write]: how many continuation bytes the
// current code point still needs and which values the next one may take.
// That range is what makes validation fail fast: after 0xF4 only 0x80..0x8F
// may follow (code points stop at U+10FFFF), after 0xED only 0x80..0x9F
// (no surrogates), after 0xE0 only 0xA0..0xBF and after 0xF0 only
// 0x90..0xBF (no overlong forms), so a bad byte is rejected the moment it
// is seen, even in the middle of a code point.
//
// Validity is the one of RFC 3629, the same as [unicode/utf8.Valid]:
// noncharacters such as U+FFFE are valid, surrogates are not.
package utf8

import "encoding/binary"

// asciiMask has the high bit of every byte of a uint64 set: a word of
// input ANDed with it is zero iff all eight bytes are ASCII.
const asciiMask = 0x8080808080808080

// A lead describes a byte that starts a multi-byte code point: the high
// nibble is the number of continuation bytes that follow (1..3), the low
// nibble indexes firstRange for the range allowed for the first of them.
// Zero means the byte cannot start a code point (a stray continuation
// byte, 0xC0, 0xC1 or 0xF5..0xFF); ASCII never reaches the table.
type lead uint8

// byteRange is an inclusive range of allowed byte values.
type byteRange struct{ lo, hi byte }

// Indexes into firstRange.
const (
	anyCont = iota // 0x80..0xBF: any continuation byte
	afterE0        // 0xA0..0xBF: below is an overlong 3-byte form
	afterED        // 0x80..0x9F: above is a surrogate, U+D800..U+DFFF
	afterF0        // 0x90..0xBF: below is an overlong 4-byte form
	afterF4        // 0x80..0x8F: above is past U+10FFFF
)

// firstRange is the range of the first continuation byte, by lead class.
// It has an entry for every nibble value so that indexing it with a
// lead's low nibble needs no bounds check.
var firstRange = [16]byteRange{
	anyCont: {0x80, 0xBF},
	afterE0: {0xA0, 0xBF},
	afterED: {0x80, 0x9F},
	afterF0: {0x90, 0xBF},
	afterF4: {0x80, 0x8F},
}

// leads is indexed by a byte. ASCII entries are never read.
var leads = func() (t [256]lead) {
	set := func(from, to byte, n, first int) {
		for b := int(from); b <= int(to); b++ {
			t[b] = lead(n<<4 | first)
		}
	}
	// 0x80..0xC1 stay zero: continuation bytes and the overlong 0xC0, 0xC1.
	set(0xC2, 0xDF, 1, anyCont)
	set(0xE0, 0xE0, 2, afterE0)
	set(0xE1, 0xEC, 2, anyCont)
	set(0xED, 0xED, 2, afterED)
	set(0xEE, 0xEF, 2, anyCont)
	set(0xF0, 0xF0, 3, afterF0)
	set(0xF1, 0xF3, 3, anyCont)
	set(0xF4, 0xF4, 3, afterF4)
	// 0xF5..0xFF stay zero: they could only start code points past U+10FFFF.
	return t
}()

// isCont reports whether c is a continuation byte, 0b10xxxxxx.
func isCont(c byte) bool { return c&0xC0 == 0x80 }

// in reports whether c is in r.
func (r byteRange) in(c byte) bool { return r.lo <= c && c <= r.hi }

// A Validator checks a stream of bytes for UTF-8 validity, chunk by chunk.
// The zero value is ready to use and expects the start of a message.
//
// A Validator is a few bytes of plain state: it is not safe for concurrent
// use, and it can be embedded and copied freely.
type Validator struct {
	// need is how many continuation bytes the current code point still
	// needs; zero on a code point boundary.
	need uint8
	// next is the range the next byte must fall in when need > 0.
	next byteRange
	// failed is sticky until Reset.
	failed bool
}

// Write feeds p to the validator. It returns false as soon as the input so
// far is not a prefix of valid UTF-8, that is, when p contains the first
// byte that no continuation can make valid; after that the Validator stays
// failed, and Write keeps returning false, until Reset. A code point may be
// split across any number of calls.
//
// Write does not allocate.
func (v *Validator) Write(p []byte) bool {
	if v.failed {
		return false
	}
	// Finish the code point left open by the previous call.
	for v.need > 0 {
		if len(p) == 0 {
			return true
		}
		if !v.next.in(p[0]) {
			v.failed = true
			return false
		}
		v.next = firstRange[anyCont]
		v.need--
		p = p[1:]
	}
	for len(p) > 0 {
		c := p[0]
		if c < 0x80 {
			p = p[1:]
			// ASCII comes in runs: skip it four words, then one word, at
			// a time.
			for len(p) >= 32 && (word(p)|word(p[8:])|word(p[16:])|word(p[24:]))&asciiMask == 0 {
				p = p[32:]
			}
			for len(p) >= 8 && word(p)&asciiMask == 0 {
				p = p[8:]
			}
			continue
		}
		l := leads[c]
		r := firstRange[l&0x0F]
		n := int(l >> 4) // continuation bytes to follow; 0 for a bad lead
		if len(p) <= n {
			return v.open(p, n, r)
		}
		// Each case advances by a constant rather than by n, so that the
		// next iteration's loads do not wait on this one's table lookup.
		switch n {
		case 1:
			if !r.in(p[1]) {
				v.failed = true
				return false
			}
			p = p[2:]
		case 2:
			if !r.in(p[1]) || !isCont(p[2]) {
				v.failed = true
				return false
			}
			p = p[3:]
		case 3:
			if !r.in(p[1]) || !isCont(p[2]) || !isCont(p[3]) {
				v.failed = true
				return false
			}
			p = p[4:]
		default:
			v.failed = true
			return false
		}
	}
	return true
}

// open handles a code point that starts at p[0] but does not end in p:
// it checks the bytes that are there and saves what the rest must be.
// n is the number of continuation bytes the lead byte announced (0 for a
// byte that cannot start a code point) and r the range of the first one.
func (v *Validator) open(p []byte, n int, r byteRange) bool {
	if n == 0 {
		v.failed = true
		return false
	}
	for _, c := range p[1:] {
		if !r.in(c) {
			v.failed = true
			return false
		}
		r = firstRange[anyCont]
		n--
	}
	v.need = uint8(n)
	v.next = r
	return true
}

// word returns the first 8 bytes of p as one little-endian integer.
func word(p []byte) uint64 { return binary.LittleEndian.Uint64(p) }

// Complete reports whether the input so far is valid UTF-8 that ends on a
// code point boundary. Call it at the end of a message: a message that
// ends inside a code point is invalid even though every Write succeeded.
func (v *Validator) Complete() bool {
	return !v.failed && v.need == 0
}

// Reset returns v to its zero state, ready for a new message.
func (v *Validator) Reset() {
	*v = Validator{}
}

// Valid reports whether p is entirely valid UTF-8. It agrees with
// [unicode/utf8.Valid] and exists so that callers holding a whole message
// use the same rules as the streaming path.
func Valid(p []byte) bool {
	var v Validator
	return v.Write(p) && v.Complete()
}
