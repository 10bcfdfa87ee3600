package endpoint

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// ErrBadURL is wrapped by every error of [FromURL]: the URL cannot name a
// WebSocket server. Match it with errors.Is; the message says what is wrong
// with the URL.
var ErrBadURL = errors.New("websocket: bad URL")

// badURL returns an error wrapping ErrBadURL with the given detail.
func badURL(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadURL}, args...)...)
}

// Target is where a WebSocket URL points: what to resolve, which port to
// connect to and what to put in the Host header.
type Target struct {
	// Host is the URL's host name or IP literal, without brackets; an
	// IPv6 zone is kept ("fe80::1%eth0"). Pass it to [Resolve].
	Host string

	// Port is the URL's port, or the scheme's default: 80 for ws and
	// http, 443 for wss and https.
	Port uint16

	// HostHeader is the value of the Host header (RFC 9110 §7.2): the
	// host, bracketed if it is an IPv6 address, followed by ":port" only
	// when the port is not the scheme's default. The zone is left out, as
	// it means nothing to the server (RFC 6874 §4).
	HostHeader string

	// Secure is true for wss and https: the connection needs TLS.
	Secure bool
}

// FromURL maps a ws, wss, http or https URL (schemes compared without
// regard to case) to its Target. It fails, with an error wrapping
// [ErrBadURL], for other schemes, a missing host, a host that is neither a
// bracketed IPv6 address nor a registered name or IPv4 address (RFC 3986
// §3.2.2), and a port that is not a decimal number from 1 to 65535.
func FromURL(u *url.URL) (Target, error) {
	if u == nil {
		return Target{}, badURL("nil URL")
	}
	var t Target
	switch strings.ToLower(u.Scheme) {
	case "ws", "http":
		t.Port = 80
	case "wss", "https":
		t.Port, t.Secure = 443, true
	default:
		return Target{}, badURL("scheme %q is not ws, wss, http or https", u.Scheme)
	}
	defaultPort := t.Port
	t.Host = u.Hostname()
	if t.Host == "" {
		return Target{}, badURL("%q has no host", u.String())
	}
	if strings.HasPrefix(u.Host, "[") {
		if a, err := netip.ParseAddr(t.Host); err != nil || !a.Is6() || !validZone(a) {
			return Target{}, badURL("host %q is not an IPv6 address in brackets", u.Host)
		}
	} else if !isRegName(t.Host) {
		return Target{}, badURL("host %q is not a valid host name", t.Host)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return Target{}, badURL("port %q is not a number from 1 to 65535", p)
		}
		t.Port = uint16(n)
	}
	host := t.Host
	if i := strings.IndexByte(host, '%'); i >= 0 && strings.Contains(host, ":") {
		host = host[:i] // an IPv6 zone
	}
	if t.Port != defaultPort {
		t.HostHeader = net.JoinHostPort(host, strconv.Itoa(int(t.Port)))
	} else if strings.Contains(host, ":") {
		t.HostHeader = "[" + host + "]"
	} else {
		t.HostHeader = host
	}
	return t, nil
}

// isRegName reports whether host, as url.URL.Hostname decoded it, is a
// registered name or an IPv4 address of RFC 3986 §3.2.2: unreserved
// characters and sub-delimiters only. Bytes from 0x80 up are allowed for
// internationalized names, which the resolver deals with.
func isRegName(host string) bool {
	for i := 0; i < len(host); i++ {
		c := host[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c >= 0x80:
		case strings.IndexByte("-._~!$&'()*+,;=", c) >= 0:
		default:
			return false
		}
	}
	return true
}
