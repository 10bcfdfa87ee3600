// Package endpoint names the places a WebSocket client connects to, and
// connects to them.
//
// An [Endpoint] is one IP address (with its IPv6 zone, if any) and one
// port. It is a small comparable value built on [netip.AddrPort], so it can
// be a map key and costs no allocation to copy or compare. [Parse] reads
// the numeric forms "192.0.2.1:80", "[2001:db8::1]:443" and
// "[fe80::1%eth0]:8080" and nothing else: a host name is not an endpoint
// but something to [Resolve] into endpoints, usually several, of both
// address families.
//
// [FromURL] maps a ws:// or wss:// URL to the host to resolve, the port and
// the Host header to send. A [Dialer] connects to a list of endpoints the
// way RFC 8305 (Happy Eyeballs) asks: it alternates IPv6 and IPv4, starts
// a new attempt whenever the previous one failed or has been pending for a
// short delay, keeps the first connection that succeeds and closes the
// others. A host with a broken IPv6 path is then reached over IPv4 after a
// quarter of a second rather than after a TCP timeout.
//
// The typical client sequence is FromURL, then Resolve, then
// [Dialer.DialEndpoints]; the root package's Dial does exactly that.
package endpoint

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Endpoint is an IP address, with its zone if it has one, and a non-zero
// port: somewhere a TCP connection can be opened. The zero Endpoint is
// invalid.
//
// Endpoints are comparable with == and usable as map keys. Two endpoints
// are equal when their addresses, zones and ports are; an IPv4 address and
// the same address mapped into IPv6 (::ffff:192.0.2.1) are different
// endpoints, as they are different [netip.Addr] values. [Resolve] never
// returns the mapped form.
type Endpoint struct {
	ap netip.AddrPort
}

// New returns the endpoint for addr and port. It fails with a
// *[net.AddrError] if addr is not a valid address, if its zone has a
// square bracket in it (no address with one can be dialed), or if port is
// 0, which names no listening socket.
func New(addr netip.Addr, port uint16) (Endpoint, error) {
	if !addr.IsValid() {
		return Endpoint{}, &net.AddrError{Err: "invalid IP address", Addr: addr.String()}
	}
	if !validZone(addr) {
		return Endpoint{}, &net.AddrError{Err: "square bracket in IPv6 zone", Addr: addr.String()}
	}
	if port == 0 {
		return Endpoint{}, &net.AddrError{Err: "port 0 is not a destination", Addr: netip.AddrPortFrom(addr, 0).String()}
	}
	return Endpoint{netip.AddrPortFrom(addr, port)}, nil
}

// Parse parses an endpoint in the form [Endpoint.String] writes:
// "192.0.2.1:80" for IPv4, "[2001:db8::1]:443" for IPv6 and
// "[fe80::1%eth0]:8080" for IPv6 with a zone. The port is decimal, 1 to
// 65535. Host names are refused (use [Resolve]); so are IPv6 addresses
// without brackets, IPv4 addresses within them, IPv4 addresses with a
// zone and zones with a square bracket. Errors are *[net.AddrError]
// values.
func Parse(s string) (Endpoint, error) {
	// The port follows the last colon, or for IPv6 the closing bracket:
	// the address has colons of its own, which is why it is bracketed.
	var host, port string
	bracketed := strings.HasPrefix(s, "[")
	if bracketed {
		j := strings.IndexByte(s, ']')
		if j < 0 {
			return Endpoint{}, parseError(s, "missing ']' in address")
		}
		host, port = s[1:j], s[j+1:]
		if port == "" {
			return Endpoint{}, parseError(s, "missing port in address")
		}
		if port[0] != ':' {
			return Endpoint{}, parseError(s, "unexpected text after ']' in address")
		}
		port = port[1:]
	} else {
		i := strings.LastIndexByte(s, ':')
		if i < 0 {
			return Endpoint{}, parseError(s, "missing port in address")
		}
		host, port = s[:i], s[i+1:]
		if strings.ContainsAny(host, "[]") {
			return Endpoint{}, parseError(s, "unexpected bracket in address")
		}
	}
	if host == "" {
		return Endpoint{}, parseError(s, "missing IP address")
	}
	addr, err := netip.ParseAddr(host)
	switch {
	case err != nil && !bracketed && strings.Contains(host, ":"):
		return Endpoint{}, parseError(s, "IPv6 address must be in square brackets")
	case err != nil && !bracketed && isHostname(host):
		return Endpoint{}, parseError(s, "host name, not an IP address (resolve it with Resolve)")
	case err != nil:
		return Endpoint{}, parseError(s, "invalid IP address")
	case bracketed && addr.Is4():
		return Endpoint{}, parseError(s, "square brackets around an IPv4 address")
	case !bracketed && addr.Is6():
		return Endpoint{}, parseError(s, "IPv6 address must be in square brackets")
	case !validZone(addr):
		return Endpoint{}, parseError(s, "square bracket in IPv6 zone")
	}
	if port == "" {
		return Endpoint{}, parseError(s, "missing port in address")
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return Endpoint{}, parseError(s, "invalid port")
	}
	if p == 0 {
		return Endpoint{}, parseError(s, "port 0 is not a destination")
	}
	return Endpoint{netip.AddrPortFrom(addr, uint16(p))}, nil
}

// validZone reports whether addr's zone, if any, can be written within
// brackets and read back: net.SplitHostPort, and so net.Dial, refuses an
// address with a bracket in its zone, although netip accepts one.
func validZone(addr netip.Addr) bool { return !strings.ContainsAny(addr.Zone(), "[]") }

func parseError(s, reason string) error {
	return &net.AddrError{Err: reason, Addr: s}
}

// isHostname reports whether s looks like a DNS name (letters, digits,
// hyphens, underscores and dots, at least one letter), to tell a user who
// passed one to Parse what to do instead.
func isHostname(s string) bool {
	letter := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
			letter = true
		case '0' <= c && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return letter
}

// Addr returns e's IP address, with its zone.
func (e Endpoint) Addr() netip.Addr { return e.ap.Addr() }

// Port returns e's port; it is 0 only for an invalid Endpoint.
func (e Endpoint) Port() uint16 { return e.ap.Port() }

// IsValid reports whether e was made by [New], [Parse] or [Resolve], as
// opposed to being the zero Endpoint.
func (e Endpoint) IsValid() bool { return e.ap.IsValid() }

// Is4 reports whether a connection to e travels over IPv4: e's address is
// an IPv4 address, or an IPv4-mapped IPv6 address (::ffff:192.0.2.1),
// which the operating system dials over IPv4 too. This is the family the
// [Dialer] goes by, which is why it differs from [netip.Addr.Is4].
func (e Endpoint) Is4() bool { return e.ap.Addr().Unmap().Is4() }

// Is6 reports whether a connection to e travels over IPv6: e is valid and
// not [Endpoint.Is4].
func (e Endpoint) Is6() bool { return e.ap.IsValid() && !e.Is4() }

// String returns e in the form [Parse] reads: "192.0.2.1:80",
// "[2001:db8::1]:443", "[fe80::1%eth0]:8080". It is also the address form
// net.Dial takes. The zero Endpoint gives "invalid Endpoint".
func (e Endpoint) String() string {
	if !e.IsValid() {
		return "invalid Endpoint"
	}
	return e.ap.String()
}
