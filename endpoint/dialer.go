package endpoint

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/rfc6455/websocket/internal/defaults"
)

// A Dialer connects to the first reachable endpoint of a list, racing
// them as RFC 8305 (Happy Eyeballs version 2) describes. The zero Dialer
// is ready to use; a Dialer may be used by many goroutines at once.
type Dialer struct {
	// Dial opens one connection attempt. It is called with network "tcp"
	// and an address in [Endpoint.String] form, from a goroutine of its
	// own, and must return soon after ctx is cancelled: losing attempts
	// are cancelled and DialEndpoints waits for them. Its errors should
	// name the address, as net.Dialer's do, since all of them are
	// reported when every attempt fails. Default: a zero net.Dialer's
	// DialContext.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	// Delay is how long an attempt may stay pending before the next one
	// starts alongside it. Default (0): 250 ms, the Connection Attempt
	// Delay of RFC 8305 §5. A shorter delay reaches a working address
	// sooner when an earlier one hangs, at the cost of more half-open
	// connections to the server; RFC 8305 advises no less than 10 ms.
	Delay time.Duration
}

var (
	errNoEndpoints = errors.New("websocket: no endpoints to dial")
	errNilConn     = errors.New("websocket: Dialer.Dial returned neither a connection nor an error")
)

// attempt is the outcome of one connection attempt.
type attempt struct {
	c   net.Conn
	ep  Endpoint
	err error
}

// DialEndpoints connects to one of eps and returns the connection and the
// endpoint it reached.
//
// The attempts follow RFC 8305 §4 and §5. The endpoints are reordered to
// alternate address families, starting with the family of eps[0] and
// otherwise keeping their order (so for [Resolve]'s answer usually IPv6,
// IPv4, IPv6, ...). One attempt starts at once; the next starts when the
// latest has been pending for d.Delay, or as soon as an attempt fails,
// whichever comes first, so several may be pending at a time. The first to
// connect wins: the others are cancelled, and any that connects anyway is
// closed, before DialEndpoints returns.
//
// If every attempt fails, the error joins all of their errors, in the order
// they failed ([errors.Join]); a single attempt's error is returned as is.
// If ctx ends first, no further attempt starts and the error joins
// ctx.Err() with those of the attempts made.
func (d *Dialer) DialEndpoints(ctx context.Context, eps []Endpoint) (net.Conn, Endpoint, error) {
	if len(eps) == 0 {
		return nil, Endpoint{}, errNoEndpoints
	}
	for _, e := range eps {
		if !e.IsValid() {
			return nil, Endpoint{}, &net.AddrError{Err: "invalid endpoint", Addr: e.String()}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, Endpoint{}, err
	}
	dial := d.Dial
	if dial == nil {
		var nd net.Dialer
		dial = nd.DialContext
	}
	delay := d.Delay
	if delay <= 0 {
		delay = defaults.DialAttemptDelay
	}
	order := interleave(eps)

	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Buffered for every attempt, so that no attempt's goroutine ever
	// blocks on its send, whatever this loop is doing.
	results := make(chan attempt, len(order))
	timer := time.NewTimer(delay)
	defer timer.Stop()
	next, pending := 0, 0
	start := func() {
		ep := order[next]
		next++
		pending++
		go func() {
			c, err := dial(actx, "tcp", ep.String())
			results <- attempt{c, ep, err}
		}()
		timer.Reset(delay)
	}

	var (
		won     attempt
		stopped bool // a winner was found or ctx ended: start nothing more
		errs    []error
		done    = ctx.Done()
	)
	start()
	for pending > 0 {
		var tick <-chan time.Time
		if !stopped && next < len(order) {
			tick = timer.C
		}
		select {
		case r := <-results:
			pending--
			if r.err == nil && r.c == nil {
				r.err = &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(r.ep.ap), Err: errNilConn}
			}
			switch {
			case r.err != nil:
				errs = append(errs, r.err)
				if !stopped && next < len(order) {
					start()
				}
			case stopped:
				r.c.Close() // connected after the race was decided
			default:
				won, stopped = r, true
				cancel()
			}
		case <-tick:
			start()
		case <-done:
			stopped, done = true, nil
			cancel()
		}
	}
	if won.c != nil {
		return won.c, won.ep, nil
	}
	if err := ctx.Err(); err != nil {
		errs = append([]error{err}, errs...)
	}
	if len(errs) == 1 {
		// One address, one error: as net.Dialer would report it.
		return nil, Endpoint{}, errs[0]
	}
	return nil, Endpoint{}, errors.Join(errs...)
}

// interleave returns eps reordered to alternate address families, starting
// with eps[0]'s, each family keeping its own order (RFC 8305 §4).
func interleave(eps []Endpoint) []Endpoint {
	first := eps[0].Is4()
	var same, other []Endpoint
	for _, e := range eps {
		if e.Is4() == first {
			same = append(same, e)
		} else {
			other = append(other, e)
		}
	}
	out := make([]Endpoint, 0, len(eps))
	for i := 0; i < len(same) || i < len(other); i++ {
		if i < len(same) {
			out = append(out, same[i])
		}
		if i < len(other) {
			out = append(out, other[i])
		}
	}
	return out
}
