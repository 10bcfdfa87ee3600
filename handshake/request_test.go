package handshake

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// Legend for the wire bytes in these tests: every line is spelled out with
// its terminator, "\r\n" (CRLF) or "\n" (bare LF); a head ends with a line
// that is only its terminator. Header values in Go strings are the exact
// bytes on the wire, whitespace included.

// rfcRequest is the example request of RFC 6455 §1.2 (the Origin does not
// match the Host, which matters only to origin tests).
const rfcRequest = "GET /chat HTTP/1.1\r\n" +
	"Host: server.example.com\r\n" +
	"Upgrade: websocket\r\n" +
	"Connection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
	"Origin: http://example.com\r\n" +
	"Sec-WebSocket-Protocol: chat, superchat\r\n" +
	"Sec-WebSocket-Version: 13\r\n" +
	"\r\n"

// readRequest reads a request head from br through a pooled RequestParser,
// line by line so that nothing past the head is consumed: the same path as
// ReadResponse's, which the tests and fuzz targets hold against the
// parser fed in other ways and against net/http. A failed read comes back
// wrapped, a refusal as the *Error.
func readRequest(br *bufio.Reader, maxSize int) (*Request, error) {
	p := parsers.Get().(*RequestParser)
	p.Reset(maxSize)
	defer func() {
		p.Reset(0)
		parsers.Put(p)
	}()
	if err := p.readFrom(br); err != nil {
		if he, ok := err.(*Error); ok {
			return nil, he
		}
		return nil, fmt.Errorf("websocket: handshake: reading request: %w", err)
	}
	return p.NewRequest()
}

// readRequestString runs readRequest over s.
func readRequestString(s string, maxSize int) (*Request, error) {
	return readRequest(bufio.NewReader(strings.NewReader(s)), maxSize)
}

// viaNetHTTP parses s with net/http and converts it with FromHTTP: the other
// path into a Request.
func viaNetHTTP(s string) (*Request, error) {
	hr, err := http.ReadRequest(bufio.NewReader(strings.NewReader(s)))
	if err != nil {
		return nil, err
	}
	return FromHTTP(hr)
}

// requestDiff describes how two Requests differ, "" if they do not.
func requestDiff(got, want *Request) string {
	if reflect.DeepEqual(got, want) {
		return ""
	}
	var b strings.Builder
	gv, wv := reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()
	for i := 0; i < gv.NumField(); i++ {
		g, w := gv.Field(i).Interface(), wv.Field(i).Interface()
		if !reflect.DeepEqual(g, w) {
			fmt.Fprintf(&b, "\n\t%s: got %#v, want %#v", gv.Type().Field(i).Name, g, w)
		}
	}
	return b.String()
}

