package websocket

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/websocket/internal/testutil"
)

// ---------------------------------------------------------------------------
// Helpers

// rcServe runs a Server with handler on a loopback port and returns its
// ws:// URL; the server is shut down at the end of the test.
func rcServe(t testing.TB, handler Handler) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Handler: handler}
	srv.Options.HandshakeTimeout = 2 * time.Second
	srv.Options.CloseTimeout = time.Second
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() {
		// Stop accepting and let Serve return before Shutdown: a
		// connection Serve accepts while Shutdown has started waiting
		// for the handlers is a race in Server (WaitGroup.Add during
		// Wait), and these clients dial right up to the end.
		l.Close()
		<-served
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return "ws://" + l.Addr().String() + "/"
}

// rcDeadURL returns a ws:// URL of a loopback port nobody listens on: a
// dial is refused at once.
func rcDeadURL(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "ws://" + addr + "/"
}

// rcEvent is one state change reported to OnStateChange.
type rcEvent struct {
	from, to ReconnectState
	err      error
	at       time.Time
}

func (e rcEvent) String() string { return e.from.String() + ">" + e.to.String() }

// rcRecorder collects state changes for a test to wait on and check.
type rcRecorder struct {
	mu     sync.Mutex
	events []rcEvent
}

func (rec *rcRecorder) onState(from, to ReconnectState, err error) {
	rec.mu.Lock()
	rec.events = append(rec.events, rcEvent{from, to, err, time.Now()})
	rec.mu.Unlock()
}

func (rec *rcRecorder) snapshot() []rcEvent {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]rcEvent(nil), rec.events...)
}

// count returns how many changes went to state to.
func (rec *rcRecorder) count(to ReconnectState) int {
	n := 0
	for _, e := range rec.snapshot() {
		if e.to == to {
			n++
		}
	}
	return n
}

// wait polls until cond holds, for at most 10 s (the machine may be
// loaded).
func (rec *rcRecorder) wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	start := time.Now()
	for deadline := start.Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if cond() {
			return
		}
	}
	var b strings.Builder
	for _, e := range rec.snapshot() {
		fmt.Fprintf(&b, "\n\t%v %v %v", e.at.Sub(start), e, e.err)
	}
	t.Fatalf("timed out waiting for %s; state changes:%s", what, b.String())
}

// rcPath spells events as "from>to from>to ...".
func rcPath(events []rcEvent) string {
	s := make([]string, len(events))
	for i, e := range events {
		s[i] = e.String()
	}
	return strings.Join(s, " ")
}

