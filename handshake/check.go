package handshake

import (
	"net/http"
	"path"
	"strings"
)

// Check reports whether r is a valid opening handshake request
// (RFC 6455 §4.2.1), and if not, how to refuse it. It checks, in this order:
//
//   - the method is GET (else 400, with "Allow: GET");
//   - the protocol is HTTP/1.1 or later (else 400);
//   - Host is present (else 400);
//   - Upgrade lists "websocket" and Connection lists "upgrade", both
//     case-insensitively (else 400);
//   - Sec-WebSocket-Version is present (else 400) and is "13" (else 426);
//     either refusal carries "Sec-WebSocket-Version: 13" so the client
//     knows what to retry with (RFC 6455 §4.4);
//   - Sec-WebSocket-Key is present and is the base64 of 16 bytes (else 400).
//
// The version comes before the key because clients of older drafts send
// other key fields, and "426, use version 13" is the useful answer for them.
// A missing version is a malformed request rather than an unsupported one,
// hence 400 rather than 426.
//
// Every refusal is an [*Error] with its own Reason. Check does not look at
// Origin; see [OriginPolicy].
func Check(r *Request) error {
	switch {
	case r.Method != http.MethodGet:
		return &Error{
			StatusCode: http.StatusBadRequest,
			Reason:     reasonMethod,
			Header:     http.Header{"Allow": {http.MethodGet}},
		}
	case r.ProtoMajor < 1 || (r.ProtoMajor == 1 && r.ProtoMinor < 1):
		return badRequest(reasonProto)
	case r.Host == "":
		return badRequest(reasonNoHost)
	case !r.UpgradeWebSocket:
		return badRequest(reasonNoUpgrade)
	case !r.ConnectionUpgrade:
		return badRequest(reasonNoConnection)
	case r.Version == "":
		return &Error{StatusCode: http.StatusBadRequest, Reason: reasonNoVersion, Header: versionHeader()}
	case r.Version != "13":
		return &Error{StatusCode: http.StatusUpgradeRequired, Reason: reasonBadVersion, Header: versionHeader()}
	case r.Key == "":
		return badRequest(reasonNoKey)
	case !validKey(r.Key):
		return badRequest(reasonBadKey)
	}
	return nil
}

// versionHeader returns the header that tells a client which protocol
// version the server speaks.
func versionHeader() http.Header {
	return http.Header{"Sec-Websocket-Version": {"13"}}
}

// SelectProtocol returns the subprotocol to answer with: the first entry of
// the server's supported list, in the server's order of preference, that the
// client offered, or "" if there is none (the server then sends no
// Sec-WebSocket-Protocol field, RFC 6455 §4.2.2). Names are compared exactly.
func SelectProtocol(offered, supported []string) string {
	for _, s := range supported {
		for _, o := range offered {
			if o == s {
				return s
			}
		}
	}
	return ""
}

// OriginPolicy decides which browser origins may open a WebSocket
// (RFC 6455 §10.2). Browsers let any page open a WebSocket to any server and
// send the user's cookies along; only the Origin field tells the server whose
// page is asking. A server that authenticates by cookie and skips this check
// lets every web site act on behalf of its users (cross-site WebSocket
// hijacking).
//
// A request passes when
//   - it has no Origin field (clients that are not browsers do not send
//     one, and cannot be tricked into sending someone else's cookies), or
//   - its origin's host[:port] equals the request's Host, ignoring case and
//     the default ports 80 and 443 (same origin), or
//   - its origin's host[:port], in lower case and without a default port,
//     matches one of Patterns, or
//   - AllowAll is set.
//
// The zero value, and a nil *OriginPolicy, allow the same origin only.
type OriginPolicy struct {
	// AllowAll turns the check off. Do this only when the server does
	// not rely on cookies or other ambient credentials, or checks the
	// origin itself: otherwise any web site can use the server with its
	// visitors' credentials.
	AllowAll bool

	// Patterns are path.Match patterns for the host[:port] of allowed
	// origins, in lower case, e.g. "example.com", "*.example.com" (any
	// subdomain, not example.com itself) or "localhost:*" (any explicit
	// port). The port is part of what is matched only when the origin
	// names a non-default one. Brackets are pattern syntax, so an IPv6
	// literal is written escaped: `\[::1\]:*`. A malformed pattern
	// matches nothing.
	Patterns []string
}

// Check returns nil if p allows the origin of r, and an [*Error] with
// status 403 otherwise. The opaque origin "null" (sandboxed frames, local
// files) and malformed Origin values pass only with AllowAll.
func (p *OriginPolicy) Check(r *Request) error {
	if r.Origin == "" || (p != nil && p.AllowAll) {
		return nil
	}
	host, ok := originHost(r.Origin)
	if !ok {
		return &Error{StatusCode: http.StatusForbidden, Reason: reasonOriginMalformed}
	}
	if equalFold(host, stripDefaultPort(r.Host)) {
		return nil
	}
	if p != nil && len(p.Patterns) > 0 {
		host = strings.ToLower(host) // no allocation if already lower case
		for _, pat := range p.Patterns {
			if ok, _ := path.Match(strings.ToLower(pat), host); ok {
				return nil
			}
		}
	}
	return &Error{StatusCode: http.StatusForbidden, Reason: reasonOriginNotAllowed}
}

// originHost returns the host[:port] of a serialized origin,
// scheme "://" host [ ":" port ] (RFC 6454 §6.2), without the scheme's
// default port.
func originHost(origin string) (string, bool) {
	scheme, host, found := strings.Cut(origin, "://")
	if !found || scheme == "" || host == "" {
		return "", false
	}
	for i := 0; i < len(scheme); i++ {
		c := scheme[i]
		if !('a' <= lower(c) && lower(c) <= 'z') && !(i > 0 && (isDigit(c) || c == '+' || c == '-' || c == '.')) {
			return "", false
		}
	}
	for i := 0; i < len(host); i++ {
		if !hostChar(host[i]) { // no path, query, fragment or userinfo
			return "", false
		}
	}
	switch {
	case (equalFold(scheme, "http") || equalFold(scheme, "ws")) && strings.HasSuffix(host, ":80"),
		(equalFold(scheme, "https") || equalFold(scheme, "wss")) && strings.HasSuffix(host, ":443"):
		host = host[:strings.LastIndexByte(host, ':')]
	}
	return host, true
}

// stripDefaultPort removes a ":80" or ":443" from a Host value. The Host
// does not say whether the connection is TLS, so either default is dropped;
// an origin on the other scheme but the same host then still counts as the
// same origin, as it does for most servers.
func stripDefaultPort(host string) string {
	if strings.HasSuffix(host, ":80") || strings.HasSuffix(host, ":443") {
		return host[:strings.LastIndexByte(host, ':')]
	}
	return host
}
