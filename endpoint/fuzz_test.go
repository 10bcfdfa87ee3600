package endpoint_test

import (
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/rfc6455/websocket/endpoint"
)

// FuzzParse: whatever Parse accepts, String writes back in a form Parse
// reads as the same endpoint (and then writes identically), and two
// independent parsers agree: netip.ParseAddrPort gives the same address
// and port, and net.SplitHostPort the same host and port text.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"1.2.3.4:80", "127.0.0.1:65535", "[::1]:443", "[2001:db8::1]:8080",
		"[fe80::1%eth0]:8080", "[::ffff:1.2.3.4]:80", "1.2.3.4:0080",
		"localhost:80", "[1.2.3.4]:80", "::1:80", "[::1]", "1.2.3.4:0",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := endpoint.Parse(s)
		if err != nil {
			if e.IsValid() {
				t.Fatalf("Parse(%q) failed (%v) with a valid result %v", s, err, e)
			}
			return
		}
		if !e.IsValid() || e.Port() == 0 || e.Is4() == e.Is6() {
			t.Fatalf("Parse(%q) = %v: IsValid %v Port %d Is4 %v Is6 %v", s, e, e.IsValid(), e.Port(), e.Is4(), e.Is6())
		}
		str := e.String()
		e2, err := endpoint.Parse(str)
		if err != nil || e2 != e {
			t.Fatalf("Parse(%q) = %v, but Parse(%q) = %v, %v", s, e, str, e2, err)
		}
		if s2 := e2.String(); s2 != str {
			t.Fatalf("String is not stable: %q then %q", str, s2)
		}
		if ap, err := netip.ParseAddrPort(s); err != nil || ap != netip.AddrPortFrom(e.Addr(), e.Port()) {
			t.Fatalf("Parse(%q) = %v, netip.ParseAddrPort = %v, %v", s, e, ap, err)
		}
		host, port, err := net.SplitHostPort(str)
		if err != nil || host != e.Addr().String() || port != strconv.Itoa(int(e.Port())) {
			t.Fatalf("net.SplitHostPort(%q) = %q, %q, %v; want %q, %d", str, host, port, err, e.Addr(), e.Port())
		}
		if n, err := endpoint.New(e.Addr(), e.Port()); err != nil || n != e {
			t.Fatalf("New(%v, %d) = %v, %v; want %v", e.Addr(), e.Port(), n, err, e)
		}
	})
}

// FuzzFromURL: a Target has a host and a port, its Host header names the
// same host without a zone, and the header carries the port exactly when
// it is not the scheme's default.
func FuzzFromURL(f *testing.F) {
	for _, s := range []string{
		"ws://example.com/", "wss://example.com:8443/x", "ws://[::1]:80/",
		"ws://[fe80::1%25eth0]:8080/", "http://192.0.2.1/", "ws://h:0/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := url.Parse(s)
		if err != nil {
			return
		}
		tg, err := endpoint.FromURL(u)
		if err != nil {
			return
		}
		if tg.Host == "" || tg.Port == 0 {
			t.Fatalf("FromURL(%q) = %+v: no host or port", s, tg)
		}
		defaultPort := uint16(80)
		if tg.Secure {
			defaultPort = 443
		}
		host, port := tg.HostHeader, ""
		if h, p, err := net.SplitHostPort(tg.HostHeader); err == nil {
			host, port = h, p
		} else {
			host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		}
		want := tg.Host
		if i := strings.IndexByte(want, '%'); i >= 0 && strings.Contains(want, ":") {
			want = want[:i]
		}
		if host != want {
			t.Fatalf("FromURL(%q): Host header %q names %q, want %q", s, tg.HostHeader, host, want)
		}
		if (port == "") != (tg.Port == defaultPort) || (port != "" && port != strconv.Itoa(int(tg.Port))) {
			t.Fatalf("FromURL(%q): Host header %q for port %d (default %d)", s, tg.HostHeader, tg.Port, defaultPort)
		}
	})
}