// rcClient makes a client with the recorder as OnStateChange; Close runs
// at the end of the test.
func rcClient(t *testing.T, opts ReconnectOptions, rec *rcRecorder) *ReconnectingClient {
	t.Helper()
	opts.OnStateChange = rec.onState
	r, err := NewReconnectingClient(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// rcRecordWaits makes r record the waits its backoff chooses and wait
// scale times as long instead (0: not at all). Read the result after Close.
func rcRecordWaits(r *ReconnectingClient, scale float64) *[]time.Duration {
	var waits []time.Duration
	r.testWait = func(d time.Duration) time.Duration {
		waits = append(waits, d)
		return time.Duration(float64(d) * scale)
	}
	return &waits
}

// rcClose closes r and checks that it stopped. With limit > 0, it also
// checks that Close returned within limit.
func rcClose(t *testing.T, r *ReconnectingClient, limit time.Duration) {
	t.Helper()
	start := time.Now()
	if err := r.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if d := time.Since(start); limit > 0 && d > limit {
		t.Errorf("Close took %v, want at most %v", d, limit)
	}
	if s := r.State(); s != ReconnectStopped {
		t.Errorf("State() after Close = %v, want stopped", s)
	}
	select {
	case <-r.Done():
	default:
		t.Error("Done() not closed after Close")
	}
}

// ---------------------------------------------------------------------------
// Pure parts

func TestReconnectStateString(t *testing.T) {
	tests := []struct {
		s    ReconnectState
		want string
	}{
		{ReconnectDisconnected, "disconnected"},
		{ReconnectConnecting, "connecting"},
		{ReconnectConnected, "connected"},
		{ReconnectBackoff, "backoff"},
		{ReconnectStopped, "stopped"},
		{ReconnectStopped + 1, "ReconnectState(5)"},
		{-1, "ReconnectState(-1)"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("ReconnectState(%d).String() = %q, want %q", int(tt.s), got, tt.want)
		}
	}
}

func TestBackoffDelay(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		level   int
		lo, hi  time.Duration
		jitter  float64
		u       float64 // the random draw, in [0, 1)
		want    time.Duration
		comment string
	}{
		{0, 10 * ms, 80 * ms, 0, 0.7, 10 * ms, "first wait is lo"},
		{1, 10 * ms, 80 * ms, 0, 0.7, 20 * ms, "doubles"},
		{2, 10 * ms, 80 * ms, 0, 0.7, 40 * ms, "doubles"},
		{3, 10 * ms, 80 * ms, 0, 0.7, 80 * ms, "reaches hi"},
		{4, 10 * ms, 80 * ms, 0, 0.7, 80 * ms, "capped"},
		{1000, 10 * ms, 80 * ms, 0, 0.7, 80 * ms, "capped, no overflow"},
		{2, 10 * ms, 30 * ms, 0, 0, 30 * ms, "hi not a power-of-two multiple of lo"},
		{0, 10 * ms, 10 * ms, 0, 0, 10 * ms, "lo == hi"},
		{70, time.Nanosecond, math.MaxInt64, 0, 0, math.MaxInt64, "hi near overflow"},
		{0, 100 * ms, time.Second, 0.2, 0, 100 * ms, "u=0 takes nothing off"},
		{0, 100 * ms, time.Second, 0.2, 0.5, 90 * ms, "0.2 jitter, u=0.5: 10% off"},
		{3, 100 * ms, time.Second, 0.5, 0.5, 600 * ms, "800ms less 25%"},
		{5, 100 * ms, time.Second, 1, 0.75, 250 * ms, "full jitter, capped base"},
	}
	for _, tt := range tests {
		got := backoffDelay(tt.level, tt.lo, tt.hi, tt.jitter, tt.u)
		if got != tt.want {
			t.Errorf("backoffDelay(%d, %v, %v, %v, %v) = %v, want %v (%s)",
				tt.level, tt.lo, tt.hi, tt.jitter, tt.u, got, tt.want, tt.comment)
		}
	}
}

// TestBackoffDelayProperties: for random inputs the wait is within the
// jitter band below the capped exponential base, never above hi, and
// never shrinks as the level grows (for the same draw).
func TestBackoffDelayProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 10000; i++ {
		lo := time.Duration(1 + rng.Int64N(int64(time.Second)))
		hi := lo + time.Duration(rng.Int64N(int64(time.Minute)))
		jitter := rng.Float64()
		u := rng.Float64()
		level := rng.IntN(80)
		base := lo
		for j := 0; j < level && base < hi; j++ {
			base = min(2*base, hi)
		}
		got := backoffDelay(level, lo, hi, jitter, u)
		floor := time.Duration(float64(base) * (1 - jitter))
		if got > base || got > hi || got < floor-1 || got < 0 {
			t.Fatalf("backoffDelay(%d, %v, %v, %v, %v) = %v, want in [%v, %v]", level, lo, hi, jitter, u, got, floor, base)
		}
		if next := backoffDelay(level+1, lo, hi, jitter, u); next < got {
			t.Fatalf("level %d gives %v, level %d gives less: %v (lo %v hi %v)", level, got, level+1, next, lo, hi)
		}
	}
}

