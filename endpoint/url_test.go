package endpoint_test

import (
	"errors"
	"net/url"
	"testing"

	"github.com/rfc6455/websocket/endpoint"
)

func TestFromURL(t *testing.T) {
	for _, tt := range []struct {
		url  string
		want endpoint.Target
		ok   bool
	}{
		{"ws://example.com/chat", endpoint.Target{Host: "example.com", Port: 80, HostHeader: "example.com"}, true},
		{"wss://example.com/chat", endpoint.Target{Host: "example.com", Port: 443, HostHeader: "example.com", Secure: true}, true},
		{"http://example.com", endpoint.Target{Host: "example.com", Port: 80, HostHeader: "example.com"}, true},
		{"https://example.com", endpoint.Target{Host: "example.com", Port: 443, HostHeader: "example.com", Secure: true}, true},
		{"WSS://Example.COM/", endpoint.Target{Host: "Example.COM", Port: 443, HostHeader: "Example.COM", Secure: true}, true},
		// The default port is left out of Host, whether written or not.
		{"ws://example.com:80/", endpoint.Target{Host: "example.com", Port: 80, HostHeader: "example.com"}, true},
		{"wss://example.com:443/", endpoint.Target{Host: "example.com", Port: 443, HostHeader: "example.com", Secure: true}, true},
		{"ws://example.com:443/", endpoint.Target{Host: "example.com", Port: 443, HostHeader: "example.com:443"}, true},
		{"wss://example.com:80/", endpoint.Target{Host: "example.com", Port: 80, HostHeader: "example.com:80", Secure: true}, true},
		{"ws://example.com:8080/", endpoint.Target{Host: "example.com", Port: 8080, HostHeader: "example.com:8080"}, true},
		{"ws://example.com:/", endpoint.Target{Host: "example.com", Port: 80, HostHeader: "example.com"}, true}, // empty port: the default (RFC 3986 §3.2.3)
		// IP literals: IPv6 bracketed in Host, bare in Host field; the zone
		// ("%25" in a URL, RFC 6874) is kept for dialing, left out of Host.
		{"ws://192.0.2.1:9000/", endpoint.Target{Host: "192.0.2.1", Port: 9000, HostHeader: "192.0.2.1:9000"}, true},
		{"ws://[::1]/", endpoint.Target{Host: "::1", Port: 80, HostHeader: "[::1]"}, true},
		{"wss://[2001:db8::1]:8443/x", endpoint.Target{Host: "2001:db8::1", Port: 8443, HostHeader: "[2001:db8::1]:8443", Secure: true}, true},
		{"ws://[fe80::1%25eth0]:8080/", endpoint.Target{Host: "fe80::1%eth0", Port: 8080, HostHeader: "[fe80::1]:8080"}, true},
		{"ws://[fe80::1%25eth0]/", endpoint.Target{Host: "fe80::1%eth0", Port: 80, HostHeader: "[fe80::1]"}, true},
		// User information is not part of the target.
		{"ws://user:pw@example.com/", endpoint.Target{Host: "example.com", Port: 80, HostHeader: "example.com"}, true},
		// Refused.
		{"ftp://example.com/", endpoint.Target{}, false},
		{"example.com:80", endpoint.Target{}, false},
		{"ws:///path", endpoint.Target{}, false},
		{"ws:opaque", endpoint.Target{}, false},
		{"ws://example.com:0/", endpoint.Target{}, false},
		{"ws://example.com:65536/", endpoint.Target{}, false},
		{"ws://[::1]:0/", endpoint.Target{}, false},
		{"ws://]/", endpoint.Target{}, false},
	} {
		u, err := url.Parse(tt.url)
		if err != nil {
			t.Fatalf("url.Parse(%q): %v", tt.url, err)
		}
		got, err := endpoint.FromURL(u)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("FromURL(%q) = %+v, %v; want %+v, ok %v", tt.url, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, endpoint.ErrBadURL) {
			t.Errorf("FromURL(%q): %v does not wrap ErrBadURL", tt.url, err)
		}
	}
	// Hosts url.Parse would refuse, in URLs built by hand.
	for _, host := range []string{"[192.0.2.1]", "[fe80::1%a[b]", "a b", "a/b", "a:b:c", "a%3Ab", "[::1"} {
		if tg, err := endpoint.FromURL(&url.URL{Scheme: "ws", Host: host}); !errors.Is(err, endpoint.ErrBadURL) {
			t.Errorf("FromURL(ws://%s) = %+v, %v; want an ErrBadURL", host, tg, err)
		}
	}
	if _, err := endpoint.FromURL(nil); !errors.Is(err, endpoint.ErrBadURL) {
		t.Errorf("FromURL(nil): %v, want an ErrBadURL", err)
	}
}
