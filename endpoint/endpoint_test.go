package endpoint_test

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/rfc6455/websocket/endpoint"
)

// TestParse covers the accepted forms and every way an address can be
// malformed. want is the String() form ("" when Parse must fail); errSub
// is a piece of the expected error reason.
// mustParse is endpoint.Parse for inputs the test knows to be valid.
func mustParse(s string) endpoint.Endpoint {
	e, err := endpoint.Parse(s)
	if err != nil {
		panic(err)
	}
	return e
}

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in     string
		want   string
		is4    bool
		zone   string
		errSub string
	}{
		// IPv4.
		{in: "1.2.3.4:80", want: "1.2.3.4:80", is4: true},
		{in: "127.0.0.1:65535", want: "127.0.0.1:65535", is4: true},
		{in: "0.0.0.0:1", want: "0.0.0.0:1", is4: true},
		{in: "1.2.3.4:0080", want: "1.2.3.4:80", is4: true}, // leading zeros, as net.LookupPort allows
		// IPv6, zones, IPv4-mapped IPv6.
		{in: "[::1]:443", want: "[::1]:443"},
		{in: "[2001:DB8::1]:8080", want: "[2001:db8::1]:8080"}, // canonical lower case
		{in: "[2001:db8:0:0:0:0:0:1]:1", want: "[2001:db8::1]:1"},
		{in: "[fe80::1%eth0]:8080", want: "[fe80::1%eth0]:8080", zone: "eth0"},
		{in: "[fe80::1%25]:8080", want: "[fe80::1%25]:8080", zone: "25"}, // a zone is opaque: "25" is a name, not an escape
		{in: "[fe80::1%a:b]:1", want: "[fe80::1%a:b]:1", zone: "a:b"},
		{in: "[::ffff:1.2.3.4]:80", want: "[::ffff:1.2.3.4]:80", is4: true}, // mapped: kept as written, dialed over IPv4
		{in: "[::1.2.3.4]:80", want: "[::102:304]:80"},                      // IPv4-compatible (deprecated) is plain IPv6
		// Ports.
		{in: "1.2.3.4:0", errSub: "port 0"},
		{in: "[::1]:0", errSub: "port 0"},
		{in: "1.2.3.4:65536", errSub: "invalid port"},
		{in: "1.2.3.4:-1", errSub: "invalid port"},
		{in: "1.2.3.4:+80", errSub: "invalid port"},
		{in: "1.2.3.4:8_0", errSub: "invalid port"},
		{in: "1.2.3.4:http", errSub: "invalid port"},
		{in: "1.2.3.4: 80", errSub: "invalid port"},
		{in: "1.2.3.4:", errSub: "missing port"},
		{in: "1.2.3.4", errSub: "missing port"},
		{in: "[::1]", errSub: "missing port"},
		{in: "[::1]:", errSub: "missing port"},
		// Brackets.
		{in: "::1:80", errSub: "square brackets"},
		{in: "::1", errSub: "square brackets"},
		{in: "fe80::1%eth0:80", errSub: "square brackets"},
		{in: "[1.2.3.4]:80", errSub: "square brackets around an IPv4"},
		{in: "[::1:80", errSub: "missing ']'"},
		{in: "[::1]]:80", errSub: "unexpected text"},
		{in: "[fe80::1%a]b]:80", errSub: "unexpected text"},
		{in: "[fe80::1%a[b]:80", errSub: "bracket in IPv6 zone"},
		{in: "[::%]]:1", errSub: "unexpected text"},
		{in: "[::1]x:80", errSub: "unexpected text"},
		{in: "[::1]80", errSub: "unexpected text"},
		{in: "::1]:80", errSub: "unexpected bracket"},
		{in: "[]:80", errSub: "missing IP"},
		{in: "[:80", errSub: "missing ']'"},
		// Zones where they do not belong.
		{in: "1.2.3.4%eth0:80", errSub: "invalid IP"},
		{in: "[fe80::1%]:80", errSub: "invalid IP"},
		// Host names and other non-addresses.
		{in: "localhost:80", errSub: "host name"},
		{in: "example.com:443", errSub: "host name"},
		{in: "xn--bcher-kva.example:443", errSub: "host name"},
		{in: "[localhost]:80", errSub: "invalid IP"},
		{in: "1.2.3:80", errSub: "invalid IP"},
		{in: "1.2.3.256:80", errSub: "invalid IP"},
		{in: "01.2.3.4:80", errSub: "invalid IP"}, // octal-looking octets are ambiguous, refused
		{in: " 1.2.3.4:80", errSub: "invalid IP"},
		{in: ":80", errSub: "missing IP"},
		{in: "", errSub: "missing port"},
	} {
		e, err := endpoint.Parse(tt.in)
		if tt.want == "" {
			var ae *net.AddrError
			if err == nil {
				t.Errorf("Parse(%q) = %v, want an error", tt.in, e)
			} else if !errors.As(err, &ae) || ae.Addr != tt.in || !strings.Contains(ae.Err, tt.errSub) {
				t.Errorf("Parse(%q): %T %v, want a *net.AddrError about %q", tt.in, err, err, tt.errSub)
			}
			if e.IsValid() {
				t.Errorf("Parse(%q) failed but returned a valid %v", tt.in, e)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := e.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
		if e.Is4() != tt.is4 || e.Is6() == tt.is4 || !e.IsValid() {
			t.Errorf("Parse(%q): Is4 %v Is6 %v IsValid %v, want Is4 %v", tt.in, e.Is4(), e.Is6(), e.IsValid(), tt.is4)
		}
		if z := e.Addr().Zone(); z != tt.zone {
			t.Errorf("Parse(%q).Addr().Zone() = %q, want %q", tt.in, z, tt.zone)
		}
		// Whatever Parse accepts, netip reads the same way.
		if ap, err := netip.ParseAddrPort(tt.in); err != nil || ap != netip.AddrPortFrom(e.Addr(), e.Port()) {
			t.Errorf("netip.ParseAddrPort(%q) = %v, %v; Parse gave %v", tt.in, ap, err, e)
		}
	}
}

func TestNew(t *testing.T) {
	for _, tt := range []struct {
		addr netip.Addr
		port uint16
		want string // "" for an error
	}{
		{netip.MustParseAddr("192.0.2.1"), 80, "192.0.2.1:80"},
		{netip.MustParseAddr("2001:db8::1"), 443, "[2001:db8::1]:443"},
		{netip.MustParseAddr("fe80::1%eth0"), 1, "[fe80::1%eth0]:1"},
		{netip.MustParseAddr("192.0.2.1"), 0, ""},
		{netip.Addr{}, 80, ""},
		{netip.MustParseAddr("fe80::1%a]"), 80, ""},
		{netip.MustParseAddr("fe80::1%[a"), 80, ""},
	} {
		e, err := endpoint.New(tt.addr, tt.port)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("New(%v, %d) = %v, want an error", tt.addr, tt.port, e)
		case tt.want == "":
			var ae *net.AddrError
			if !errors.As(err, &ae) {
				t.Errorf("New(%v, %d): %T, want a *net.AddrError", tt.addr, tt.port, err)
			}
		case err != nil:
			t.Errorf("New(%v, %d): %v", tt.addr, tt.port, err)
		case e.String() != tt.want || e.Addr() != tt.addr || e.Port() != tt.port:
			t.Errorf("New(%v, %d) = %v (addr %v port %d), want %s", tt.addr, tt.port, e, e.Addr(), e.Port(), tt.want)
		case e != mustParse(tt.want):
			t.Errorf("New(%v, %d) != Parse(%q)", tt.addr, tt.port, tt.want)
		}
	}
}

