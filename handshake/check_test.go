package handshake

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// serverVerdict runs the server's whole decision over the bytes of a
// request: parse, Check, then the origin policy.
func serverVerdict(raw string, p *OriginPolicy, maxSize int) (*Request, error) {
	r, err := readRequestString(raw, maxSize)
	if err != nil {
		return nil, err
	}
	return r, verdict(r, p)
}

// verdict is Check followed by the origin policy.
func verdict(r *Request, p *OriginPolicy) error {
	if err := Check(r); err != nil {
		return err
	}
	return p.Check(r)
}

// Request lines and fields to build requests from. Legend: each constant is
// one line, CRLF included; a request is their concatenation, then "\r\n".
const (
	lineGET     = "GET /chat HTTP/1.1\r\n"
	lineHost    = "Host: example.com\r\n"
	lineUpgrade = "Upgrade: websocket\r\n"
	lineConn    = "Connection: Upgrade\r\n"
	lineKey     = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	lineVersion = "Sec-WebSocket-Version: 13\r\n"
	lineEnd     = "\r\n"
)

// valid is a minimal valid opening handshake.
const valid = lineGET + lineHost + lineUpgrade + lineConn + lineKey + lineVersion + lineEnd

// TestRefusals is the refusal table: every way a request is refused, with
// the status, the reason and the extra response fields. Each request goes
// through both paths (readRequest and net/http + FromHTTP) where net/http
// can parse it, and both must give the same answer.
func TestRefusals(t *testing.T) {
	versionHdr := http.Header{"Sec-Websocket-Version": {"13"}}
	tests := []struct {
		name   string
		raw    string
		policy *OriginPolicy
		status int
		reason string
		header http.Header
	}{
		// 400: not an opening handshake.
		{"POST", "POST /chat HTTP/1.1\r\n" + lineHost + lineUpgrade + lineConn + lineKey + lineVersion + lineEnd,
			nil, 400, reasonMethod, http.Header{"Allow": {"GET"}}},
		{"lower-case get", "get /chat HTTP/1.1\r\n" + lineHost + lineUpgrade + lineConn + lineKey + lineVersion + lineEnd,
			nil, 400, reasonMethod, http.Header{"Allow": {"GET"}}},
		{"HTTP/1.0", "GET /chat HTTP/1.0\r\n" + lineHost + lineUpgrade + lineConn + lineKey + lineVersion + lineEnd,
			nil, 400, reasonProto, nil},
		{"HTTP/0.9", "GET /chat HTTP/0.9\r\n" + lineHost + lineUpgrade + lineConn + lineKey + lineVersion + lineEnd,
			nil, 400, reasonProto, nil},
		{"no Host", lineGET + lineUpgrade + lineConn + lineKey + lineVersion + lineEnd,
			nil, 400, reasonNoHost, nil},
		{"empty Host", lineGET + "Host:\r\n" + lineUpgrade + lineConn + lineKey + lineVersion + lineEnd,
			nil, 400, reasonNoHost, nil},
		{"no Upgrade", lineGET + lineHost + lineConn + lineKey + lineVersion + lineEnd,
			nil, 400, reasonNoUpgrade, nil},
		{"Upgrade to something else", lineGET + lineHost + "Upgrade: h2c\r\n" + lineConn + lineKey + lineVersion + lineEnd,
			nil, 400, reasonNoUpgrade, nil},
		{"no Connection", lineGET + lineHost + lineUpgrade + lineKey + lineVersion + lineEnd,
			nil, 400, reasonNoConnection, nil},
		{"Connection without upgrade", lineGET + lineHost + lineUpgrade + "Connection: keep-alive\r\n" + lineKey + lineVersion + lineEnd,
			nil, 400, reasonNoConnection, nil},
		{"no key", lineGET + lineHost + lineUpgrade + lineConn + lineVersion + lineEnd,
			nil, 400, reasonNoKey, nil},
		{"key of 15 bytes", lineGET + lineHost + lineUpgrade + lineConn + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j\r\n" + lineVersion + lineEnd,
			nil, 400, reasonBadKey, nil},
		{"key of 17 bytes", lineGET + lineHost + lineUpgrade + lineConn + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ1=\r\n" + lineVersion + lineEnd,
			nil, 400, reasonBadKey, nil},
		{"key unpadded", lineGET + lineHost + lineUpgrade + lineConn + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ\r\n" + lineVersion + lineEnd,
			nil, 400, reasonBadKey, nil},
		{"key not base64", lineGET + lineHost + lineUpgrade + lineConn + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZ!==\r\n" + lineVersion + lineEnd,
			nil, 400, reasonBadKey, nil},
		{"key URL-safe alphabet", lineGET + lineHost + lineUpgrade + lineConn + "Sec-WebSocket-Key: -_-_-_-_-_-_-_-_-_-_-w==\r\n" + lineVersion + lineEnd,
			nil, 400, reasonBadKey, nil},
		{"no version", lineGET + lineHost + lineUpgrade + lineConn + lineKey + lineEnd,
			nil, 400, reasonNoVersion, versionHdr},

		// 426: a version we do not speak.
		{"version 8", lineGET + lineHost + lineUpgrade + lineConn + lineKey + "Sec-WebSocket-Version: 8\r\n" + lineEnd,
			nil, 426, reasonBadVersion, versionHdr},
		{"version 14", lineGET + lineHost + lineUpgrade + lineConn + lineKey + "Sec-WebSocket-Version: 14\r\n" + lineEnd,
			nil, 426, reasonBadVersion, versionHdr},
		{"version list", lineGET + lineHost + lineUpgrade + lineConn + lineKey + "Sec-WebSocket-Version: 13, 8\r\n" + lineEnd,
			nil, 426, reasonBadVersion, versionHdr},
		{"hybi-00 client, no key", lineGET + lineHost + lineUpgrade + lineConn + "Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\nSec-WebSocket-Version: 0\r\n" + lineEnd,
			nil, 426, reasonBadVersion, versionHdr},

		// 403: the origin policy says no.
		{"cross origin, default policy", withOrigin("https://evil.example"), nil, 403, reasonOriginNotAllowed, nil},
		{"cross origin, patterns do not match", withOrigin("https://evil.example"),
			&OriginPolicy{Patterns: []string{"*.example.com"}}, 403, reasonOriginNotAllowed, nil},
		{"null origin", withOrigin("null"), nil, 403, reasonOriginMalformed, nil},
		{"origin with a path", withOrigin("https://example.com/"), nil, 403, reasonOriginMalformed, nil},

		// 431: too big (limit 128 bytes here).
		{"head over the limit", lineGET + lineHost + "Cookie: " + strings.Repeat("c", 100) + "\r\n" + lineUpgrade + lineConn + lineKey + lineVersion + lineEnd,
			nil, 431, reasonHeadTooLarge, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := serverVerdict(tt.raw, tt.policy, 128*boolInt(tt.status == 431))
			assertRefusal(t, "readRequest path", err, tt.status, tt.reason, tt.header)
			if tt.status == 431 {
				return // net/http has its own limits
			}
			r, err := viaNetHTTP(tt.raw)
			if err != nil {
				t.Fatalf("net/http path: %v", err)
			}
			assertRefusal(t, "FromHTTP path", verdict(r, tt.policy), tt.status, tt.reason, tt.header)
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// withOrigin returns the valid request with an Origin field added.
func withOrigin(origin string) string {
	return strings.TrimSuffix(valid, lineEnd) + "Origin: " + origin + "\r\n" + lineEnd
}

func assertRefusal(t *testing.T, path string, err error, status int, reason string, header http.Header) {
	t.Helper()
	var he *Error
	if !errors.As(err, &he) {
		t.Errorf("%s: error = %v, want *Error %d %q", path, err, status, reason)
		return
	}
	if he.StatusCode != status || he.Reason != reason {
		t.Errorf("%s: refused with %d %q, want %d %q", path, he.StatusCode, he.Reason, status, reason)
	}
	if !reflect.DeepEqual(he.Header, header) {
		t.Errorf("%s: refusal header = %v, want %v", path, he.Header, header)
	}
}

func TestRefusalReasonsDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range []string{
		reasonHeadTooLarge, reasonRequestLine, reasonMethodToken, reasonTarget, reasonVersion,
		reasonHeaderLine, reasonHeaderName, reasonHeaderValue, reasonObsFold, reasonDupHost,
		reasonDupOrigin, reasonDupKey, reasonDupVersion, reasonProtocolList, reasonExtensionList,
		reasonMethod, reasonProto, reasonNoHost, reasonNoUpgrade, reasonNoConnection,
		reasonNoVersion, reasonBadVersion, reasonNoKey, reasonBadKey, reasonOriginMalformed,
		reasonOriginNotAllowed,
	} {
		if seen[r] {
			t.Errorf("reason %q used twice", r)
		}
		seen[r] = true
	}
}

func TestCheckAccepts(t *testing.T) {
	for _, raw := range []string{
		valid,
		// Lists and case variations of the keywords.
		lineGET + lineHost + "Upgrade: WebSocket\r\nConnection: keep-alive, upgrade\r\n" + lineKey + lineVersion + lineEnd,
		// HTTP/1.2 counts as "1.1 or later"; absolute-form supplies Host.
		"GET http://example.com/chat HTTP/1.2\r\n" + lineUpgrade + lineConn + lineKey + lineVersion + lineEnd,
		// The same origin.
		withOrigin("http://example.com"),
	} {
		if _, err := serverVerdict(raw, nil, 0); err != nil {
			t.Errorf("refused %q: %v", raw, err)
		}
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{StatusCode: 426, Reason: "unsupported Sec-WebSocket-Version"}
	if got, want := e.Error(), "websocket: handshake: unsupported Sec-WebSocket-Version (HTTP 426)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestSelectProtocol(t *testing.T) {
	tests := []struct {
		offered, supported []string
		want               string
	}{
		{nil, nil, ""},
		{[]string{"chat"}, nil, ""},
		{nil, []string{"chat"}, ""},
		{[]string{"chat", "superchat"}, []string{"superchat", "chat"}, "superchat"}, // the server's preference wins
		{[]string{"superchat", "chat"}, []string{"chat", "superchat"}, "chat"},
		{[]string{"a", "b"}, []string{"c", "b"}, "b"},
		{[]string{"Chat"}, []string{"chat"}, ""}, // exact comparison
	}
	for _, tt := range tests {
		if got := SelectProtocol(tt.offered, tt.supported); got != tt.want {
			t.Errorf("SelectProtocol(%q, %q) = %q, want %q", tt.offered, tt.supported, got, tt.want)
		}
	}
}

func TestOriginPolicy(t *testing.T) {
	wide := &OriginPolicy{Patterns: []string{"*.example.com", "localhost:*", "app.test", `\[::1\]:*`}}
	tests := []struct {
		name   string
		policy *OriginPolicy
		host   string
		origin string
		want   int // 0 allowed, else the status
	}{
		{"no Origin", nil, "example.com", "", 0},
		{"same origin", nil, "example.com", "http://example.com", 0},
		{"same origin, case", nil, "Example.COM", "https://EXAMPLE.com", 0},
		{"same origin, explicit default port in Origin", nil, "example.com", "https://example.com:443", 0},
		{"same origin, explicit default port in Host", nil, "example.com:80", "http://example.com", 0},
		{"same origin, other port", nil, "example.com:8080", "http://example.com:8080", 0},
		{"port mismatch", nil, "example.com:8080", "http://example.com:9090", 403},
		{"non-default port vs none", nil, "example.com", "http://example.com:8080", 403},
		{"default port of the other scheme", nil, "example.com", "http://example.com:443", 403},
		{"other host", nil, "example.com", "https://evil.com", 403},
		{"suffix trick", nil, "example.com", "https://evilexample.com", 403},
		{"nil vs zero value", &OriginPolicy{}, "example.com", "https://evil.com", 403},
		{"null", nil, "example.com", "null", 403},
		{"userinfo", nil, "example.com", "http://evil.com@example.com", 403},
		{"no scheme", nil, "example.com", "example.com", 403},
		{"IPv6 same origin", nil, "[::1]:8080", "http://[::1]:8080", 0},
		{"subdomain pattern", wide, "api.example.com", "https://www.example.com", 0},
		{"deep subdomain pattern", wide, "api.example.com", "https://a.b.example.com", 0},
		{"subdomain pattern not the apex", wide, "api.example.com", "https://example.com", 403},
		{"subdomain pattern, explicit port", wide, "api.example.com", "https://www.example.com:8443", 403},
		{"subdomain pattern, default port", wide, "api.example.com", "https://www.example.com:443", 0},
		{"any port pattern", wide, "api.example.com", "http://localhost:3000", 0},
		{"any port pattern needs a port", wide, "api.example.com", "http://localhost", 403},
		{"exact pattern, upper-case origin", wide, "api.example.com", "https://APP.test", 0},
		{"IPv6 pattern", wide, "api.example.com", "http://[::1]:5173", 0},
		{"pattern does not skip the scheme check", wide, "api.example.com", "app.test", 403},
		{"malformed pattern", &OriginPolicy{Patterns: []string{"[", "a[.example.com"}}, "x", "http://a[.example.com", 403},
		{"allow all", &OriginPolicy{AllowAll: true}, "example.com", "https://evil.com", 0},
		{"allow all, null", &OriginPolicy{AllowAll: true}, "example.com", "null", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.Check(&Request{Host: tt.host, Origin: tt.origin})
			if tt.want == 0 {
				if err != nil {
					t.Errorf("refused: %v", err)
				}
				return
			}
			var he *Error
			if !errors.As(err, &he) || he.StatusCode != tt.want {
				t.Errorf("Check = %v, want status %d", err, tt.want)
			}
		})
	}
}
