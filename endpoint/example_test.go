package endpoint_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/rfc6455/websocket/endpoint"
)

func ExampleParse() {
	for _, s := range []string{"192.0.2.1:80", "[2001:DB8::1]:443", "[fe80::1%eth0]:8080", "example.com:80", "::1:80"} {
		e, err := endpoint.Parse(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(e, e.Is6())
	}
	// Output:
	// 192.0.2.1:80 false
	// [2001:db8::1]:443 true
	// [fe80::1%eth0]:8080 true
	// address example.com:80: host name, not an IP address (resolve it with Resolve)
	// address ::1:80: IPv6 address must be in square brackets
}

func ExampleFromURL() {
	for _, s := range []string{"wss://example.com/chat", "ws://[2001:db8::1]:8080/", "ws://example.com:80/"} {
		u, _ := url.Parse(s)
		t, err := endpoint.FromURL(u)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("resolve %s, port %d, Host: %s, TLS %v\n", t.Host, t.Port, t.HostHeader, t.Secure)
	}
	// Output:
	// resolve example.com, port 443, Host: example.com, TLS true
	// resolve 2001:db8::1, port 8080, Host: [2001:db8::1]:8080, TLS false
	// resolve example.com, port 80, Host: example.com, TLS false
}

// A client resolves a name to every address it has, then lets the Dialer
// race them. Here the server listens on IPv4 loopback only, so the IPv6
// attempt at ::1 fails and IPv4 wins at once.
func ExampleDialer_DialEndpoints() {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	eps, err := endpoint.Resolve(ctx, "localhost", port)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("candidates:", len(eps), "first IPv6:", eps[0].Is6())

	var d endpoint.Dialer
	c, ep, err := d.DialEndpoints(ctx, eps)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	fmt.Println("connected to", ep.Addr())
	// Output:
	// candidates: 2 first IPv6: true
	// connected to 127.0.0.1
}