func TestReadRequestRFCExample(t *testing.T) {
	got, err := readRequestString(rfcRequest, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := &Request{
		Method: "GET", RequestURI: "/chat", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Host:      "server.example.com",
		Origin:    "http://example.com",
		Key:       "dGhlIHNhbXBsZSBub25jZQ==",
		Version:   "13",
		Protocols: []string{"chat", "superchat"},
		Header: http.Header{
			"Upgrade":                {"websocket"},
			"Connection":             {"Upgrade"},
			"Sec-Websocket-Key":      {"dGhlIHNhbXBsZSBub25jZQ=="},
			"Origin":                 {"http://example.com"},
			"Sec-Websocket-Protocol": {"chat, superchat"},
			"Sec-Websocket-Version":  {"13"},
		},
		UpgradeWebSocket:  true,
		ConnectionUpgrade: true,
	}
	if d := requestDiff(got, want); d != "" {
		t.Errorf("readRequest(RFC 6455 §1.2 example):%s", d)
	}
}

// TestReadRequestParsing covers what the parser accepts and how it reads it.
func TestReadRequestParsing(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		// check inspects the result.
		check func(t *testing.T, r *Request)
	}{
		{
			name: "bare LF line endings",
			raw:  "GET /a HTTP/1.1\nHost: h\nUpgrade: websocket\n\n",
			check: func(t *testing.T, r *Request) {
				if r.Host != "h" || !r.UpgradeWebSocket || r.RequestURI != "/a" {
					t.Errorf("got Host %q, Upgrade %v, URI %q", r.Host, r.UpgradeWebSocket, r.RequestURI)
				}
			},
		},
		{
			name: "names in any case, values trimmed of OWS",
			raw: "GET / HTTP/1.1\r\n" +
				"hOST:   h:1 \t\r\n" + // OWS around the value
				"sec-websocket-KEY:dGhlIHNhbXBsZSBub25jZQ==\r\n" + // no space after colon
				"X-Custom-header: a\r\n" +
				"\r\n",
			check: func(t *testing.T, r *Request) {
				if r.Host != "h:1" || r.Key != "dGhlIHNhbXBsZSBub25jZQ==" {
					t.Errorf("Host %q, Key %q", r.Host, r.Key)
				}
				if got := r.Header["X-Custom-Header"]; !reflect.DeepEqual(got, []string{"a"}) {
					t.Errorf(`Header["X-Custom-Header"] = %q`, got)
				}
			},
		},
		{
			name: "token lists across lines, empty elements, case-insensitive keywords",
			raw: "GET / HTTP/1.1\r\n" +
				"Connection: keep-alive\r\n" +
				"Connection: , UPGRADE ,\r\n" + // an empty element each side
				"Upgrade: h2c, WebSocket\r\n" +
				"Sec-WebSocket-Protocol: chat\r\n" +
				"Sec-WebSocket-Protocol: ,superchat,  v2.chat\r\n" +
				"\r\n",
			check: func(t *testing.T, r *Request) {
				if !r.UpgradeWebSocket || !r.ConnectionUpgrade {
					t.Errorf("UpgradeWebSocket %v, ConnectionUpgrade %v", r.UpgradeWebSocket, r.ConnectionUpgrade)
				}
				if want := []string{"chat", "superchat", "v2.chat"}; !reflect.DeepEqual(r.Protocols, want) {
					t.Errorf("Protocols = %q, want %q", r.Protocols, want)
				}
				if want := []string{"keep-alive", ", UPGRADE ,"}; !reflect.DeepEqual(r.Header["Connection"], want) {
					t.Errorf("Connection values = %q, want %q", r.Header["Connection"], want)
				}
			},
		},
		{
			name: "Upgrade with a version is not websocket",
			raw:  "GET / HTTP/1.1\r\nUpgrade: websocket/13\r\nConnection: upgrade-ish\r\n\r\n",
			check: func(t *testing.T, r *Request) {
				if r.UpgradeWebSocket || r.ConnectionUpgrade {
					t.Errorf("UpgradeWebSocket %v, ConnectionUpgrade %v, want false", r.UpgradeWebSocket, r.ConnectionUpgrade)
				}
			},
		},
		{
			name: "Unicode folding does not make websocket",
			raw:  "GET / HTTP/1.1\r\nUpgrade: websoc\u212Aet\r\n\r\n", // KELVIN SIGN for k
			check: func(t *testing.T, r *Request) {
				if r.UpgradeWebSocket {
					t.Error("UpgradeWebSocket = true for a KELVIN SIGN spelling")
				}
			},
		},
		{
			name: "extensions across lines",
			raw: "GET / HTTP/1.1\r\n" +
				"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
				"Sec-WebSocket-Extensions: x-foo; a=\"1\", permessage-deflate\r\n" +
				"\r\n",
			check: func(t *testing.T, r *Request) {
				want := []Extension{
					{Name: "permessage-deflate", Params: []Param{{Name: "client_max_window_bits"}}},
					{Name: "x-foo", Params: []Param{{Name: "a", Value: "1", HasValue: true}}},
					{Name: "permessage-deflate"},
				}
				if !reflect.DeepEqual(r.Extensions, want) {
					t.Errorf("Extensions = %+v, want %+v", r.Extensions, want)
				}
			},
		},
		{
			name: "absolute-form target sets Host",
			raw:  "GET ws://example.com:8080/chat?x=1 HTTP/1.1\r\nHost: other\r\n\r\n",
			check: func(t *testing.T, r *Request) {
				if r.Host != "example.com:8080" || r.RequestURI != "ws://example.com:8080/chat?x=1" {
					t.Errorf("Host %q, RequestURI %q", r.Host, r.RequestURI)
				}
			},
		},
		{
			name: "repeated ordinary fields keep every value",
			raw:  "GET / HTTP/1.1\r\nCookie: a=1\r\nX: 1\r\nCookie: b=2\r\nCookie: c=3\r\n\r\n",
			check: func(t *testing.T, r *Request) {
				if want := []string{"a=1", "b=2", "c=3"}; !reflect.DeepEqual(r.Header["Cookie"], want) {
					t.Errorf("Cookie = %q, want %q", r.Header["Cookie"], want)
				}
				if want := []string{"1"}; !reflect.DeepEqual(r.Header["X"], want) {
					t.Errorf("X = %q, want %q (clobbered by an append?)", r.Header["X"], want)
				}
			},
		},
		{
			name: "HTTP/2.0 in a request line parses; empty value is kept; obs-text allowed",
			raw:  "GET / HTTP/2.0\r\nX-Empty:\r\nX-Latin: caf\xe9\r\n\r\n",
			check: func(t *testing.T, r *Request) {
				if r.ProtoMajor != 2 || r.ProtoMinor != 0 {
					t.Errorf("Proto %d.%d", r.ProtoMajor, r.ProtoMinor)
				}
				if vv, ok := r.Header["X-Empty"]; !ok || vv[0] != "" {
					t.Errorf("X-Empty = %q, %v", vv, ok)
				}
				if r.Header.Get("X-Latin") != "caf\xe9" {
					t.Errorf("X-Latin = %q", r.Header.Get("X-Latin"))
				}
			},
		},
		{
			name: "no header fields at all",
			raw:  "GET / HTTP/1.1\r\n\r\n",
			check: func(t *testing.T, r *Request) {
				if r.Header == nil || len(r.Header) != 0 {
					t.Errorf("Header = %#v, want empty non-nil", r.Header)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := readRequestString(tt.raw, 0)
			if err != nil {
				t.Fatalf("readRequest: %v", err)
			}
			tt.check(t, r)
		})
	}
}

// TestReadRequestMalformed lists heads that are refused before any WebSocket
// rule applies: each with status 400 and its own reason.
func TestReadRequestMalformed(t *testing.T) {
	const ok = "Host: h\r\n\r\n"
	tests := []struct {
		name, raw, reason string
	}{
		{"empty line before request line", "\r\nGET / HTTP/1.1\r\n" + ok, reasonRequestLine},
		{"only two parts", "GET /\r\n" + ok, reasonRequestLine},
		{"double space", "GET  / HTTP/1.1\r\n" + ok, reasonTarget},
		{"trailing space", "GET / HTTP/1.1 \r\n" + ok, reasonVersion},
		{"method not a token", "G(T / HTTP/1.1\r\n" + ok, reasonMethodToken},
		{"empty method", " / HTTP/1.1\r\n" + ok, reasonMethodToken},
		{"lower-case version", "GET / http/1.1\r\n" + ok, reasonVersion},
		{"two-digit version", "GET / HTTP/1.10\r\n" + ok, reasonVersion},
		{"version without minor", "GET / HTTP/1\r\n" + ok, reasonVersion},
		{"asterisk target", "GET * HTTP/1.1\r\n" + ok, reasonTarget},
		{"relative target", "GET chat HTTP/1.1\r\n" + ok, reasonTarget},
		{"fragment in target", "GET /chat#x HTTP/1.1\r\n" + ok, reasonTarget},
		{"control byte in target", "GET /c\x01hat HTTP/1.1\r\n" + ok, reasonTarget},
		{"DEL in target", "GET /c\x7fhat HTTP/1.1\r\n" + ok, reasonTarget},
		{"ftp absolute target", "GET ftp://h/ HTTP/1.1\r\n" + ok, reasonTarget},
		{"userinfo in absolute target", "GET http://u@h/ HTTP/1.1\r\n" + ok, reasonTarget},
		{"empty authority", "GET http:///x HTTP/1.1\r\n" + ok, reasonTarget},
		{"CR inside request line", "GET /\r HTTP/1.1\r\n" + ok, reasonTarget},
		{"obs-fold", "GET / HTTP/1.1\r\nX: a\r\n b\r\n" + ok, reasonObsFold},
		{"whitespace before first field", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", reasonObsFold},
		{"no colon", "GET / HTTP/1.1\r\nHost h\r\n\r\n", reasonHeaderLine},
		{"space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", reasonHeaderName},
		{"empty name", "GET / HTTP/1.1\r\n: h\r\n\r\n", reasonHeaderName},
		{"non-token name", "GET / HTTP/1.1\r\nHo(st: h\r\n\r\n", reasonHeaderName},
		{"CR in value", "GET / HTTP/1.1\r\nX: a\rb\r\n" + ok, reasonHeaderValue},
		{"NUL in value", "GET / HTTP/1.1\r\nX: a\x00b\r\n" + ok, reasonHeaderValue},
		{"CR before CRLF", "GET / HTTP/1.1\r\nX: a\r\r\n" + ok, reasonHeaderValue},
		{"two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", reasonDupHost},
		{"two Origin fields", "GET / HTTP/1.1\r\nOrigin: http://a\r\nOrigin: http://a\r\n" + ok, reasonDupOrigin},
		{"two keys", "GET / HTTP/1.1\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n" + ok, reasonDupKey},
		{"two versions", "GET / HTTP/1.1\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Version: 13\r\n" + ok, reasonDupVersion},
		{"subprotocol not a token", "GET / HTTP/1.1\r\nSec-WebSocket-Protocol: chat, su per\r\n" + ok, reasonProtocolList},
		{"subprotocol with slash", "GET / HTTP/1.1\r\nSec-WebSocket-Protocol: a/b\r\n" + ok, reasonProtocolList},
		{"malformed extensions", "GET / HTTP/1.1\r\nSec-WebSocket-Extensions: permessage-deflate;\r\n" + ok, reasonExtensionList},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := readRequestString(tt.raw, 0)
			var he *Error
			if !errors.As(err, &he) {
				t.Fatalf("readRequest = %+v, %v; want *Error", r, err)
			}
			if he.StatusCode != http.StatusBadRequest || he.Reason != tt.reason {
				t.Errorf("readRequest error = %d %q, want 400 %q", he.StatusCode, he.Reason, tt.reason)
			}
		})
	}
}