func TestNewReconnectingClientErrors(t *testing.T) {
	ok := []string{"ws://127.0.0.1:1/"}
	tests := []struct {
		name string
		opts ReconnectOptions
		want string // in the error
	}{
		{"no URLs", ReconnectOptions{}, "URLs is empty"},
		{"http URL", ReconnectOptions{URLs: []string{"ws://a/", "http://b/"}}, "scheme"},
		{"unparsable URL", ReconnectOptions{URLs: []string{"ws://[::1/"}}, "missing ']'"},
		{"min above max", ReconnectOptions{URLs: ok, MinBackoff: time.Second, MaxBackoff: time.Millisecond}, "exceeds MaxBackoff"},
		{"min above default max", ReconnectOptions{URLs: ok, MinBackoff: time.Minute}, "exceeds MaxBackoff"},
		{"jitter above 1", ReconnectOptions{URLs: ok, Jitter: 1.5}, "Jitter"},
		{"negative attempts", ReconnectOptions{URLs: ok, MaxAttempts: -1}, "MaxAttempts"},
	}
	for _, tt := range tests {
		r, err := NewReconnectingClient(tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: NewReconnectingClient = %v, %v; want an error containing %q", tt.name, r, err, tt.want)
		}
	}
	if _, err := NewReconnectingClient(ReconnectOptions{URLs: []string{"https://x/"}}); !errors.Is(err, ErrBadURL) {
		t.Errorf("https URL: %v, want ErrBadURL", err)
	}
	for _, jitter := range []float64{-1, 0, 1} {
		if _, err := NewReconnectingClient(ReconnectOptions{URLs: ok, Jitter: jitter}); err != nil {
			t.Errorf("Jitter %v: %v", jitter, err)
		}
	}
}

// ---------------------------------------------------------------------------
// Against a server

