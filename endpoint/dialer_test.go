package endpoint_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rfc6455/websocket/endpoint"
)

// Addresses of the fake network: two of each family (RFC 3849 and RFC
// 5737 documentation prefixes).
const (
	v6a = "[2001:db8::a]:80"
	v6b = "[2001:db8::b]:80"
	v4a = "192.0.2.1:80"
	v4b = "192.0.2.2:80"
)

const ms = time.Millisecond

// step is how one fake connection attempt goes.
type step struct {
	after  time.Duration // how long the attempt takes; ignored when hang is set
	fail   bool          // fail after `after` rather than connect
	hang   bool          // never ends by itself (a black-holed SYN); only ctx ends it
	deaf   bool          // ignores ctx: connects after `after` even when cancelled
	absent bool          // (for the table) must never be dialed
}

var errRefused = errors.New("connection refused")

// fakeNet is a Dial function that follows a script, in a synctest bubble
// so that its times are exact.
type fakeNet struct {
	t0     time.Time
	script map[string]step

	mu     sync.Mutex
	starts []string // "addr@ms", in order
	ends   []string // "addr@ms:outcome"
	conns  map[string]*fakeConn
}

type fakeConn struct {
	net.Conn // nil: only Close is used
	addr     string
	mu       sync.Mutex
	closed   int
}

func (c *fakeConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed++
	return nil
}

func (c *fakeConn) closes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (f *fakeNet) since() time.Duration { return time.Since(f.t0) }

func (f *fakeNet) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	f.mu.Lock()
	f.starts = append(f.starts, fmt.Sprintf("%s@%d", addr, f.since()/ms))
	f.mu.Unlock()
	if network != "tcp" {
		return nil, fmt.Errorf("fake: network %q", network)
	}
	s, ok := f.script[addr]
	if !ok || s.absent {
		return nil, fmt.Errorf("fake: %s is not in the script", addr)
	}
	var timer <-chan time.Time
	if !s.hang {
		timer = time.After(s.after)
	}
	var err error
	if s.deaf {
		<-timer
	} else {
		select {
		case <-timer:
		case <-ctx.Done():
			err = &net.OpError{Op: "dial", Net: network, Err: ctx.Err()}
		}
	}
	if err == nil && s.fail {
		err = fmt.Errorf("dial %s: %w", addr, errRefused)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		f.ends = append(f.ends, fmt.Sprintf("%s@%d:error", addr, f.since()/ms))
		return nil, err
	}
	f.ends = append(f.ends, fmt.Sprintf("%s@%d:conn", addr, f.since()/ms))
	c := &fakeConn{addr: addr}
	f.conns[addr] = c
	return c, nil
}

