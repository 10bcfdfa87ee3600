package handshake

import (
	"net/http"
	"strings"

	"github.com/rfc6455/websocket/internal/defaults"
)

// maxHeadSize is the limit on the size of a request or response head (start
// line, header fields and the blank line) that [RequestParser],
// [ReadRequest] and [ReadResponse] apply when given a maxSize of zero or
// less: 16 KiB, the library's one default for it (see internal/defaults).
const maxHeadSize = defaults.MaxHeaderBytes

// nextLine splits the first line off s, returning it without its line
// terminator. Both CRLF and a bare LF end a line (RFC 9112 §2.2 allows the
// latter); a CR anywhere else stays in the line for the validators to refuse.
func nextLine(s string) (line, rest string) {
	i := strings.IndexByte(s, '\n')
	if i < 0 {
		return s, ""
	}
	return strings.TrimSuffix(s[:i], "\r"), s[i+1:]
}

// parseHeader parses the header section of a head: the lines after the
// start line, ending with the empty line. Field names are canonicalized as
// net/http does; values lose their surrounding whitespace; repeated names
// collect their values in order. On failure it returns the reason.
//
// Obsolete line folding (a line starting with whitespace) is refused:
// RFC 9112 §5.2 allows it only in message/http media, and a folded value is a
// classic way to make two parsers disagree about a header.
//
// h, if not nil, is cleared and reused.
func parseHeader(h http.Header, s string) (http.Header, string) {
	// Count the fields first, so the map and one backing array for the
	// values can be allocated at their final size.
	n := strings.Count(s, "\n") - 1
	if h == nil {
		h = make(http.Header, max(n, 0))
	} else {
		clear(h)
	}
	if n <= 0 {
		return h, ""
	}
	vals := make([]string, n)
	for {
		var line string
		line, s = nextLine(s)
		if line == "" {
			return h, ""
		}
		if line[0] == ' ' || line[0] == '\t' {
			return nil, reasonObsFold
		}
		colon := strings.IndexByte(line, ':')
		if colon < 0 {
			return nil, reasonHeaderLine
		}
		name, ok := canonicalKey(line[:colon])
		if !ok {
			return nil, reasonHeaderName
		}
		value := trimOWS(line[colon+1:])
		if !validFieldValue(value) {
			return nil, reasonHeaderValue
		}
		if vv, ok := h[name]; ok {
			h[name] = append(vv, value)
		} else {
			// A full slice expression, so that a later append for
			// a repeated name copies instead of overwriting the
			// next field's value.
			vals[0] = value
			h[name], vals = vals[:1:1], vals[1:]
		}
	}
}

// commonKeys interns the canonical names of the fields a handshake usually
// carries, so that canonicalizing them does not allocate.
var commonKeys = func() map[string]string {
	m := make(map[string]string)
	for _, k := range []string{
		"Accept", "Accept-Encoding", "Accept-Language", "Authorization",
		"Cache-Control", "Connection", "Content-Length", "Content-Type",
		"Cookie", "Date", "Host", "Origin", "Pragma", "Sec-Fetch-Dest",
		"Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Websocket-Accept",
		"Sec-Websocket-Extensions", "Sec-Websocket-Key",
		"Sec-Websocket-Protocol", "Sec-Websocket-Version", "Server",
		"Set-Cookie", "Transfer-Encoding", "Upgrade", "User-Agent",
		"X-Forwarded-For",
	} {
		m[k] = k
	}
	return m
}()

// canonicalKey returns the canonical form of a field name (as
// http.CanonicalHeaderKey: upper case at the start and after each '-', lower
// case elsewhere) and reports whether name is a valid token. Names already
// in canonical form and the common names come back without allocating.
func canonicalKey(name string) (string, bool) {
	if !isToken(name) {
		return "", false
	}
	upper := true
	canonical := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (upper && 'a' <= c && c <= 'z') || (!upper && 'A' <= c && c <= 'Z') {
			canonical = false
			break
		}
		upper = c == '-'
	}
	if canonical {
		return name, true
	}
	var buf [64]byte
	if len(name) > len(buf) {
		return http.CanonicalHeaderKey(name), true
	}
	b := buf[:len(name)]
	upper = true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
		upper = c == '-'
	}
	// The compiler does not allocate for a string(bytes) map index.
	if k, ok := commonKeys[string(b)]; ok {
		return k, true
	}
	return string(b), true
}

// singleValue returns the value of a field that may appear at most once, and
// false if it appears more often.
func singleValue(h http.Header, key string) (string, bool) {
	switch vv := h[key]; len(vv) {
	case 0:
		return "", true
	case 1:
		return vv[0], true
	default:
		return "", false
	}
}