// TestReconnectAfterDrop: the server drops the first connection without a
// close frame; the client reports it, backs off, redials, calls OnConnect
// again (which resubscribes through Send), and gets the messages of both
// connections through OnMessage.
func TestReconnectAfterDrop(t *testing.T) {
	var served atomic.Int32
	url := rcServe(t, func(c *Conn, _ *Request) {
		n := served.Add(1)
		ctx := context.Background()
		_, sub, err := c.ReadMessage(ctx)
		if err != nil {
			return
		}
		c.WriteMessage(ctx, TextMessage, fmt.Appendf(nil, "welcome %d: %s", n, sub))
		if n == 1 {
			// Drop: close TCP without a close frame (after the welcome;
			// CloseNow would reset the connection and might lose it).
			c.s.Conn().Close()
			return
		}
		echoForTest(c)
	})

	var (
		rec      rcRecorder
		mu       sync.Mutex
		conns    []*Conn
		sendErrs []error
		msgs     []string
		fromConn []*Conn
	)
	var dialOnMessage atomic.Int32 // Dial's own OnMessage sees them too
	var r *ReconnectingClient
	r = rcClient(t, ReconnectOptions{
		URLs:       []string{url},
		MinBackoff: 10 * time.Millisecond,
		MaxBackoff: 50 * time.Millisecond,
		Dial: &DialOptions{Options: Options{OnMessage: func(*Conn, MessageType, []byte) {
			dialOnMessage.Add(1)
		}}},
		OnConnect: func(c *Conn) {
			err := r.Send(context.Background(), TextMessage, []byte("subscribe"))
			mu.Lock()
			conns = append(conns, c)
			sendErrs = append(sendErrs, err)
			mu.Unlock()
		},
		OnMessage: func(c *Conn, typ MessageType, data []byte) {
			mu.Lock()
			msgs = append(msgs, typ.String()+" "+string(data))
			fromConn = append(fromConn, c)
			mu.Unlock()
		},
	}, &rec)
	if s := r.State(); s != ReconnectDisconnected {
		t.Fatalf("State() before Start = %v, want disconnected", s)
	}
	r.Start()
	r.Start() // a no-op
	msgCount := func() int { mu.Lock(); defer mu.Unlock(); return len(msgs) }
	rec.wait(t, "two welcomes", func() bool { return msgCount() == 2 })

	if err := r.Send(context.Background(), TextMessage, []byte("echo me")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	rec.wait(t, "the echo", func() bool { return msgCount() == 3 })
	live := r.Conn()
	rcClose(t, r, 0)

	mu.Lock()
	defer mu.Unlock()
	wantMsgs := []string{"text welcome 1: subscribe", "text welcome 2: subscribe", "text echo me"}
	if n := dialOnMessage.Load(); n != 3 {
		t.Errorf("Dial.OnMessage called %d times, want 3", n)
	}
	if strings.Join(msgs, "|") != strings.Join(wantMsgs, "|") {
		t.Errorf("messages = %q, want %q", msgs, wantMsgs)
	}
	if len(conns) != 2 || conns[0] == conns[1] {
		t.Fatalf("OnConnect got %v, want two distinct connections", conns)
	}
	for i, err := range sendErrs {
		if err != nil {
			t.Errorf("Send from OnConnect #%d: %v", i+1, err)
		}
	}
	if fromConn[0] != conns[0] || fromConn[1] != conns[1] || fromConn[2] != conns[1] {
		t.Error("OnMessage was not given the connection each message came on")
	}
	if live != conns[1] {
		t.Error("Conn() was not the second connection")
	}
	select {
	case <-conns[0].Done():
	default:
		t.Error("the dropped connection is not done")
	}

	events := rec.snapshot()
	wantPath := "disconnected>connecting connecting>connected connected>disconnected disconnected>backoff " +
		"backoff>connecting connecting>connected connected>stopped"
	if got := rcPath(events); got != wantPath {
		t.Fatalf("state changes:\n got %s\nwant %s", got, wantPath)
	}
	var ce *CloseError
	if err := events[2].err; !errors.As(err, &ce) || ce.Code != StatusAbnormalClosure {
		t.Errorf("connected>disconnected error = %v, want CloseError 1006", err)
	}
	for i, e := range events {
		if i != 2 && e.err != nil {
			t.Errorf("%v: error %v, want nil", e, e.err)
		}
	}
	if err := r.Err(); err != nil {
		t.Errorf("Err() after Close = %v, want nil", err)
	}
}

// echoForTest echoes messages until the connection ends.
func echoForTest(c *Conn) {
	ctx := context.Background()
	for {
		typ, data, err := c.ReadMessage(ctx)
		if err != nil {
			return
		}
		if err := c.WriteMessage(ctx, typ, data); err != nil {
			return
		}
	}
}

// TestReconnectFailover: the first URL refuses; the client goes on to the
// second at once, without waiting MinBackoff, and Conn is connected to it.
func TestReconnectFailover(t *testing.T) {
	dead := rcDeadURL(t)
	live := rcServe(t, func(c *Conn, _ *Request) { echoForTest(c) })
	var (
		rec    rcRecorder
		mu     sync.Mutex
		dialed []string
	)
	var d net.Dialer
	r := rcClient(t, ReconnectOptions{
		URLs:       []string{dead, live},
		MinBackoff: time.Minute, // more than rec.wait allows: a wait would fail the test
		MaxBackoff: time.Hour,
		Dial: &DialOptions{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			mu.Lock()
			dialed = append(dialed, addr)
			mu.Unlock()
			return d.DialContext(ctx, network, addr)
		}},
	}, &rec)
	r.Start()
	rec.wait(t, "connected", func() bool { return r.State() == ReconnectConnected })
	c := r.Conn()
	if c == nil {
		t.Fatal("Conn() = nil while connected")
	}
	if got, want := "ws://"+c.RemoteAddr().String()+"/", live; got != want {
		t.Errorf("connected to %s, want %s", got, want)
	}
	rcClose(t, r, 0)

	mu.Lock()
	wantDialed := []string{strings.Trim(dead, "ws:/"), strings.Trim(live, "ws:/")}
	if strings.Join(dialed, " ") != strings.Join(wantDialed, " ") {
		t.Errorf("dialed %q, want %q", dialed, wantDialed)
	}
	mu.Unlock()
	events := rec.snapshot()
	wantPath := "disconnected>connecting connecting>backoff backoff>connecting connecting>connected connected>stopped"
	if got := rcPath(events); got != wantPath {
		t.Fatalf("state changes:\n got %s\nwant %s", got, wantPath)
	}
	var oe *net.OpError
	if err := events[1].err; !errors.As(err, &oe) || oe.Op != "dial" {
		t.Errorf("connecting>backoff error = %v, want the dial's *net.OpError", err)
	}
}

