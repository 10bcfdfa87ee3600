package conformance

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// acceptGUID is the fixed GUID of RFC 6455 §1.3.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// acceptKey computes Sec-WebSocket-Accept for a Sec-WebSocket-Key (§4.2.2).
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + acceptGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// newKey returns a fresh random Sec-WebSocket-Key: 16 random bytes, base64.
func newKey() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// HandshakeError reports an opening handshake the peer got wrong.
type HandshakeError struct {
	Reason string
}

func (e *HandshakeError) Error() string { return "conformance: handshake: " + e.Reason }

// headerHasToken reports whether a comma-separated header contains token,
// compared case-insensitively (§4.2.1 uses tokens for Upgrade and Connection).
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// clientHandshake sends the opening handshake for target over c and checks
// the server's answer (§4.1). It returns the reader positioned at the first
// frame byte and the server's Sec-WebSocket-Extensions value.
func clientHandshake(c net.Conn, target *url.URL, extensions string) (*bufio.Reader, string, error) {
	key := newKey()
	path := target.RequestURI()
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\n", path)
	fmt.Fprintf(&b, "Host: %s\r\n", target.Host)
	b.WriteString("Upgrade: websocket\r\nConnection: Upgrade\r\n")
	fmt.Fprintf(&b, "Sec-WebSocket-Key: %s\r\n", key)
	b.WriteString("Sec-WebSocket-Version: 13\r\n")
	if extensions != "" {
		fmt.Fprintf(&b, "Sec-WebSocket-Extensions: %s\r\n", extensions)
	}
	b.WriteString("User-Agent: rfc6455-conformance\r\n\r\n")
	if _, err := c.Write([]byte(b.String())); err != nil {
		return nil, "", err
	}
	br := bufio.NewReaderSize(c, 64<<10)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
	if err != nil {
		return nil, "", &HandshakeError{Reason: "reading response: " + err.Error()}
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode != http.StatusSwitchingProtocols:
		return nil, "", &HandshakeError{Reason: "status " + resp.Status}
	case !headerHasToken(resp.Header, "Upgrade", "websocket"):
		return nil, "", &HandshakeError{Reason: "missing Upgrade: websocket"}
	case !headerHasToken(resp.Header, "Connection", "upgrade"):
		return nil, "", &HandshakeError{Reason: "missing Connection: Upgrade"}
	case resp.Header.Get("Sec-WebSocket-Accept") != acceptKey(key):
		return nil, "", &HandshakeError{Reason: "wrong Sec-WebSocket-Accept"}
	}
	// Several header lines form one list (RFC 7230 §3.2.2).
	ext := strings.Join(resp.Header.Values("Sec-WebSocket-Extensions"), ", ")
	if ext != "" && extensions == "" {
		return nil, "", &HandshakeError{Reason: "server accepted an extension that was not offered: " + ext}
	}
	return br, ext, nil
}

// readUpgrade reads and validates a client's opening handshake (§4.2.1). On
// failure it has already answered with 400.
func readUpgrade(c net.Conn, br *bufio.Reader) (*http.Request, error) {
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, &HandshakeError{Reason: "reading request: " + err.Error()}
	}
	var reason string
	switch {
	case req.Method != http.MethodGet:
		reason = "method " + req.Method
	case !headerHasToken(req.Header, "Upgrade", "websocket"):
		reason = "missing Upgrade: websocket"
	case !headerHasToken(req.Header, "Connection", "upgrade"):
		reason = "missing Connection: Upgrade"
	case req.Header.Get("Sec-WebSocket-Version") != "13":
		reason = "Sec-WebSocket-Version is not 13"
	default:
		if k, err := base64.StdEncoding.DecodeString(req.Header.Get("Sec-WebSocket-Key")); err != nil || len(k) != 16 {
			reason = "Sec-WebSocket-Key is not 16 base64-encoded bytes"
		}
	}
	if reason != "" {
		c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
		return req, &HandshakeError{Reason: reason}
	}
	return req, nil
}

// acceptUpgrade writes the 101 response for req. extensions is the
// Sec-WebSocket-Extensions value to return, or empty.
func acceptUpgrade(c net.Conn, req *http.Request, extensions string) error {
	var b strings.Builder
	b.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
	fmt.Fprintf(&b, "Sec-WebSocket-Accept: %s\r\n", acceptKey(req.Header.Get("Sec-WebSocket-Key")))
	if extensions != "" {
		fmt.Fprintf(&b, "Sec-WebSocket-Extensions: %s\r\n", extensions)
	}
	b.WriteString("\r\n")
	_, err := c.Write([]byte(b.String()))
	return err
}