// TestZeroEndpoint: the zero value is invalid and says so.
func TestZeroEndpoint(t *testing.T) {
	var e endpoint.Endpoint
	if e.IsValid() || e.Is4() || e.Is6() || e.Port() != 0 || e.Addr().IsValid() {
		t.Errorf("zero Endpoint: IsValid %v Is4 %v Is6 %v Port %d Addr %v", e.IsValid(), e.Is4(), e.Is6(), e.Port(), e.Addr())
	}
	if s := e.String(); s != "invalid Endpoint" {
		t.Errorf("zero Endpoint String() = %q", s)
	}
}

// TestMapKey: endpoints are values; equal endpoints made different ways
// are one map key, and the mapped form of an IPv4 address is another.
func TestMapKey(t *testing.T) {
	m := map[endpoint.Endpoint]int{}
	m[mustParse("192.0.2.1:80")]++
	m[mustParse("192.0.2.1:0080")]++
	e, _ := endpoint.New(netip.AddrFrom4([4]byte{192, 0, 2, 1}), 80)
	m[e]++
	m[mustParse("[::ffff:192.0.2.1]:80")]++
	m[mustParse("[fe80::1%eth0]:80")]++
	m[mustParse("[fe80::1%eth1]:80")]++
	m[mustParse("[FE80::1%eth1]:80")]++
	if len(m) != 4 || m[e] != 3 || m[mustParse("[fe80::1%eth1]:80")] != 2 {
		t.Errorf("map = %v, want 4 keys, 192.0.2.1:80 three times and [fe80::1%%eth1]:80 twice", m)
	}
}

// TestParseNoAlloc: parsing is cheap enough for a hot path.
func TestParseNoAlloc(t *testing.T) {
	for _, s := range []string{"192.0.2.1:80", "[2001:db8::1]:443"} {
		if n := testing.AllocsPerRun(100, func() { endpoint.Parse(s) }); n != 0 {
			t.Errorf("Parse(%q): %v allocations, want 0", s, n)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	for _, s := range []string{"192.0.2.1:80", "[2001:db8::1]:443", "[fe80::1%eth0]:8080"} {
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := endpoint.Parse(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkString(b *testing.B) {
	e := mustParse("[2001:db8::1]:443")
	b.ReportAllocs()
	for b.Loop() {
		_ = e.String()
	}
}