// TestReconnectBackoffGrowsAndCaps: against a refusing URL, the waits
// between dials double from MinBackoff up to MaxBackoff and stay there
// (no jitter, to measure them); after MaxAttempts dials the client stops
// with ErrMaxAttempts wrapping the last dial's error.
func TestReconnectBackoffGrowsAndCaps(t *testing.T) {
	const ms = time.Millisecond
	var rec rcRecorder
	r := rcClient(t, ReconnectOptions{
		URLs:        []string{rcDeadURL(t)},
		MinBackoff:  10 * ms,
		MaxBackoff:  80 * ms,
		Jitter:      -1,
		MaxAttempts: 7,
	}, &rec)
	chosen := rcRecordWaits(r, 1)
	r.Start()
	select {
	case <-r.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("not stopped after 10s; state changes: %s", rcPath(rec.snapshot()))
	}

	want := []time.Duration{10 * ms, 20 * ms, 40 * ms, 80 * ms, 80 * ms, 80 * ms}
	if got := *chosen; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("waits chosen %v, want %v", got, want)
	}
	events := rec.snapshot()
	var dials []time.Time
	for _, e := range events {
		if e.to == ReconnectConnecting {
			dials = append(dials, e.at)
		}
	}
	if len(dials) != 7 {
		t.Fatalf("%d dials, want MaxAttempts = 7; state changes: %s", len(dials), rcPath(events))
	}
	// The waits are real: a timer never fires early, so each gap between
	// dials is at least its wait. (No upper bound: the machine may be
	// loaded.)
	for i, w := range want {
		if gap := dials[i+1].Sub(dials[i]); gap < w {
			t.Errorf("wait %d: %v, want at least %v", i+1, gap, w)
		}
	}

	last := events[len(events)-1]
	if last.from != ReconnectConnecting || last.to != ReconnectStopped {
		t.Errorf("last change %v, want connecting>stopped", last)
	}
	var oe *net.OpError
	if !errors.Is(last.err, ErrMaxAttempts) || !errors.As(last.err, &oe) {
		t.Errorf("stopped with %v, want ErrMaxAttempts and the dial's *net.OpError", last.err)
	}
	if err := r.Err(); err != last.err {
		t.Errorf("Err() = %v, want %v", err, last.err)
	}
	if r.State() != ReconnectStopped || r.Conn() != nil {
		t.Errorf("State() = %v, Conn() = %v after giving up", r.State(), r.Conn())
	}
	if err := r.Send(context.Background(), BinaryMessage, nil); !errors.Is(err, ErrNotConnected) {
		t.Errorf("Send after giving up: %v, want ErrNotConnected", err)
	}
	rcClose(t, r, 0)
	if n := len(rec.snapshot()); n != len(events) {
		t.Errorf("Close after giving up reported %d more changes", n-len(events))
	}
}

