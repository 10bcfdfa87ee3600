package handshake

// This file holds the small pieces of HTTP grammar (RFC 9110 §5.6) that the
// handshake needs: tokens, optional whitespace, comma-separated lists and
// field values. They work on strings and never allocate, so the request
// parser can slice everything out of one buffer.

// tchar reports whether a byte may appear in a token:
//
//	tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
//	        "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
var tchar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// isToken reports whether s is a non-empty token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tchar[s[i]] {
			return false
		}
	}
	return true
}

// validFieldValueByte reports whether c may appear in a field value:
// VCHAR, SP, HTAB and obs-text. Everything else (the other controls, in
// particular CR, LF and NUL) is refused, which is what stops header injection.
func validFieldValueByte(c byte) bool {
	return c == '\t' || (c >= 0x20 && c != 0x7f)
}

// validFieldValue reports whether every byte of s may appear in a field value.
func validFieldValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if !validFieldValueByte(s[i]) {
			return false
		}
	}
	return true
}

// trimOWS removes optional whitespace (SP and HTAB) from both ends of s.
func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// lower returns the ASCII lower case of c.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalFold reports whether a and b are equal under ASCII case folding.
// strings.EqualFold is not used on purpose: it applies Unicode folding, under
// which "\u212A" (KELVIN SIGN) matches "k" and "\u017F" (LONG S) matches "s",
// and protocol keywords must not be spelled with those.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

// nextElement splits the first element off a comma-separated list
// (RFC 9110 §5.6.1) and returns it without surrounding whitespace, together
// with the rest of the list. Empty elements come back as "" and are for the
// caller to skip, as the #rule asks recipients to do.
func nextElement(list string) (elem, rest string) {
	for i := 0; i < len(list); i++ {
		if list[i] == ',' {
			return trimOWS(list[:i]), list[i+1:]
		}
	}
	return trimOWS(list), ""
}

// hasToken reports whether any of the comma-separated lists in values holds
// an element equal to token under ASCII case folding. Used for the Upgrade
// and Connection fields, whose elements are case-insensitive.
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for v != "" {
			var e string
			e, v = nextElement(v)
			if equalFold(e, token) {
				return true
			}
		}
	}
	return false
}

// parseTokenList returns the tokens of the comma-separated lists in values,
// in order, skipping empty elements. It reports false if an element is not a
// token. The result holds substrings of values and is nil when empty.
func parseTokenList(values []string) ([]string, bool) {
	n := 0
	for _, v := range values {
		for v != "" {
			var e string
			e, v = nextElement(v)
			if e == "" {
				continue
			}
			if !isToken(e) {
				return nil, false
			}
			n++
		}
	}
	if n == 0 {
		return nil, true
	}
	out := make([]string, 0, n)
	for _, v := range values {
		for v != "" {
			var e string
			e, v = nextElement(v)
			if e != "" {
				out = append(out, e)
			}
		}
	}
	return out, true
}
