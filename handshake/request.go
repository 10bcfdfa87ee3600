package handshake

import (
	"bufio"
	"fmt"
	"net/http"
	"strings"
)

// Request is what a server needs to know about a client's opening
// handshake. A [RequestParser] (or [ReadRequest], the same parser over a
// bufio.Reader) fills it from the wire, [FromHTTP] from a net/http request;
// all fill it the same way, and none judges it: that is [Check]'s and
// [OriginPolicy.Check]'s job.
type Request struct {
	Method     string // "GET"
	RequestURI string // the request target as sent, e.g. "/chat?room=1"
	Proto      string // "HTTP/1.1"
	ProtoMajor int    // 1
	ProtoMinor int    // 1

	// Host is the Host header, or the authority of an absolute-form
	// request target ("GET http://example.com/chat HTTP/1.1"), which
	// takes precedence as RFC 9112 §3.2.2 says.
	Host string

	// Origin, Key and Version are the values of the Origin,
	// Sec-WebSocket-Key and Sec-WebSocket-Version fields, "" when absent.
	// Each may appear at most once.
	Origin  string
	Key     string
	Version string

	// Protocols lists the subprotocols the client offers
	// (Sec-WebSocket-Protocol), in order, from every field line.
	Protocols []string

	// Extensions lists the extensions the client offers
	// (Sec-WebSocket-Extensions), in order, from every field line.
	Extensions []Extension

	// Header holds every header field but Host, keyed by canonical name,
	// for what the handshake does not interpret: cookies, authorization,
	// user agent. As in net/http, Host lives in the Host field only.
	// From FromHTTP it is the http.Request's own map, not a copy.
	Header http.Header

	// UpgradeWebSocket reports whether the Upgrade field lists
	// "websocket" (in any case).
	UpgradeWebSocket bool

	// ConnectionUpgrade reports whether the Connection field lists
	// "upgrade" (in any case).
	ConnectionUpgrade bool
}

