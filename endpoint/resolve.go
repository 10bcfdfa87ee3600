package endpoint

import (
	"context"
	"net"
	"net/netip"
	"strings"
)

// Resolve returns the endpoints of host at port: one per address, of both
// families, without duplicates.
//
// An IP literal ("192.0.2.1", "2001:db8::1", "[2001:db8::1]",
// "fe80::1%eth0") is its own single address and involves no lookup.
// "localhost" and names under it ("app.localhost") are the loopback
// addresses ::1 and 127.0.0.1, in that order, without asking the system
// resolver, as RFC 6761 §6.3 recommends: this works offline, and a
// resolver cannot send them elsewhere. Any other name goes to
// [net.DefaultResolver] (A and AAAA records, and the hosts file), and the
// addresses come back in its order, which on most systems is RFC 6724's
// destination address selection: reachable IPv6 before IPv4.
//
// Port 0 is refused. ctx bounds the lookup. A lookup that fails or finds
// nothing returns the resolver's error, usually a *[net.DNSError].
func Resolve(ctx context.Context, host string, port uint16) ([]Endpoint, error) {
	if port == 0 {
		return nil, &net.AddrError{Err: "port 0 is not a destination", Addr: host}
	}
	literal := host
	if len(literal) > 2 && literal[0] == '[' && literal[len(literal)-1] == ']' {
		literal = literal[1 : len(literal)-1]
	}
	if addr, err := netip.ParseAddr(literal); err == nil {
		e, err := New(addr, port)
		if err != nil {
			return nil, err
		}
		return []Endpoint{e}, nil
	}
	if isLocalhost(host) {
		return []Endpoint{
			{netip.AddrPortFrom(netip.IPv6Loopback(), port)},
			{netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), port)},
		}, nil
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	eps := make([]Endpoint, 0, len(addrs))
	seen := make(map[netip.Addr]bool, len(addrs))
	for _, a := range addrs {
		// The resolver may hand IPv4 answers back in their 16-byte form,
		// which netip keeps as ::ffff:a.b.c.d; an A record is IPv4.
		a = a.Unmap()
		if !a.IsValid() || seen[a] {
			continue
		}
		seen[a] = true
		eps = append(eps, Endpoint{netip.AddrPortFrom(a, port)})
	}
	if len(eps) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return eps, nil
}

// isLocalhost reports whether host is "localhost" or a name under it,
// ignoring case and one trailing dot.
func isLocalhost(host string) bool {
	host = strings.TrimSuffix(host, ".")
	const lh = "localhost"
	if len(host) < len(lh) || !strings.EqualFold(host[len(host)-len(lh):], lh) {
		return false
	}
	return len(host) == len(lh) || host[len(host)-len(lh)-1] == '.' && len(host) > len(lh)+1
}