// TestReadRequestSizeLimit checks the 431 boundary: a head of exactly
// maxSize bytes passes, one byte more is refused, whether the excess is in
// the request line, a field or the final empty line.
func TestReadRequestSizeLimit(t *testing.T) {
	head := rfcRequest
	n := len(head)
	for _, tc := range []struct {
		name    string
		raw     string
		maxSize int
		want    int // 0 for success
	}{
		{"exactly the limit", head, n, 0},
		{"one byte over", head, n - 1, 431},
		{"over in the request line", "GET /" + strings.Repeat("a", 100) + " HTTP/1.1\r\n\r\n", 50, 431},
		{"over in one long field", "GET / HTTP/1.1\r\nX: " + strings.Repeat("v", 5000) + "\r\n\r\n", 4096, 431},
		{"over in many fields", "GET / HTTP/1.1\r\n" + strings.Repeat("X-A: b\r\n", 1000) + "\r\n", 4096, 431},
		{"default limit holds 16 KiB", "GET / HTTP/1.1\r\nX: " + strings.Repeat("v", maxHeadSize-40) + "\r\n\r\n", 0, 0},
		{"default limit refuses more", "GET / HTTP/1.1\r\nX: " + strings.Repeat("v", maxHeadSize) + "\r\n\r\n", 0, 431},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readRequestString(tc.raw, tc.maxSize)
			var he *Error
			switch {
			case tc.want == 0 && err != nil:
				t.Fatalf("readRequest: %v", err)
			case tc.want != 0 && (!errors.As(err, &he) || he.StatusCode != tc.want || he.Reason != reasonHeadTooLarge):
				t.Fatalf("readRequest error = %v, want %d %q", err, tc.want, reasonHeadTooLarge)
			}
		})
	}
}

