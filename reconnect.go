package websocket

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rfc6455/websocket/internal/defaults"
)

// ReconnectState is the state of a ReconnectingClient.
//
// A client starts disconnected. Start moves it to connecting; a dial that
// works moves it to connected, one that fails to backoff (or to stopped
// once MaxAttempts dials in a row have failed). When a connection ends the
// client goes disconnected, then backoff, then connecting again. Close moves
// it to stopped from any state, and stopped is final.
type ReconnectState int

// The states of a ReconnectingClient.
const (
	ReconnectDisconnected ReconnectState = iota // not started, or the connection just ended
	ReconnectConnecting                         // dialing one of the URLs
	ReconnectConnected                          // a connection is open; Send uses it
	ReconnectBackoff                            // waiting before the next dial
	ReconnectStopped                            // closed, or gave up after MaxAttempts
)

var reconnectStateNames = [...]string{
	ReconnectDisconnected: "disconnected",
	ReconnectConnecting:   "connecting",
	ReconnectConnected:    "connected",
	ReconnectBackoff:      "backoff",
	ReconnectStopped:      "stopped",
}

// String returns the state's name in lower case, as in "connected".
func (s ReconnectState) String() string {
	if s >= 0 && int(s) < len(reconnectStateNames) {
		return reconnectStateNames[s]
	}
	return "ReconnectState(" + strconv.Itoa(int(s)) + ")"
}

var (
	// ErrNotConnected is returned by ReconnectingClient.Send when no
	// connection is open.
	ErrNotConnected = errors.New("websocket: not connected")

	// ErrMaxAttempts ends a ReconnectingClient after MaxAttempts failed
	// dials in a row. The error reported with ReconnectStopped wraps both it and
	// the last dial's error.
	ErrMaxAttempts = errors.New("websocket: reconnect: too many failed dials")
)

// ReconnectOptions configure a ReconnectingClient.
type ReconnectOptions struct {
	// URLs are the ws:// or wss:// URLs to connect to, at least one. The
	// client starts with the first and, after a dial fails, goes on to the
	// next (wrapping around) at once: it passes through ReconnectBackoff without
	// waiting, and waits only when every URL has failed in a row. After a
	// connection ends, it redials the URL that connection used.
	URLs []string

	// Dial configures every attempt: its HandshakeTimeout (default 10 s)
	// bounds each dial. Set its PingInterval to notice a peer that went
	// away silently; without a heartbeat only TCP notices, much later.
	// Its OnMessage, if set, is called before ReconnectOptions.OnMessage.
	// nil gives the defaults.
	Dial *DialOptions

	// MinBackoff is the first wait before redialing; each wait after
	// another failure doubles, up to MaxBackoff. Defaults 100 ms and 30 s.
	// The client waits after a connection ends too, so that a server
	// that drops every client at once is not redialed by all of them at
	// once; a connection that stayed up for 4*MinBackoff, or that
	// received a message, resets the wait to MinBackoff, and one that did
	// neither counts as another failure.
	MinBackoff, MaxBackoff time.Duration

	// Jitter is the fraction of each wait taken off at random, so that
	// clients dropped together do not all come back at the same moment:
	// a wait of d becomes a random duration in (d*(1-Jitter), d]. 1 gives
	// "full jitter", anywhere in (0, d]. Default 0.2; negative disables
	// it; more than 1 is an error.
	Jitter float64

	// MaxAttempts is the number of failed dials in a row after which the
	// client gives up and stops with an error wrapping ErrMaxAttempts. A
	// dial that works resets the count, even if the connection then drops
	// at once. Default 0: never give up.
	MaxAttempts int

	// OnStateChange, if set, is told of every state change, in order,
	// with the error that caused it: the dial's error for ReconnectConnecting to
	// ReconnectBackoff, the connection's end (a *CloseError) for ReconnectConnected to
	// ReconnectDisconnected, the reason for giving up for a change to ReconnectStopped
	// (nil after Close). It runs on the client's goroutine: it must not
	// block for long, and must not call Close (which waits for that
	// goroutine); call go r.Close() instead.
	OnStateChange func(from, to ReconnectState, err error)

	// OnConnect, if set, is called with each new connection, before any
	// of its messages are read: resume subscriptions here (Send works).
	// Same goroutine and rules as OnStateChange.
	OnConnect func(c *Conn)

	// OnMessage, if set, receives the messages of every connection, in
	// order. data is valid only during the call. Same goroutine and rules
	// as OnStateChange.
	OnMessage func(c *Conn, typ MessageType, data []byte)
}