// TestReconnectJitter: with the default jitter, each wait is in the band
// (80%, 100%] of the doubling base, and the waits are not all alike.
func TestReconnectJitter(t *testing.T) {
	const ms = time.Millisecond
	var rec rcRecorder
	r := rcClient(t, ReconnectOptions{
		URLs:        []string{rcDeadURL(t)},
		MinBackoff:  100 * ms,
		MaxBackoff:  400 * ms,
		MaxAttempts: 41,
	}, &rec)
	chosen := rcRecordWaits(r, 0)
	r.Start()
	<-r.Done()
	got := *chosen
	if len(got) != 40 {
		t.Fatalf("%d waits, want 40", len(got))
	}
	distinct := make(map[time.Duration]bool)
	for i, w := range got {
		base := 400 * ms
		if i < 2 {
			base = 100 * ms << i
		}
		if w <= base*8/10 || w > base {
			t.Errorf("wait %d: %v, want in (%v, %v]", i+1, w, base*8/10, base)
		}
		distinct[w] = true
	}
	if len(distinct) < 30 {
		t.Errorf("only %d distinct waits of 40: %v", len(distinct), got)
	}
}

// TestReconnectMaxAttemptsAcrossURLs: failed dials count across URLs, in
// turn, and the client waits only after a whole round failed.
func TestReconnectMaxAttemptsAcrossURLs(t *testing.T) {
	a, b := rcDeadURL(t), rcDeadURL(t)
	var (
		rec    rcRecorder
		mu     sync.Mutex
		dialed []string
	)
	var d net.Dialer
	r := rcClient(t, ReconnectOptions{
		URLs:        []string{a, b},
		MinBackoff:  time.Millisecond,
		MaxAttempts: 3,
		Dial: &DialOptions{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			mu.Lock()
			dialed = append(dialed, "ws://"+addr+"/")
			mu.Unlock()
			return d.DialContext(ctx, network, addr)
		}},
	}, &rec)
	r.Start()
	<-r.Done()
	mu.Lock()
	defer mu.Unlock()
	if want := []string{a, b, a}; strings.Join(dialed, " ") != strings.Join(want, " ") {
		t.Errorf("dialed %q, want %q", dialed, want)
	}
	wantPath := "disconnected>connecting connecting>backoff backoff>connecting connecting>backoff backoff>connecting connecting>stopped"
	if got := rcPath(rec.snapshot()); got != wantPath {
		t.Errorf("state changes:\n got %s\nwant %s", got, wantPath)
	}
	if !errors.Is(r.Err(), ErrMaxAttempts) {
		t.Errorf("Err() = %v, want ErrMaxAttempts", r.Err())
	}
}

// TestReconnectBackoffReset: connections dropped at once do not reset the
// backoff (the waits grow); a connection that received a message, or that
// stayed up for 4*MinBackoff, does (the waits stay at MinBackoff).
func TestReconnectBackoffReset(t *testing.T) {
	const hour = time.Hour
	for _, tt := range []struct {
		name      string
		minB      time.Duration
		sendFirst bool          // the server sends a message
		hold      time.Duration // then keeps the connection this long after the client's hello
		want      []time.Duration
	}{
		{"dropped at once", hour, false, 0, []time.Duration{hour, 2 * hour, 4 * hour}},
		{"dropped after a message", hour, true, 0, []time.Duration{hour, hour, hour}},
		{"stayed up", time.Millisecond, false, 50 * time.Millisecond, []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			url := rcServe(t, func(c *Conn, _ *Request) {
				if tt.sendFirst {
					c.WriteMessage(context.Background(), TextMessage, []byte("hi"))
				}
				if tt.hold > 0 {
					// The client says hello from OnConnect, after it started
					// timing the connection: holding from there on makes
					// the connection last at least hold, however late the
					// client got to run.
					if _, _, err := c.ReadMessage(context.Background()); err != nil {
						return
					}
					time.Sleep(tt.hold)
				}
				// Returning closes the connection with 1000, after the
				// message if any.
			})
			var rec rcRecorder
			r := rcClient(t, ReconnectOptions{
				URLs:       []string{url},
				MinBackoff: tt.minB,
				MaxBackoff: 100 * hour,
				Jitter:     -1,
				OnConnect: func(c *Conn) {
					c.WriteMessage(context.Background(), TextMessage, []byte("hello"))
				},
			}, &rec)
			chosen := rcRecordWaits(r, 0) // record the waits, do not wait
			r.Start()
			rec.wait(t, "four connections", func() bool { return rec.count(ReconnectConnected) >= 4 })
			rcClose(t, r, 0)
			if got := *chosen; len(got) < 3 || fmt.Sprint(got[:3]) != fmt.Sprint(tt.want) {
				t.Errorf("waits chosen %v, want %v first", got, tt.want)
			}
		})
	}
}