// TestReadRequestLongLines uses a bufio.Reader smaller than a line, so that
// lines arrive in pieces.
func TestReadRequestLongLines(t *testing.T) {
	long := strings.Repeat("x", 300)
	raw := "GET /" + long + " HTTP/1.1\r\nHost: h\r\nX-Long: " + long + "\r\n\r\nFRAME"
	br := bufio.NewReaderSize(strings.NewReader(raw), 16)
	r, err := readRequest(br, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.RequestURI != "/"+long || r.Header.Get("X-Long") != long || r.Host != "h" {
		t.Errorf("RequestURI %q, X-Long %q, Host %q", r.RequestURI, r.Header.Get("X-Long"), r.Host)
	}
	if rest, _ := io.ReadAll(br); string(rest) != "FRAME" {
		t.Errorf("left in reader: %q, want %q", rest, "FRAME")
	}
}

// TestReadRequestStopsAtHead checks that bytes after the head (a client's
// early frames) are left in the reader.
func TestReadRequestStopsAtHead(t *testing.T) {
	for _, eol := range []string{"\r\n", "\n"} {
		// Legend: head, then a masked text frame "Hi" (0x81 0x82, mask, payload).
		frame := "\x81\x82\x01\x02\x03\x04\x49\x6b"
		raw := strings.ReplaceAll(rfcRequest, "\r\n", eol) + frame
		br := bufio.NewReader(strings.NewReader(raw))
		if _, err := readRequest(br, 0); err != nil {
			t.Fatal(err)
		}
		if br.Buffered() != len(frame) {
			t.Errorf("eol %q: %d bytes buffered after head, want %d", eol, br.Buffered(), len(frame))
		}
		if rest, _ := io.ReadAll(br); string(rest) != frame {
			t.Errorf("eol %q: left %q, want %q", eol, rest, frame)
		}
	}
}

func TestReadRequestEOF(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want error
	}{
		{"", io.EOF},
		{"GET / HTTP/1.1", io.ErrUnexpectedEOF},
		{"GET / HTTP/1.1\r\nHost: h\r\n", io.ErrUnexpectedEOF},
		{"GET / HTTP/1.1\r\nHost: h\r\n\r", io.ErrUnexpectedEOF},
	} {
		_, err := readRequestString(tc.raw, 0)
		if !errors.Is(err, tc.want) {
			t.Errorf("readRequest(%q) = %v, want %v", tc.raw, err, tc.want)
		}
		var he *Error
		if errors.As(err, &he) {
			t.Errorf("readRequest(%q) returned an *Error for a cut connection", tc.raw)
		}
	}
}

