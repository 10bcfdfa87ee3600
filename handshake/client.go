package handshake

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// ClientRequest is the opening handshake a client sends (RFC 6455 §4.1).
type ClientRequest struct {
	// URL is the WebSocket URI, with scheme ws or wss (http and https
	// are accepted as their equivalents). The request target is its
	// path and query ("/" if the path is empty); the Host field is its
	// host, without the scheme's default port. It must not have a
	// fragment (RFC 6455 §3). User information is not sent: put
	// credentials in Header.
	URL *url.URL

	// Key is the Sec-WebSocket-Key, normally from [NewKey]. A fresh one
	// is needed for every handshake.
	Key string

	// Protocols are the subprotocols offered, in order of preference;
	// each a token, none twice. Empty means no Sec-WebSocket-Protocol
	// field.
	Protocols []string

	// Extensions are the extension offers, in order of preference.
	// Empty means no Sec-WebSocket-Extensions field.
	Extensions []Extension

	// Header holds further fields to send: Origin, Cookie,
	// Authorization and so on. Fields the handshake sets itself (Host,
	// Upgrade, Connection, Sec-WebSocket-*) and the body framing fields
	// (Content-Length, Transfer-Encoding) are an error here.
	Header http.Header
}

// Append appends the request to dst:
//
//	GET <path?query> HTTP/1.1\r\n
//	Host: <host>\r\n
//	Upgrade: websocket\r\n
//	Connection: Upgrade\r\n
//	Sec-WebSocket-Key: <key>\r\n
//	Sec-WebSocket-Version: 13\r\n
//	Sec-WebSocket-Protocol: <protocols, comma-separated>\r\n  (if any)
//	Sec-WebSocket-Extensions: <extensions, comma-separated>\r\n  (if any)
//	<Header, sorted by name>\r\n
//	\r\n
//
// It returns dst unchanged and an error if any part of c cannot be sent as
// is: a URL of another scheme or with a fragment, an invalid key, a
// subprotocol that is not a token or appears twice, an extension with a
// name or value that is not a token, or a header field that is reserved
// or would break the request (a name that is not a token, a value with a
// control character).
func (c *ClientRequest) Append(dst []byte) ([]byte, error) {
	host, target, err := c.hostAndTarget()
	if err != nil {
		return dst, err
	}
	if !validKey(c.Key) {
		return dst, errors.New("websocket: handshake: key is not the base64 of 16 bytes")
	}
	for i, p := range c.Protocols {
		if !isToken(p) {
			return dst, fmt.Errorf("websocket: handshake: subprotocol %q is not a token", p)
		}
		for _, q := range c.Protocols[:i] {
			if p == q {
				return dst, fmt.Errorf("websocket: handshake: subprotocol %q offered twice", p)
			}
		}
	}
	for _, e := range c.Extensions {
		if why := validExtension(e); why != "" {
			return dst, errors.New("websocket: handshake: " + why)
		}
	}
	for name, vv := range c.Header {
		if !isToken(name) {
			return dst, fmt.Errorf("websocket: handshake: header field name %q is not a token", name)
		}
		if isReserved(name, reservedRequest) {
			return dst, fmt.Errorf("websocket: handshake: header field %s is set by the handshake", name)
		}
		for _, v := range vv {
			if !validFieldValue(v) {
				return dst, fmt.Errorf("websocket: handshake: header field %s has a control character in its value", name)
			}
		}
	}

	dst = append(dst, "GET "...)
	dst = append(dst, target...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	dst = append(dst, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "...)
	dst = append(dst, c.Key...)
	dst = append(dst, "\r\nSec-WebSocket-Version: 13\r\n"...)
	if len(c.Protocols) > 0 {
		dst = append(dst, "Sec-WebSocket-Protocol: "...)
		for i, p := range c.Protocols {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = append(dst, p...)
		}
		dst = append(dst, "\r\n"...)
	}
	if len(c.Extensions) > 0 {
		dst = append(dst, "Sec-WebSocket-Extensions: "...)
		dst = appendExtensions(dst, c.Extensions)
		dst = append(dst, "\r\n"...)
	}
	dst = appendExtra(dst, c.Header, reservedRequest)
	return append(dst, "\r\n"...), nil
}

// hostAndTarget returns the Host value and the request target for c.URL.
func (c *ClientRequest) hostAndTarget() (host, target string, err error) {
	u := c.URL
	if u == nil {
		return "", "", errors.New("websocket: handshake: no URL")
	}
	var defaultPort string
	switch strings.ToLower(u.Scheme) {
	case "ws", "http":
		defaultPort = "80"
	case "wss", "https":
		defaultPort = "443"
	default:
		return "", "", fmt.Errorf("websocket: handshake: URL scheme %q is not ws or wss", u.Scheme)
	}
	if u.Opaque != "" {
		return "", "", errors.New("websocket: handshake: URL has no path")
	}
	if u.Fragment != "" || u.RawFragment != "" {
		return "", "", errors.New("websocket: handshake: URL has a fragment")
	}
	host = u.Host
	if port := u.Port(); port == defaultPort {
		host = host[:len(host)-len(":"+port)]
	} else if port == "" {
		host = strings.TrimSuffix(host, ":")
	}
	if host == "" || strings.ContainsAny(host, "/?#@") || !validFieldValue(host) || strings.ContainsAny(host, " \t") {
		return "", "", fmt.Errorf("websocket: handshake: URL host %q is not valid", u.Host)
	}
	target = u.RequestURI()
	for i := 0; i < len(target); i++ {
		if c := target[i]; c <= ' ' || c == 0x7f || c == '#' {
			return "", "", fmt.Errorf("websocket: handshake: URL path or query %q is not valid", target)
		}
	}
	return host, target, nil
}

// Response is a server's accepted opening handshake, as [ReadResponse]
// found it.
type Response struct {
	StatusCode int         // 101
	Protocol   string      // the subprotocol the server chose, "" for none
	Extensions []Extension // the extensions the server accepted, in its order
	Header     http.Header // every header field, canonical keys
}

// ResponseError is a server's refusal of an opening handshake, or a
// response the client must not accept (RFC 6455 §4.1 lists what makes a
// client fail the connection). It carries what the server said, for the
// user to act on: a 401 with its WWW-Authenticate, a 426 with the version
// the server speaks, a redirect's Location.
type ResponseError struct {
	// StatusCode is the response's status; 0 if the status line could
	// not be parsed.
	StatusCode int

	// Status is the status code and reason phrase, e.g. "403 Forbidden".
	Status string

	// Header holds the response's header fields; nil if they could not
	// be parsed.
	Header http.Header

	// Body is the body of a refusal that declared its Content-Length and
	// fits within the head size limit along with the head; nil
	// otherwise. It may be shorter than declared if the connection ended.
	Body []byte

	// Reason says what was wrong with the response.
	Reason string
}

// Error returns "websocket: handshake: <reason> (HTTP <status>)", without
// the parenthesis when there is no status.
func (e *ResponseError) Error() string {
	if e.Status == "" {
		return "websocket: handshake: " + e.Reason
	}
	return "websocket: handshake: " + e.Reason + " (HTTP " + e.Status + ")"
}

// Reasons for rejecting a response.
const (
	reasonRespHeadTooLarge  = "response head too large"
	reasonStatusLine        = "malformed status line"
	reasonNotSwitching      = "server did not switch protocols"
	reasonRespUpgrade       = `Upgrade header is not "websocket"`
	reasonRespConnection    = `Connection header does not contain "Upgrade"`
	reasonRespNoAccept      = "missing or repeated Sec-WebSocket-Accept header"
	reasonRespBadAccept     = "Sec-WebSocket-Accept does not match the key"
	reasonRespProtocol      = "malformed Sec-WebSocket-Protocol header"
	reasonRespProtocolOffer = "server chose a subprotocol that was not offered"
	reasonRespExtensions    = "malformed Sec-WebSocket-Extensions header"
	reasonRespExtOffer      = "server accepted an extension that was not offered"
	reasonRespExtTwice      = "server accepted an extension twice"
)

// ReadResponse reads the server's answer to req from br and checks it
// (RFC 6455 §4.1): status 101, Upgrade "websocket", Connection listing
// "upgrade", Sec-WebSocket-Accept matching req.Key (§4.2.2), at most one
// subprotocol and one that req offered, and extensions that req offered (by
// name; parameters are for the extension to judge) and each at most once.
//
// It reads the head (status line, fields, empty line; at most maxSize bytes,
// zero or less meaning 16 KiB) and not a byte more, so frames
// the server sent right behind it stay in br. The only exception is a
// refusal's body, read as described at [ResponseError.Body]; the connection
// is of no further use then.
//
// A response that fails the checks gives a [*ResponseError]. If the
// connection fails or ends before the head is complete, ReadResponse returns
// that error wrapped.
func ReadResponse(br *bufio.Reader, maxSize int, req *ClientRequest) (*Response, error) {
	if maxSize <= 0 {
		maxSize = maxHeadSize
	}
	head, err := readHead(br, maxSize)
	if err != nil {
		if _, ok := err.(*Error); ok { // the limit's 431
			return nil, &ResponseError{Reason: reasonRespHeadTooLarge}
		}
		return nil, fmt.Errorf("websocket: handshake: reading response: %w", err)
	}
	line, fields := nextLine(head)
	code, status, ok := parseStatusLine(line)
	if !ok {
		return nil, &ResponseError{Reason: reasonStatusLine}
	}
	h, reason := parseHeader(nil, fields)
	if reason != "" {
		return nil, &ResponseError{StatusCode: code, Status: status, Reason: reason}
	}
	fail := func(reason string) (*Response, error) {
		return nil, &ResponseError{StatusCode: code, Status: status, Header: h, Reason: reason}
	}
	if code != http.StatusSwitchingProtocols {
		return nil, &ResponseError{
			StatusCode: code,
			Status:     status,
			Header:     h,
			Body:       readBody(br, h, maxSize-len(head)),
			Reason:     reasonNotSwitching,
		}
	}
	// Upgrade must name websocket and nothing else: a response
	// switching to some other protocol is not ours to speak.
	if up, ok := singleValue(h, "Upgrade"); !ok || !equalFold(up, "websocket") {
		return fail(reasonRespUpgrade)
	}
	if !hasToken(h["Connection"], "upgrade") {
		return fail(reasonRespConnection)
	}
	accept, ok := singleValue(h, "Sec-Websocket-Accept")
	if !ok || accept == "" {
		return fail(reasonRespNoAccept)
	}
	var want [acceptLen]byte
	if string(appendAcceptKey(want[:0], req.Key)) != accept {
		return fail(reasonRespBadAccept)
	}
	resp := &Response{StatusCode: code, Header: h}
	if vv := h["Sec-Websocket-Protocol"]; len(vv) > 0 {
		if len(vv) > 1 || !isToken(vv[0]) {
			return fail(reasonRespProtocol)
		}
		if SelectProtocol(req.Protocols, vv[:1]) == "" {
			return fail(reasonRespProtocolOffer)
		}
		resp.Protocol = vv[0]
	}
	exts, err := parseExtensions(h["Sec-Websocket-Extensions"])
	if err != nil {
		return fail(reasonRespExtensions)
	}
	for i, e := range exts {
		if !offered(req.Extensions, e.Name) {
			return fail(reasonRespExtOffer)
		}
		for _, prev := range exts[:i] {
			if prev.Name == e.Name {
				return fail(reasonRespExtTwice)
			}
		}
	}
	resp.Extensions = exts
	return resp, nil
}

// offered reports whether an extension called name is among the offers.
func offered(offers []Extension, name string) bool {
	for _, o := range offers {
		if o.Name == name {
			return true
		}
	}
	return false
}

// parseStatusLine parses "HTTP-version SP status-code SP [reason-phrase]"
// (RFC 9112 §4). It returns the code and the text after the version. The
// space after the code is optional here, as some servers leave it out along
// with the reason phrase.
func parseStatusLine(line string) (code int, status string, ok bool) {
	version, status, found := strings.Cut(line, " ")
	if !found {
		return 0, "", false
	}
	if _, _, ok := parseHTTPVersion(version); !ok {
		return 0, "", false
	}
	if len(status) < 3 || !isDigit(status[0]) || !isDigit(status[1]) || !isDigit(status[2]) ||
		(len(status) > 3 && status[3] != ' ') || !validFieldValue(status) {
		return 0, "", false
	}
	code = int(status[0]-'0')*100 + int(status[1]-'0')*10 + int(status[2]-'0')
	if code < 100 {
		return 0, "", false
	}
	return code, status, true
}

// readBody reads a refusal's body when its Content-Length fits in budget
// bytes, and returns nil otherwise. A body cut short is returned as far as
// it came: it is only there to show the user.
func readBody(br *bufio.Reader, h http.Header, budget int) []byte {
	cl, ok := singleValue(h, "Content-Length")
	if !ok || cl == "" {
		return nil
	}
	n, err := strconv.ParseUint(cl, 10, 31)
	if err != nil || n == 0 || n > uint64(budget) {
		return nil
	}
	body := make([]byte, n)
	got, _ := io.ReadFull(br, body)
	return body[:got]
}