// TestReconnectCloseNormal: Close runs the close handshake with 1000 on
// the open connection.
func TestReconnectCloseNormal(t *testing.T) {
	serverErr := make(chan error, 1)
	url := rcServe(t, func(c *Conn, _ *Request) {
		_, _, err := c.ReadMessage(context.Background())
		serverErr <- err
	})
	var rec rcRecorder
	r := rcClient(t, ReconnectOptions{URLs: []string{url}}, &rec)
	r.Start()
	rec.wait(t, "connected", func() bool { return r.State() == ReconnectConnected })
	c := r.Conn()
	rcClose(t, r, 0)
	var ce *CloseError
	if err := <-serverErr; !errors.As(err, &ce) || ce.Code != StatusNormalClosure {
		t.Errorf("server read %v, want CloseError 1000", err)
	}
	if err := c.Err(); !errors.As(err, &ce) || ce.Code != StatusNormalClosure {
		t.Errorf("client connection ended with %v, want CloseError 1000", err)
	}
	if r.Conn() != nil {
		t.Error("Conn() not nil after Close")
	}
	if err := r.Send(context.Background(), TextMessage, []byte("late")); !errors.Is(err, ErrNotConnected) {
		t.Errorf("Send after Close: %v, want ErrNotConnected", err)
	}
	if got, want := rcPath(rec.snapshot()), "disconnected>connecting connecting>connected connected>stopped"; got != want {
		t.Errorf("state changes:\n got %s\nwant %s", got, want)
	}
	if err := r.Close(); err != nil { // again
		t.Errorf("second Close: %v", err)
	}
}

// TestReconnectCloseDuringBackoff: Close interrupts a long wait at once and
// leaves no goroutine behind.
func TestReconnectCloseDuringBackoff(t *testing.T) {
	defer testutil.CheckGoroutines(t)()
	var rec rcRecorder
	r := rcClient(t, ReconnectOptions{URLs: []string{rcDeadURL(t)}, MinBackoff: 10 * time.Second, MaxBackoff: time.Minute}, &rec)
	r.Start()
	rec.wait(t, "backoff", func() bool { return r.State() == ReconnectBackoff })
	rcClose(t, r, 5*time.Second) // well before the 10 s wait
	if got, want := rcPath(rec.snapshot()), "disconnected>connecting connecting>backoff backoff>stopped"; got != want {
		t.Errorf("state changes:\n got %s\nwant %s", got, want)
	}
}

// TestReconnectCloseDuringDial: Close cancels a dial whose handshake the
// server never answers, long before the handshake timeout.
func TestReconnectCloseDuringDial(t *testing.T) {
	defer testutil.CheckGoroutines(t)()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		nc, err := l.Accept()
		if err == nil {
			accepted <- nc // holds the connection, says nothing
		}
		close(accepted)
	}()
	defer func() {
		l.Close()
		for nc := range accepted {
			nc.Close()
		}
	}()
	var rec rcRecorder
	r := rcClient(t, ReconnectOptions{URLs: []string{"ws://" + l.Addr().String() + "/"}}, &rec)
	r.Start()
	rec.wait(t, "connecting", func() bool { return r.State() == ReconnectConnecting })
	time.Sleep(20 * time.Millisecond) // let the handshake start
	rcClose(t, r, 5*time.Second)      // well before the 10 s handshake timeout
	if got, want := rcPath(rec.snapshot()), "disconnected>connecting connecting>stopped"; got != want {
		t.Errorf("state changes:\n got %s\nwant %s", got, want)
	}
}

