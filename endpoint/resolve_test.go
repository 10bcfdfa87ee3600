package endpoint_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/rfc6455/websocket/endpoint"
)

// TestResolveOffline: literals and localhost names resolve without any
// lookup, so this passes on a machine with no network and no hosts file.
func TestResolveOffline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	loopback := []string{"[::1]:8080", "127.0.0.1:8080"}
	for _, tt := range []struct {
		host string
		want []string
	}{
		{"192.0.2.1", []string{"192.0.2.1:8080"}},
		{"2001:db8::1", []string{"[2001:db8::1]:8080"}},
		{"[2001:db8::1]", []string{"[2001:db8::1]:8080"}}, // as it appears in a URL's Host
		{"fe80::1%eth0", []string{"[fe80::1%eth0]:8080"}},
		{"::ffff:192.0.2.1", []string{"[::ffff:192.0.2.1]:8080"}}, // a literal is taken as written
		{"localhost", loopback},
		{"LocalHost", loopback},
		{"localhost.", loopback},
		{"app.localhost", loopback},
		{"a.b.localhost.", loopback},
	} {
		eps, err := endpoint.Resolve(ctx, tt.host, 8080)
		if err != nil {
			t.Errorf("Resolve(%q): %v", tt.host, err)
			continue
		}
		if got := strs(eps); !slices.Equal(got, tt.want) {
			t.Errorf("Resolve(%q) = %q, want %q", tt.host, got, tt.want)
		}
	}
}

// TestResolveRefused: names that are not localhost names go to the
// resolver; port 0 is refused before any lookup.
func TestResolveRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if eps, err := endpoint.Resolve(ctx, "localhost", 0); err == nil {
		t.Errorf("Resolve(localhost, 0) = %v, want an error", eps)
	}
	if eps, err := endpoint.Resolve(ctx, "fe80::1%a]", 80); err == nil {
		t.Errorf("Resolve(fe80::1%%a], 80) = %v, want an error", eps)
	}
	// Names that merely contain "localhost" are ordinary names: .invalid
	// (RFC 6761 §6.4) never resolves, wherever the lookup goes.
	for _, host := range []string{"notlocalhost.invalid", "localhost.invalid", ".localhost"} {
		eps, err := endpoint.Resolve(ctx, host, 80)
		if err == nil {
			t.Errorf("Resolve(%q) = %v, want an error", host, eps)
			continue
		}
		var de *net.DNSError
		if !errors.As(err, &de) && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Resolve(%q): %T %v, want a *net.DNSError", host, err, err)
		}
	}
}

// TestResolveCancelled: a lookup observes its context.
func TestResolveCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if eps, err := endpoint.Resolve(ctx, "example.invalid", 80); err == nil {
		t.Errorf("Resolve with a cancelled context = %v, want an error", eps)
	}
}

func strs(eps []endpoint.Endpoint) []string {
	out := make([]string, len(eps))
	for i, e := range eps {
		out[i] = e.String()
	}
	return out
}