// errReader fails after its data.
type errReader struct {
	data string
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestReadRequestIOError(t *testing.T) {
	boom := errors.New("boom")
	_, err := readRequest(bufio.NewReader(&errReader{"GET / HTTP/1.1\r\n", boom}), 0)
	if !errors.Is(err, boom) {
		t.Errorf("readRequest = %v, want wrapped %v", err, boom)
	}
}

func TestFromHTTP(t *testing.T) {
	// A request as a handler sees it after net/http's server parsed it.
	hr, err := http.ReadRequest(bufio.NewReader(strings.NewReader(rfcRequest)))
	if err != nil {
		t.Fatal(err)
	}
	r, err := FromHTTP(hr)
	if err != nil {
		t.Fatal(err)
	}
	if r.Host != "server.example.com" || r.Key != "dGhlIHNhbXBsZSBub25jZQ==" || r.Version != "13" ||
		!reflect.DeepEqual(r.Protocols, []string{"chat", "superchat"}) || r.RequestURI != "/chat" {
		t.Errorf("FromHTTP = %+v", r)
	}
	// The header is shared, not copied.
	hr.Header.Set("X-Later", "1")
	if r.Header.Get("X-Later") != "1" {
		t.Error("FromHTTP copied the header")
	}

	// A request built by hand has no RequestURI; the URL supplies it.
	built, _ := http.NewRequest("GET", "http://h/p?q=1", nil)
	r, err = FromHTTP(built)
	if err != nil || r.RequestURI != "/p?q=1" || r.Host != "h" {
		t.Errorf("FromHTTP(NewRequest) = %+v, %v", r, err)
	}

	// Header problems give the same *Error as readRequest.
	built.Header["Sec-Websocket-Key"] = []string{"a", "b"}
	_, err = FromHTTP(built)
	var he *Error
	if !errors.As(err, &he) || he.StatusCode != 400 || he.Reason != reasonDupKey {
		t.Errorf("FromHTTP with two keys = %v, want 400 %q", err, reasonDupKey)
	}
}

func TestCanonicalKey(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"host", "Host"},
		{"HOST", "Host"},
		{"sec-websocket-key", "Sec-Websocket-Key"},
		{"Sec-WebSocket-Extensions", "Sec-Websocket-Extensions"},
		{"x-custom-header", "X-Custom-Header"},
		{"x_under_score", "X_under_score"},
		{"a--b", "A--B"},
		{"-x", "-X"},
		{strings.Repeat("ab-", 30), http.CanonicalHeaderKey(strings.Repeat("ab-", 30))}, // longer than the stack buffer
	} {
		got, ok := canonicalKey(tc.in)
		if !ok || got != tc.want {
			t.Errorf("canonicalKey(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
		if got != http.CanonicalHeaderKey(tc.in) {
			t.Errorf("canonicalKey(%q) = %q, net/http says %q", tc.in, got, http.CanonicalHeaderKey(tc.in))
		}
	}
	for _, bad := range []string{"", "a b", "a:b", "a\x00", "caf\xe9", "(x)"} {
		if _, ok := canonicalKey(bad); ok {
			t.Errorf("canonicalKey(%q) accepted", bad)
		}
	}
	// Canonical and common names do not allocate.
	for _, name := range []string{"Host", "sec-websocket-key", "Sec-WebSocket-Version", "user-agent"} {
		if n := testing.AllocsPerRun(100, func() { canonicalKey(name) }); n != 0 {
			t.Errorf("canonicalKey(%q) allocates %v times", name, n)
		}
	}
}