// TestReconnectCloseBeforeStart: a client closed before Start never dials;
// Start afterwards does nothing.
func TestReconnectCloseBeforeStart(t *testing.T) {
	var rec rcRecorder
	r := rcClient(t, ReconnectOptions{URLs: []string{rcDeadURL(t)}}, &rec)
	if err := r.Send(context.Background(), TextMessage, []byte("x")); !errors.Is(err, ErrNotConnected) {
		t.Errorf("Send before Start: %v, want ErrNotConnected", err)
	}
	rcClose(t, r, 0)
	r.Start()
	time.Sleep(20 * time.Millisecond)
	if got, want := rcPath(rec.snapshot()), "disconnected>stopped"; got != want {
		t.Errorf("state changes: got %s, want %s", got, want)
	}
}

// TestReconnectCloseConcurrent: Close from many goroutines at once, while
// connected, returns in every one of them.
func TestReconnectCloseConcurrent(t *testing.T) {
	url := rcServe(t, func(c *Conn, _ *Request) { echoForTest(c) })
	var rec rcRecorder
	r := rcClient(t, ReconnectOptions{URLs: []string{url}}, &rec)
	r.Start()
	rec.wait(t, "connected", func() bool { return r.State() == ReconnectConnected })
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rcClose(t, r, 0)
		}()
	}
	wg.Wait()
	if n := rec.count(ReconnectStopped); n != 1 {
		t.Errorf("ReconnectStopped reported %d times", n)
	}
}

// BenchmarkReconnectingClientSend: Send adds nothing to WriteMessage's
// cost (no allocation).
func BenchmarkReconnectingClientSend(b *testing.B) {
	url := rcServe(b, func(c *Conn, _ *Request) {
		buf := make([]byte, 0, 4096)
		for {
			if _, _, err := c.AppendMessage(context.Background(), buf[:0]); err != nil {
				return
			}
		}
	})
	r, err := NewReconnectingClient(ReconnectOptions{URLs: []string{url}})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	r.Start()
	for deadline := time.Now().Add(5 * time.Second); r.State() != ReconnectConnected; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("not connected")
		}
	}
	msg := make([]byte, 1024)
	ctx := context.Background()
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := r.Send(ctx, BinaryMessage, msg); err != nil {
			b.Fatal(err)
		}
	}
}

// A client that stays subscribed to a feed: OnConnect subscribes on every
// new connection, so a restart of the server costs a reconnect, not a
// lost subscription.
func ExampleReconnectingClient() {
	// A feed server that answers a subscription with one update.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := &Server{Handler: func(c *Conn, _ *Request) {
		ctx := context.Background()
		if _, topic, err := c.ReadMessage(ctx); err == nil {
			c.WriteMessage(ctx, TextMessage, append([]byte("update on "), topic...))
			c.ReadMessage(ctx) // until the client leaves
		}
	}}
	go srv.Serve(l)
	defer srv.Shutdown(context.Background())

	got := make(chan string, 1)
	var r *ReconnectingClient
	r, err = NewReconnectingClient(ReconnectOptions{
		URLs: []string{"ws://" + l.Addr().String() + "/feed"},
		OnConnect: func(c *Conn) {
			r.Send(context.Background(), TextMessage, []byte("prices"))
		},
		OnMessage: func(c *Conn, typ MessageType, data []byte) {
			got <- string(data)
		},
		OnStateChange: func(from, to ReconnectState, err error) {
			fmt.Println(from, "->", to)
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	r.Start()
	fmt.Println(<-got)
	r.Close()
	// Output:
	// disconnected -> connecting
	// connecting -> connected
	// update on prices
	// connected -> stopped
}