// ReconnectingClient keeps a client connection open: it dials, reads the
// connection (handing messages to OnMessage), and when the connection ends
// or a dial fails, it waits with exponential backoff and jitter and dials
// again, failing over across URLs, until Close.
//
// One goroutine, started by Start and joined by Close, does all of this
// and runs every callback, so callbacks never overlap and states are
// reported in order. The methods are safe to call from any goroutine.
// The client reads its connections itself: use Conn and OnConnect to
// write, or to look at a connection, but never read from it.
type ReconnectingClient struct {
	opts       ReconnectOptions
	dialOpts   DialOptions
	minBackoff time.Duration
	maxBackoff time.Duration
	jitter     float64

	state   atomic.Int32 // ReconnectState
	ctx     context.Context
	cancel  context.CancelFunc // cancelled by Close: ends a dial or a wait
	started sync.Once
	done    chan struct{} // closed when the client has stopped

	mu      sync.Mutex
	running bool  // the goroutine was started
	closed  bool  // Close was called
	conn    *Conn // the open connection, or nil
	err     error // why the client stopped

	// Owned by the client's goroutine.
	gotMessage bool // the current connection received a message

	// testWait, if set by a test, sees each wait the backoff chose and
	// returns the one to wait instead.
	testWait func(time.Duration) time.Duration
}

// NewReconnectingClient checks opts and returns a client in state
// ReconnectDisconnected. Call Start to connect.
func NewReconnectingClient(opts ReconnectOptions) (*ReconnectingClient, error) {
	if len(opts.URLs) == 0 {
		return nil, errors.New("websocket: ReconnectOptions.URLs is empty")
	}
	for _, raw := range opts.URLs {
		if _, err := dialURL(raw); err != nil {
			return nil, err
		}
	}
	r := &ReconnectingClient{
		opts:       opts,
		minBackoff: durationOr(opts.MinBackoff, defaults.MinBackoff),
		maxBackoff: durationOr(opts.MaxBackoff, defaults.MaxBackoff),
		jitter:     opts.Jitter,
		done:       make(chan struct{}),
	}
	r.opts.URLs = append([]string(nil), opts.URLs...)
	switch {
	case r.jitter == 0:
		r.jitter = defaults.Jitter
	case r.jitter < 0:
		r.jitter = 0
	case r.jitter > 1:
		return nil, fmt.Errorf("websocket: ReconnectOptions.Jitter %v is more than 1", opts.Jitter)
	}
	if r.minBackoff > r.maxBackoff {
		return nil, fmt.Errorf("websocket: ReconnectOptions.MinBackoff %v exceeds MaxBackoff %v", r.minBackoff, r.maxBackoff)
	}
	if opts.MaxAttempts < 0 {
		return nil, errors.New("websocket: ReconnectOptions.MaxAttempts is negative")
	}
	if opts.Dial != nil {
		r.dialOpts = *opts.Dial
	}
	userOnMessage := r.dialOpts.OnMessage
	r.dialOpts.OnMessage = func(c *Conn, typ MessageType, data []byte) {
		r.gotMessage = true // Serve runs on the client's goroutine
		if userOnMessage != nil {
			userOnMessage(c, typ, data)
		}
		if f := r.opts.OnMessage; f != nil {
			f(c, typ, data)
		}
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r, nil
}

// Start starts the client's goroutine, which dials the first URL. Calls
// after the first, or after Close, do nothing.
func (r *ReconnectingClient) Start() {
	r.started.Do(func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.closed {
			return
		}
		r.running = true
		go r.run()
	})
}

// Conn returns the open connection, or nil if there is none.
func (r *ReconnectingClient) Conn() *Conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.conn
}

// Send sends a message on the open connection (see Conn.WriteMessage). It
// returns ErrNotConnected if there is none; it does not queue messages
// for a connection to come.
func (r *ReconnectingClient) Send(ctx context.Context, typ MessageType, data []byte) error {
	c := r.Conn()
	if c == nil {
		return ErrNotConnected
	}
	return c.WriteMessage(ctx, typ, data)
}

// State returns the client's state now.
func (r *ReconnectingClient) State() ReconnectState { return ReconnectState(r.state.Load()) }

// Done returns a channel closed once the client has stopped, by Close or
// by giving up after MaxAttempts.
func (r *ReconnectingClient) Done() <-chan struct{} { return r.done }

