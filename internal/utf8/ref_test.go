package utf8

import (
	"sync"
	"unicode/utf8"
)

// The reference for fail-fast positions, built by brute force: a byte
// string is a prefix of valid UTF-8 iff it is valid UTF-8 followed by a
// proper prefix of the encoding of some code point. The proper prefixes
// are collected by encoding every code point, so the reference shares no
// logic with the code under test: it never reasons about byte ranges.

// refTables records which 1-, 2- and 3-byte strings are proper prefixes of
// the encoding of some code point.
type refTables struct {
	p1 [1 << 8]bool
	p2 [1 << 16]bool
	p3 [1 << 24]bool
}

var (
	refOnce sync.Once
	ref     *refTables
)

func reference() *refTables {
	refOnce.Do(func() {
		t := new(refTables)
		var buf [utf8.UTFMax]byte
		for r := rune(0); r <= utf8.MaxRune; r++ {
			if !utf8.ValidRune(r) {
				continue // surrogates have no encoding
			}
			n := utf8.EncodeRune(buf[:], r)
			if n > 1 {
				t.p1[buf[0]] = true
			}
			if n > 2 {
				t.p2[int(buf[0])<<8|int(buf[1])] = true
			}
			if n > 3 {
				t.p3[int(buf[0])<<16|int(buf[1])<<8|int(buf[2])] = true
			}
		}
		ref = t
	})
	return ref
}

// isProperPrefix reports whether p (1 to 3 bytes) is a proper prefix of
// the encoding of some code point.
func (t *refTables) isProperPrefix(p []byte) bool {
	switch len(p) {
	case 1:
		return t.p1[p[0]]
	case 2:
		return t.p2[int(p[0])<<8|int(p[1])]
	case 3:
		return t.p3[int(p[0])<<16|int(p[1])<<8|int(p[2])]
	}
	return false
}

// refFail returns the index of the first byte of s at which s stops being
// a prefix of valid UTF-8, or -1 if every prefix of s can still be
// completed. complete reports whether s is valid as a whole.
func refFail(s []byte) (fail int, complete bool) {
	t := reference()
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRune(s[i:])
		if r != utf8.RuneError || size > 1 {
			i += size // a whole code point (possibly a literal U+FFFD)
			continue
		}
		// s[i:] does not start with a whole code point. The longest proper
		// prefix of an encoding it starts with is where it can still go.
		n := 0
		for k := 1; k <= 3 && i+k <= len(s) && t.isProperPrefix(s[i:i+k]); k++ {
			n = k
		}
		if i+n == len(s) {
			return -1, false // unfinished, but a valid prefix
		}
		return i + n, false
	}
	return -1, true
}

// bytewiseFail feeds s to a fresh Validator one byte per Write and returns
// the index of the byte whose Write first returned false (or -1), the final
// Complete, and whether the failure stuck (no Write after it returned true).
func bytewiseFail(s []byte) (fail int, complete, sticky bool) {
	var v Validator
	fail, sticky = -1, true
	for i := range s {
		ok := v.Write(s[i : i+1])
		switch {
		case !ok && fail < 0:
			fail = i
		case ok && fail >= 0:
			sticky = false
		}
	}
	return fail, v.Complete(), sticky
}