// ReadRequest reads an opening handshake request from br: the request line,
// the header fields and the empty line that ends them, and nothing after it,
// so frames the client sends early stay in br. It is a [RequestParser] fed a
// line at a time, for callers that read through a bufio.Reader: a server of
// its own, a proxy, a test. It parses the head itself rather than through
// net/http, cutting every field out of a single allocation, and the
// Request is the caller's to keep.
//
// A head larger than maxSize bytes (start line, fields and empty line; zero
// or less means 16 KiB) gives an [*Error] with status 431. A
// malformed head gives an *Error with status 400; among the things refused
// are obsolete line folding, field names that are not tokens, control
// characters in values, a repeated Host, Origin, Sec-WebSocket-Key or
// Sec-WebSocket-Version field, and malformed subprotocol or extension
// lists. Both CRLF and bare LF end a line.
//
// If the connection fails or ends before the head is complete, ReadRequest
// returns that error wrapped ([io.EOF] if nothing at all was read,
// [io.ErrUnexpectedEOF] if the head was cut short); there is nobody to
// answer then.
//
// ReadRequest does not check that the request is a valid opening handshake;
// pass the result to [Check].
func ReadRequest(br *bufio.Reader, maxSize int) (*Request, error) {
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

// parse parses head, a whole request head (the request line, the header
// fields and the empty line that ends them), into r, reusing r's Header
// map. The Request's strings are substrings of head.
func (r *Request) parse(head string) *Error {
	h := r.Header
	*r = Request{Header: h}
	line, fields := nextLine(head)
	authority, reason := r.parseRequestLine(line)
	if reason != "" {
		return badRequest(reason)
	}
	if r.Header, reason = parseHeader(h, fields); reason != "" {
		return badRequest(reason)
	}
	host, ok := singleValue(r.Header, "Host")
	if !ok {
		return badRequest(reasonDupHost)
	}
	r.Host = host
	delete(r.Header, "Host")
	if authority != "" {
		r.Host = authority
	}
	return r.fromHeader()
}

// FromHTTP returns the Request for a request that net/http has parsed,
// without parsing again what it already did: the method, target, protocol
// and Host come from r's fields and Header is r.Header itself. Only the
// WebSocket fields are read from the header, with the same rules as
// [ReadRequest], so the same bytes give the same Request and the same
// verdict either way. Errors are [*Error] values with status 400.
func FromHTTP(r *http.Request) (*Request, error) {
	req := &Request{
		Method:     r.Method,
		RequestURI: r.RequestURI,
		Proto:      r.Proto,
		ProtoMajor: r.ProtoMajor,
		ProtoMinor: r.ProtoMinor,
		Host:       r.Host,
		Header:     r.Header,
	}
	if req.RequestURI == "" && r.URL != nil {
		// A request built by hand rather than read by a server.
		req.RequestURI = r.URL.RequestURI()
	}
	if err := req.fromHeader(); err != nil {
		return nil, err
	}
	return req, nil
}

// fromHeader fills the WebSocket fields from r.Header. It is the part both
// ReadRequest and FromHTTP run, which is what keeps them in agreement.
func (r *Request) fromHeader() *Error {
	h := r.Header
	var ok bool
	// RFC 6455 §11.3.1 forbids a second Sec-WebSocket-Key, and the other
	// two make no sense twice. Refusing is safer than picking one: a proxy
	// in front might have picked the other.
	if r.Origin, ok = singleValue(h, "Origin"); !ok {
		return badRequest(reasonDupOrigin)
	}
	if r.Key, ok = singleValue(h, "Sec-Websocket-Key"); !ok {
		return badRequest(reasonDupKey)
	}
	if r.Version, ok = singleValue(h, "Sec-Websocket-Version"); !ok {
		return badRequest(reasonDupVersion)
	}
	r.Origin, r.Key, r.Version = trimOWS(r.Origin), trimOWS(r.Key), trimOWS(r.Version)
	r.UpgradeWebSocket = hasToken(h["Upgrade"], "websocket")
	r.ConnectionUpgrade = hasToken(h["Connection"], "upgrade")
	if r.Protocols, ok = parseTokenList(h["Sec-Websocket-Protocol"]); !ok {
		return badRequest(reasonProtocolList)
	}
	exts, err := ParseExtensions(h["Sec-Websocket-Extensions"])
	if err != nil {
		return badRequest(reasonExtensionList)
	}
	r.Extensions = exts
	return nil
}

// parseRequestLine parses "method SP request-target SP HTTP-version"
// (RFC 9112 §3) into r. It returns the authority of an absolute-form target,
// and the reason if the line is malformed.
func (r *Request) parseRequestLine(line string) (authority, reason string) {
	method, rest, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 {
		return "", reasonRequestLine
	}
	if !isToken(method) {
		return "", reasonMethodToken
	}
	authority, ok := parseTarget(target)
	if !ok {
		return "", reasonTarget
	}
	major, minor, ok := parseHTTPVersion(proto)
	if !ok {
		return "", reasonVersion
	}
	r.Method, r.RequestURI, r.Proto, r.ProtoMajor, r.ProtoMinor = method, target, proto, major, minor
	return authority, ""
}

// parseHTTPVersion parses "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3).
func parseHTTPVersion(s string) (major, minor int, ok bool) {
	if len(s) != len("HTTP/1.1") || !strings.HasPrefix(s, "HTTP/") || s[6] != '.' ||
		!isDigit(s[5]) || !isDigit(s[7]) {
		return 0, 0, false
	}
	return int(s[5] - '0'), int(s[7] - '0'), true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// parseTarget validates a request target. RFC 6455 §4.1 sends the resource
// name in origin-form ("/chat?x=1"); §4.2.1 also accepts an absolute http or
// https URI, and ws and wss ones are accepted too. For those it returns the
// authority, which must be a plain host[:port]: userinfo is refused as
// RFC 9110 §4.2.4 advises, and percent-encoding in a host is refused as too
// clever by half. Fragments have no place in a WebSocket URI (RFC 6455 §3).
func parseTarget(t string) (authority string, ok bool) {
	if t == "" {
		return "", false
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; c <= ' ' || c == 0x7f || c == '#' {
			return "", false
		}
	}
	if t[0] == '/' {
		return "", true
	}
	scheme, rest, found := strings.Cut(t, "://")
	if !found || !(equalFold(scheme, "http") || equalFold(scheme, "https") ||
		equalFold(scheme, "ws") || equalFold(scheme, "wss")) {
		return "", false
	}
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		rest = rest[:i]
	}
	if rest == "" {
		return "", false
	}
	for i := 0; i < len(rest); i++ {
		if !hostChar(rest[i]) {
			return "", false
		}
	}
	return rest, true
}

// hostChar reports whether c may appear in a host[:port] as this package
// accepts it: unreserved and sub-delims characters (RFC 3986 §3.2.2), ':' and
// the brackets of an IP literal.
func hostChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:[]", c) >= 0
}
