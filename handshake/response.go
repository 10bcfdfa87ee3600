package handshake

import (
	"io"
	"net/http"
	"slices"
	"strconv"
)

// AppendResponse appends to dst the server's answer to a valid opening
// handshake (RFC 6455 §4.2.2):
//
//	HTTP/1.1 101 Switching Protocols\r\n
//	Upgrade: websocket\r\n
//	Connection: Upgrade\r\n
//	Sec-WebSocket-Accept: <base64(SHA-1(key + GUID))>\r\n
//	Sec-WebSocket-Protocol: <protocol>\r\n      (if protocol != "")
//	Sec-WebSocket-Extensions: <extensions>\r\n  (if extensions != "")
//	<extra, sorted by name>\r\n
//	\r\n
//
// key is the client's Sec-WebSocket-Key, protocol the subprotocol chosen
// (see [SelectProtocol]) and extensions the accepted extensions (see
// [Extension.String] and [DeflateParams.String]). In extra, fields that
// the handshake itself sets (Upgrade, Connection, Sec-WebSocket-Accept,
// Sec-WebSocket-Protocol, Sec-WebSocket-Extensions, Content-Length,
// Transfer-Encoding) and names that are not tokens are left out, and control
// characters in values become spaces, so that nothing in extra can change the
// meaning of the response.
// Without extra, AppendResponse does not allocate if dst has room.
func AppendResponse(dst []byte, key, protocol, extensions string, extra http.Header) []byte {
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\n"+
		"Upgrade: websocket\r\n"+
		"Connection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: "...)
	dst = appendAcceptKey(dst, key)
	dst = append(dst, "\r\n"...)
	if protocol != "" {
		dst = appendField(dst, "Sec-WebSocket-Protocol", protocol)
	}
	if extensions != "" {
		dst = appendField(dst, "Sec-WebSocket-Extensions", extensions)
	}
	dst = appendExtra(dst, extra, reservedResponse)
	return append(dst, "\r\n"...)
}

// AppendErrorResponse appends to dst the HTTP response that refuses a
// handshake for the reason err gives: the status line, err.Header (filtered
// as extra is in [AppendResponse]), then
//
//	Content-Type: text/plain; charset=utf-8\r\n
//	Content-Length: <len(err.Reason)>\r\n
//	Connection: close\r\n
//	\r\n
//	<err.Reason>
//
// The connection is to be closed after writing it. A status code outside
// 100-599 is answered as 500. [WriteError] writes the same refusal through
// net/http.
func AppendErrorResponse(dst []byte, err *Error) []byte {
	code := err.status()
	text := http.StatusText(code)
	if text == "" {
		text = "Status " + strconv.Itoa(code)
	}
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(code), 10)
	dst = append(dst, ' ')
	dst = append(dst, text...)
	dst = append(dst, "\r\n"...)
	dst = appendExtra(dst, err.Header, reservedError)
	dst = append(dst, "Content-Type: "+errorContentType+"\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(err.Reason)), 10)
	dst = append(dst, "\r\nConnection: close\r\n\r\n"...)
	return append(dst, err.Reason...)
}

// WriteError writes the refusal err describes through w, for a server on
// net/http: the status, fields and body of [AppendErrorResponse], so that
// a client is refused alike whichever way the server reads requests. (The
// Date net/http adds is the only difference.) w must not have been written
// to.
func WriteError(w http.ResponseWriter, err *Error) {
	h := w.Header()
	for _, name := range extraNames(err.Header, reservedError) {
		vv := err.Header[name]
		clean := make([]string, len(vv))
		for i, v := range vv {
			clean[i] = cleanValue(v)
		}
		h[name] = clean
	}
	h["Content-Type"] = []string{errorContentType}
	h["Content-Length"] = []string{strconv.Itoa(len(err.Reason))}
	h["Connection"] = []string{"close"}
	w.WriteHeader(err.status())
	io.WriteString(w, err.Reason)
}

// errorContentType is the type of a refusal's body, its Reason.
const errorContentType = "text/plain; charset=utf-8"

// status returns the status a refusal is answered with: its StatusCode,
// or 500 if that is not a status.
func (e *Error) status() int {
	if e.StatusCode < 100 || e.StatusCode > 599 {
		return http.StatusInternalServerError
	}
	return e.StatusCode
}

// Fields that the caller's extra headers may not set, because the
// handshake sets them or because they would change how the bytes after the
// head are read.
var (
	reservedResponse = []string{
		"Upgrade", "Connection", "Sec-WebSocket-Accept", "Sec-WebSocket-Protocol",
		"Sec-WebSocket-Extensions", "Content-Length", "Transfer-Encoding",
	}
	reservedError = []string{
		"Connection", "Content-Type", "Content-Length", "Transfer-Encoding",
	}
	reservedRequest = []string{
		"Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version",
		"Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions", "Sec-WebSocket-Accept",
		"Content-Length", "Transfer-Encoding",
	}
)

// isReserved reports whether name is in the list, ignoring case.
func isReserved(name string, reserved []string) bool {
	for _, r := range reserved {
		if equalFold(name, r) {
			return true
		}
	}
	return false
}

// appendField appends "name: value\r\n", turning control characters in value
// into spaces so a value cannot end the line early.
func appendField(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	for i := 0; i < len(value); i++ {
		dst = append(dst, cleanByte(value[i]))
	}
	return append(dst, "\r\n"...)
}

// cleanByte returns c, or a space if c may not appear in a field value.
func cleanByte(c byte) byte {
	if !validFieldValueByte(c) {
		return ' '
	}
	return c
}

// cleanValue returns v with the bytes that may not appear in a field value
// turned into spaces, as appendField writes it.
func cleanValue(v string) string {
	if validFieldValue(v) {
		return v
	}
	b := []byte(v)
	for i, c := range b {
		b[i] = cleanByte(c)
	}
	return string(b)
}

// appendExtra appends the fields of h in name order, leaving out reserved
// names and names that are not tokens.
func appendExtra(dst []byte, h http.Header, reserved []string) []byte {
	for _, name := range extraNames(h, reserved) {
		for _, v := range h[name] {
			dst = appendField(dst, name, v)
		}
	}
	return dst
}

// extraNames returns the names of h that may be sent, in order: not
// reserved, and tokens.
func extraNames(h http.Header, reserved []string) []string {
	if len(h) == 0 {
		return nil
	}
	names := make([]string, 0, len(h))
	for name := range h {
		if isToken(name) && !isReserved(name, reserved) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}