// Err returns why the client stopped: nil while it runs and after Close,
// an error wrapping ErrMaxAttempts and the last dial's error after it gave
// up.
func (r *ReconnectingClient) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Close stops the client: it ends a dial or a wait in progress, closes the
// open connection with 1000 (normal closure), running the close handshake,
// and returns once the client's goroutine has finished. Close is safe to
// call more than once, but not from the client's callbacks (see
// OnStateChange). It returns nil: a connection that cannot send its close
// frame is closed anyway, and there is nothing left to do about it.
func (r *ReconnectingClient) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		<-r.done
		return nil
	}
	r.closed = true
	r.cancel()
	c := r.conn
	running := r.running
	r.mu.Unlock()

	if c != nil {
		// The client's goroutine is reading c: it sees the close
		// handshake finish, then stops.
		c.Close(StatusNormalClosure, "")
	}
	if !running {
		r.setState(ReconnectStopped, nil)
		close(r.done)
		return nil
	}
	<-r.done
	return nil
}

// run is the client's goroutine.
func (r *ReconnectingClient) run() {
	defer close(r.done)
	var (
		next      int // the URL to dial next
		roundFrom int // the URL the current round of failed dials began with
		fails     int // failed dials in a row
		level     int // waits since the backoff was last reset
	)
	for {
		r.setState(ReconnectConnecting, nil)
		c, err := Dial(r.ctx, r.opts.URLs[next], &r.dialOpts)
		if err != nil {
			if r.ctx.Err() != nil {
				r.setState(ReconnectStopped, nil)
				return
			}
			fails++
			if r.opts.MaxAttempts > 0 && fails >= r.opts.MaxAttempts {
				r.stop(fmt.Errorf("%w (%d): %w", ErrMaxAttempts, fails, err))
				return
			}
			next = (next + 1) % len(r.opts.URLs)
			var wait time.Duration
			if next == roundFrom {
				// Every URL failed: back off before the next round.
				wait = backoffDelay(level, r.minBackoff, r.maxBackoff, r.jitter, rand.Float64())
				level++
			}
			r.setState(ReconnectBackoff, err)
			if !r.sleep(wait) {
				r.setState(ReconnectStopped, nil)
				return
			}
			continue
		}
		fails = 0
		roundFrom = next

		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			c.Close(StatusNormalClosure, "")
			r.setState(ReconnectStopped, nil)
			return
		}
		r.conn = c
		r.mu.Unlock()
		r.gotMessage = false
		up := time.Now()
		r.setState(ReconnectConnected, nil)
		if f := r.opts.OnConnect; f != nil {
			f(c)
		}
		c.Serve(context.Background()) // until the connection ends; Close ends it too
		c.CloseNow()                  // a no-op unless Serve stopped on a local error
		r.mu.Lock()
		r.conn = nil
		r.mu.Unlock()
		if r.ctx.Err() != nil {
			r.setState(ReconnectStopped, nil)
			return
		}
		if r.gotMessage || time.Since(up) >= 4*r.minBackoff {
			level = 0
		}
		r.setState(ReconnectDisconnected, c.Err())
		wait := backoffDelay(level, r.minBackoff, r.maxBackoff, r.jitter, rand.Float64())
		level++
		r.setState(ReconnectBackoff, nil)
		if !r.sleep(wait) {
			r.setState(ReconnectStopped, nil)
			return
		}
	}
}

// setState records the new state and reports the change.
func (r *ReconnectingClient) setState(to ReconnectState, err error) {
	from := ReconnectState(r.state.Swap(int32(to)))
	if f := r.opts.OnStateChange; f != nil {
		f(from, to, err)
	}
}

// stop records why the client gave up and reports ReconnectStopped.
func (r *ReconnectingClient) stop(err error) {
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
	r.setState(ReconnectStopped, err)
}

// sleep waits for d, or until Close; it reports whether d passed.
func (r *ReconnectingClient) sleep(d time.Duration) bool {
	if r.testWait != nil {
		d = r.testWait(d)
	}
	if d <= 0 {
		return r.ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.ctx.Done():
		return false
	}
}

// backoffDelay returns the wait after level earlier waits since the last
// reset: lo doubled level times, capped at hi, less a random part of
// jitter (0..1) times it, where u in [0, 1) is the random draw.
func backoffDelay(level int, lo, hi time.Duration, jitter, u float64) time.Duration {
	d := lo
	for i := 0; i < level && d < hi; i++ {
		if d > hi/2 {
			d = hi // doubling would pass hi (or overflow)
			break
		}
		d *= 2
	}
	d = min(d, hi)
	return d - time.Duration(float64(d)*jitter*u)
}