// TestDialEndpoints runs the Happy Eyeballs schedule against scripted
// attempts on a fake clock. Times are milliseconds since the call.
func TestDialEndpoints(t *testing.T) {
	hang := step{hang: true}
	refuse := func(after time.Duration) step { return step{after: after, fail: true} }
	accept := func(after time.Duration) step { return step{after: after} }
	for _, tt := range []struct {
		name    string
		eps     []string
		delay   time.Duration // Dialer.Delay
		timeout time.Duration // on ctx, 0 for none
		script  map[string]step

		wantStarts []string // "addr@ms" in order
		wantWinner string   // "" when the dial fails
		wantAt     time.Duration
		wantErrs   []string // pieces of the joined error, in order
		wantCtxErr error
		wantClosed []string // connections that lost and must be closed
	}{{
		name:       "families interleaved from the first, one every 250 ms",
		eps:        []string{v6a, v6b, v4a, v4b},
		script:     map[string]step{v6a: hang, v6b: hang, v4a: hang, v4b: accept(10 * ms)},
		wantStarts: []string{v6a + "@0", v4a + "@250", v6b + "@500", v4b + "@750"},
		wantWinner: v4b, wantAt: 760 * ms,
	}, {
		name:       "IPv4 first when the list starts with IPv4",
		eps:        []string{v4a, v4b, v6a},
		script:     map[string]step{v4a: hang, v6a: hang, v4b: accept(0)},
		wantStarts: []string{v4a + "@0", v6a + "@250", v4b + "@500"},
		wantWinner: v4b, wantAt: 500 * ms,
	}, {
		name:       "first attempt connects: no other starts",
		eps:        []string{v6a, v4a},
		script:     map[string]step{v6a: accept(100 * ms), v4a: {absent: true}},
		wantStarts: []string{v6a + "@0"},
		wantWinner: v6a, wantAt: 100 * ms,
	}, {
		name:       "a failure starts the next attempt at once, and restarts the delay",
		eps:        []string{v6a, v6b, v4a},
		script:     map[string]step{v6a: refuse(10 * ms), v4a: hang, v6b: accept(5 * ms)},
		wantStarts: []string{v6a + "@0", v4a + "@10", v6b + "@260"},
		wantWinner: v6b, wantAt: 265 * ms,
	}, {
		name:       "configured delay",
		eps:        []string{v6a, v4a},
		delay:      100 * ms,
		script:     map[string]step{v6a: hang, v4a: accept(30 * ms)},
		wantStarts: []string{v6a + "@0", v4a + "@100"},
		wantWinner: v4a, wantAt: 130 * ms,
	}, {
		name:       "an earlier attempt may still win the race",
		eps:        []string{v6a, v4a},
		script:     map[string]step{v6a: accept(300 * ms), v4a: hang},
		wantStarts: []string{v6a + "@0", v4a + "@250"},
		wantWinner: v6a, wantAt: 300 * ms,
	}, {
		name:       "a loser that connects anyway is closed",
		eps:        []string{v6a, v4a},
		script:     map[string]step{v6a: {after: 400 * ms, deaf: true}, v4a: accept(10 * ms)},
		wantStarts: []string{v6a + "@0", v4a + "@250"},
		wantWinner: v4a, wantAt: 400 * ms, // waits for the loser
		wantClosed: []string{v6a},
	}, {
		name:       "all fail: every error, in the order they failed",
		eps:        []string{v6a, v6b, v4a},
		script:     map[string]step{v6a: refuse(300 * ms), v4a: refuse(20 * ms), v6b: refuse(1 * ms)},
		wantStarts: []string{v6a + "@0", v4a + "@250", v6b + "@270"},
		wantAt:     300 * ms,
		wantErrs:   []string{v4a, v6b, v6a},
	}, {
		name:       "context deadline: no new attempt, pending ones cancelled",
		eps:        []string{v6a, v4a, v6b},
		timeout:    400 * ms,
		script:     map[string]step{v6a: hang, v4a: hang, v6b: hang},
		wantStarts: []string{v6a + "@0", v4a + "@250"},
		wantAt:     400 * ms,
		wantCtxErr: context.DeadlineExceeded,
	}, {
		name:       "one endpoint",
		eps:        []string{v4a},
		script:     map[string]step{v4a: refuse(0)},
		wantStarts: []string{v4a + "@0"},
		wantErrs:   []string{v4a},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := &fakeNet{t0: time.Now(), script: tt.script, conns: map[string]*fakeConn{}}
				d := &endpoint.Dialer{Dial: f.dial, Delay: tt.delay}
				ctx := context.Background()
				if tt.timeout > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.timeout)
					defer cancel()
				}
				var eps []endpoint.Endpoint
				for _, s := range tt.eps {
					eps = append(eps, mustParse(s))
				}
				c, ep, err := d.DialEndpoints(ctx, eps)
				at := time.Since(f.t0)

				// DialEndpoints has joined every attempt: nothing is left
				// to run in the bubble, and every attempt has ended.
				synctest.Wait()
				f.mu.Lock()
				defer f.mu.Unlock()
				if len(f.ends) != len(f.starts) {
					t.Errorf("%d attempts started, %d ended: %q", len(f.starts), len(f.ends), f.ends)
				}
				if !slices.Equal(f.starts, tt.wantStarts) {
					t.Errorf("attempts started %q, want %q", f.starts, tt.wantStarts)
				}
				if at != tt.wantAt {
					t.Errorf("returned after %v, want %v", at, tt.wantAt)
				}
				if tt.wantWinner != "" {
					if err != nil {
						t.Fatalf("DialEndpoints: %v", err)
					}
					fc := c.(*fakeConn)
					if ep.String() != tt.wantWinner || fc.addr != tt.wantWinner {
						t.Errorf("won %v (conn to %s), want %s", ep, fc.addr, tt.wantWinner)
					}
					if fc.closes() != 0 {
						t.Error("the winning connection was closed")
					}
				} else {
					if err == nil || c != nil || ep.IsValid() {
						t.Fatalf("DialEndpoints = %v, %v, %v; want an error", c, ep, err)
					}
					if tt.wantCtxErr != nil && !errors.Is(err, tt.wantCtxErr) {
						t.Errorf("error %v, want it to wrap %v", err, tt.wantCtxErr)
					}
					lines := strings.Split(err.Error(), "\n")
					if tt.wantCtxErr != nil {
						lines = lines[1:] // ctx's error first, then the attempts'
					}
					if len(lines) != len(tt.wantErrs) && tt.wantErrs != nil {
						t.Errorf("error %q, want one line for each of %q", err, tt.wantErrs)
					}
					for i, want := range tt.wantErrs {
						if i < len(lines) && !strings.Contains(lines[i], want) {
							t.Errorf("error line %d %q, want it about %s", i, lines[i], want)
						}
					}
					if tt.wantErrs != nil && !errors.Is(err, errRefused) {
						t.Errorf("error %v does not wrap the attempts' errors", err)
					}
				}
				for addr, fc := range f.conns {
					want := 0
					if slices.Contains(tt.wantClosed, addr) {
						want = 1
					}
					if fc.closes() != want {
						t.Errorf("connection to %s closed %d times, want %d", addr, fc.closes(), want)
					}
				}
			})
		})
	}
}

