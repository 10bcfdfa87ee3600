package handshake

import (
	"net/http"
	"strconv"
)

// Error is the server's refusal of an opening handshake: the HTTP status to
// answer with and why. [RequestParser], [FromHTTP], [Check] and
// [OriginPolicy.Check] return it, and a server builds one to refuse for
// reasons of its own (a 503 past its connection limit, say);
// [AppendErrorResponse] turns it into a response on a raw connection and
// [WriteError] through net/http, alike.
//
// These are all the refusals, each made in one place:
//
//   - 400 Bad Request: a malformed head ([RequestParser.Request],
//     [FromHTTP]) or one that is no opening handshake
//     ([Check]), a method other than GET included (with "Allow: GET"), and
//     a missing Sec-WebSocket-Version (with "Sec-WebSocket-Version: 13");
//   - 403 Forbidden: an Origin the [OriginPolicy] refuses;
//   - 426 Upgrade Required: a Sec-WebSocket-Version other than 13 (with
//     "Sec-WebSocket-Version: 13");
//   - 431 Request Header Fields Too Large: a head past the limit;
//   - 503 Service Unavailable, with "Retry-After: 1": a server at its
//     connection limit or shutting down.
type Error struct {
	// StatusCode is the HTTP status to answer with, one of those above.
	StatusCode int

	// Reason says what was wrong, in a few words. It is sent as the
	// response body, so it never quotes the request.
	Reason string

	// Header holds extra response fields, such as
	// "Sec-Websocket-Version: 13" on a 426 or "Allow: GET" on a refused
	// method. It may be nil.
	Header http.Header
}

// Error returns "websocket: handshake: <reason> (HTTP <code>)".
func (e *Error) Error() string {
	return "websocket: handshake: " + e.Reason + " (HTTP " + strconv.Itoa(e.StatusCode) + ")"
}

// badRequest returns a 400 refusal.
func badRequest(reason string) *Error {
	return &Error{StatusCode: http.StatusBadRequest, Reason: reason}
}

// Reasons for refusing a request. Each refusal has its own, so a client's
// developer can tell from the body alone what to fix, and tests can tell the
// refusals apart.
const (
	reasonHeadTooLarge     = "request head too large"
	reasonRequestLine      = "malformed request line"
	reasonMethodToken      = "malformed request method"
	reasonTarget           = "malformed request target"
	reasonVersion          = "malformed HTTP version"
	reasonHeaderLine       = "malformed header line"
	reasonHeaderName       = "malformed header field name"
	reasonHeaderValue      = "malformed header field value"
	reasonObsFold          = "obsolete line folding in header"
	reasonDupHost          = "duplicate Host header"
	reasonDupOrigin        = "duplicate Origin header"
	reasonDupKey           = "duplicate Sec-WebSocket-Key header"
	reasonDupVersion       = "duplicate Sec-WebSocket-Version header"
	reasonProtocolList     = "malformed Sec-WebSocket-Protocol header"
	reasonExtensionList    = "malformed Sec-WebSocket-Extensions header"
	reasonMethod           = "method must be GET"
	reasonProto            = "HTTP/1.1 or later required"
	reasonNoHost           = "missing Host header"
	reasonNoUpgrade        = `Upgrade header does not contain "websocket"`
	reasonNoConnection     = `Connection header does not contain "Upgrade"`
	reasonNoVersion        = "missing Sec-WebSocket-Version header"
	reasonBadVersion       = "unsupported Sec-WebSocket-Version"
	reasonNoKey            = "missing Sec-WebSocket-Key header"
	reasonBadKey           = "malformed Sec-WebSocket-Key header"
	reasonOriginMalformed  = "malformed Origin header"
	reasonOriginNotAllowed = "origin not allowed"
)