// TestDialEndpointsBadInput: nothing is dialed for an empty list, a zero
// Endpoint or a context that is already done.
func TestDialEndpointsBadInput(t *testing.T) {
	d := &endpoint.Dialer{Dial: func(context.Context, string, string) (net.Conn, error) {
		t.Error("Dial called")
		return nil, errors.New("must not dial")
	}}
	ctx := context.Background()
	if _, _, err := d.DialEndpoints(ctx, nil); err == nil {
		t.Error("no endpoints: no error")
	}
	if _, _, err := d.DialEndpoints(ctx, []endpoint.Endpoint{mustParse(v4a), {}}); err == nil {
		t.Error("a zero Endpoint: no error")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := d.DialEndpoints(cctx, []endpoint.Endpoint{mustParse(v4a)}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v, want context.Canceled", err)
	}
}

// TestDialEndpointsNilConn: a broken Dial that returns (nil, nil) counts
// as a failure rather than a winner.
func TestDialEndpointsNilConn(t *testing.T) {
	d := &endpoint.Dialer{Dial: func(context.Context, string, string) (net.Conn, error) { return nil, nil }}
	c, _, err := d.DialEndpoints(context.Background(), []endpoint.Endpoint{mustParse(v4a), mustParse(v6a)})
	if err == nil || c != nil {
		t.Fatalf("DialEndpoints = %v, %v; want an error", c, err)
	}
	if !strings.Contains(err.Error(), v4a) || !strings.Contains(err.Error(), v6a) {
		t.Errorf("error %q does not name both endpoints", err)
	}
}

// TestDialEndpointsLoopback races real TCP attempts over ::1 and
// 127.0.0.1 with the default dialer.
func TestDialEndpointsLoopback(t *testing.T) {
	ln4 := listen(t, "tcp4", "127.0.0.1:0")
	ln6 := listen(t, "tcp6", "[::1]:0")
	ep4 := mustParse(ln4.Addr().String())
	closed4 := closedPort(t, "tcp4", "127.0.0.1:0")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	dial := func(t *testing.T, eps ...endpoint.Endpoint) (endpoint.Endpoint, time.Duration) {
		t.Helper()
		var d endpoint.Dialer
		start := time.Now()
		c, ep, err := d.DialEndpoints(ctx, eps)
		if err != nil {
			t.Fatalf("DialEndpoints(%v): %v", eps, err)
		}
		defer c.Close()
		if got := c.RemoteAddr().String(); got != ep.String() {
			t.Errorf("connected to %s, reported %v", got, ep)
		}
		return ep, time.Since(start)
	}

	t.Run("IPv4 only", func(t *testing.T) {
		if ep, _ := dial(t, closed4, ep4); ep != ep4 {
			t.Errorf("won %v, want %v", ep, ep4)
		}
	})
	t.Run("IPv4-mapped address is dialed over IPv4", func(t *testing.T) {
		mapped := mustParse(fmt.Sprintf("[::ffff:127.0.0.1]:%d", ep4.Port()))
		if !mapped.Is4() {
			t.Fatal("mapped endpoint is not Is4")
		}
		var d endpoint.Dialer
		c, ep, err := d.DialEndpoints(ctx, []endpoint.Endpoint{mapped})
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		if ep != mapped {
			t.Errorf("won %v, want %v", ep, mapped)
		}
	})
	if ln6 == nil {
		t.Skip("IPv6 loopback unavailable on this host (listen on [::1] failed); dual-stack cases skipped")
	}
	ep6 := mustParse(ln6.Addr().String())
	closed6 := closedPort(t, "tcp6", "[::1]:0")
	t.Run("IPv6 first", func(t *testing.T) {
		if ep, _ := dial(t, ep6, ep4); ep != ep6 {
			t.Errorf("won %v, want %v", ep, ep6)
		}
	})
	t.Run("refused IPv6 falls back to IPv4 without waiting the delay", func(t *testing.T) {
		ep, took := dial(t, closed6, ep4)
		if ep != ep4 {
			t.Errorf("won %v, want %v", ep, ep4)
		}
		// A refusal is immediate on loopback; waiting out the default delay
		// would mean the failure did not start the next attempt.
		if took >= endpoint.DefaultDelayForTest {
			t.Errorf("took %v, want under %v", took, endpoint.DefaultDelayForTest)
		}
	})
	t.Run("all refused", func(t *testing.T) {
		var d endpoint.Dialer
		_, _, err := d.DialEndpoints(ctx, []endpoint.Endpoint{closed6, closed4})
		if err == nil {
			t.Fatal("dialing two closed ports succeeded")
		}
		if s := err.Error(); !strings.Contains(s, closed6.String()) || !strings.Contains(s, closed4.String()) {
			t.Errorf("error %q does not name both endpoints", s)
		}
	})
}

// listen returns a listener that accepts and holds connections until the
// test ends, or nil if the address family is unavailable.
func listen(t *testing.T, network, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		if network == "tcp6" {
			return nil
		}
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln
}

// closedPort returns an endpoint where nothing listens: a port just freed.
func closedPort(t *testing.T, network, addr string) endpoint.Endpoint {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	ep := mustParse(ln.Addr().String())
	ln.Close()
	return ep
}
