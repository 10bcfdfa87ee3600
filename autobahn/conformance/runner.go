package conformance

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Runner plays cases against a peer. The zero value is usable: all cases,
// suite timing, sequential runs.
type Runner struct {
	// Cases to play, in order; nil means [Cases]().
	Cases []*Case

	// Agent names the peer in reports when testing a server. Default
	// "server". (A client under test names itself in its requests.)
	Agent string

	// TimeUnit is the length of one "second" in the case scripts (pauses,
	// kill timers, echo deadlines). Default 1s, the suite's timing; tests
	// shrink it to run faster, at the risk of judging a slow peer unfairly.
	TimeUnit time.Duration

	// CloseTimeout bounds the wait for the peer's close frame and for the
	// TCP close after the closing handshake. Default 2s.
	CloseTimeout time.Duration

	// DialTimeout bounds the TCP connect and the opening handshake.
	// Default 5s.
	DialTimeout time.Duration

	// IOTimeout bounds each write to the peer. Default 30s.
	IOTimeout time.Duration

	// MaxMessage bounds the size of a frame or message the runner accepts
	// from the peer. Default 64 MiB (group 9 echoes 16 MiB messages).
	MaxMessage int64

	// Parallel is the number of cases run at once when testing a server.
	// Default 1: cases that measure timing (6.4.x, group 9) are fairest alone.
	Parallel int

	// Progress, when set, is called after each case (from one goroutine
	// at a time).
	Progress func(*Result)

	// CompressionMessages, when positive, caps the number of messages each
	// case of groups 12 and 13 sends (the suite sends 1000). It is for quick
	// runs; capped cases say so in their notes.
	CompressionMessages int
}

func (r *Runner) scale(units float64) time.Duration {
	u := r.TimeUnit
	if u <= 0 {
		u = time.Second
	}
	return time.Duration(units * float64(u))
}

func (r *Runner) closeTimeout() time.Duration { return orDefault(r.CloseTimeout, 2*time.Second) }
func (r *Runner) dialTimeout() time.Duration  { return orDefault(r.DialTimeout, 5*time.Second) }
func (r *Runner) ioTimeout() time.Duration    { return orDefault(r.IOTimeout, 30*time.Second) }

func (r *Runner) maxMessage() int64 {
	if r.MaxMessage <= 0 {
		return 64 << 20
	}
	return r.MaxMessage
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (r *Runner) cases() []*Case {
	if r.Cases == nil {
		return Cases()
	}
	return r.Cases
}

// play runs one case on an established connection and judges it. neg is
// the permessage-deflate negotiation of a compression case, else nil.
func (r *Runner) play(ctx context.Context, cs *Case, role Role, nc net.Conn, br *bufio.Reader, agent string, neg *Negotiation) *Result {
	c := newConn(role, nc, br, r)
	c.negotiation = neg
	if neg != nil && neg.Agreed != nil {
		c.pmd = newPMD(*neg.Agreed, role)
	}
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	cs.run(c)
	c.finish() // idempotent; makes sure the reader goroutine is gone
	stop()
	return judge(cs, c, agent, time.Since(c.start).Milliseconds())
}

// neverOpened is the result of a case whose connection could not be set up.
func neverOpened(cs *Case, agent string, role Role, err error) *Result {
	return &Result{Agent: agent, ID: cs.ID, Description: cs.Description, Expectation: cs.Expectation,
		Role: role.String(), ReportTime: cs.timed,
		Behavior: Failed, BehaviorClose: Failed,
		Result:      "WebSocket connection was never open: " + err.Error(),
		ResultClose: "The WebSocket opening handshake was never completed!",
		Expected:    map[string][]string{}, Received: []string{}}
}

// badNegotiation is the result of a compression case whose extension
// negotiation the peer got wrong: the handshake is failed, as RFC 6455
// §4.1 and RFC 7692 §5 require of the side that notices.
func badNegotiation(cs *Case, agent string, role Role, neg *Negotiation, err error) *Result {
	res := neverOpened(cs, agent, role, err)
	res.Result = "Invalid permessage-deflate negotiation: " + err.Error()
	res.Compression = neg
	return res
}

// RunServerTests connects to the WebSocket server at rawURL (ws://host:port/path)
// once per case and returns the results in case order. It stops early, with
// ctx's error, when ctx is done.
func (r *Runner) RunServerTests(ctx context.Context, rawURL string) ([]*Result, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	if u.Scheme != "ws" {
		return nil, fmt.Errorf("conformance: unsupported URL scheme %q (want ws)", u.Scheme)
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), "80")
	}
	agent := r.Agent
	if agent == "" {
		agent = "server"
	}
	cases := r.cases()
	results := make([]*Result, len(cases))
	work := make(chan int)
	var wg sync.WaitGroup
	var progress sync.Mutex
	for range max(r.Parallel, 1) {
		wg.Go(func() {
			for i := range work {
				res := r.runAgainstServer(ctx, cases[i], u, agent)
				results[i] = res
				if r.Progress != nil {
					progress.Lock()
					r.Progress(res)
					progress.Unlock()
				}
			}
		})
	}
feed:
	for i := range cases {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	var done []*Result
	for _, res := range results {
		if res != nil {
			done = append(done, res)
		}
	}
	return done, ctx.Err()
}

func (r *Runner) runAgainstServer(ctx context.Context, cs *Case, u *url.URL, agent string) *Result {
	dctx, cancel := context.WithTimeout(ctx, r.dialTimeout())
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(dctx, "tcp", u.Host)
	if err != nil {
		return neverOpened(cs, agent, RoleClient, err)
	}
	deadline, _ := dctx.Deadline()
	nc.SetDeadline(deadline)
	br, ext, err := clientHandshake(nc, u, cs.Extensions)
	if err != nil {
		nc.Close()
		return neverOpened(cs, agent, RoleClient, err)
	}
	var neg *Negotiation
	if cs.deflate != nil {
		neg = &Negotiation{Offer: cs.Extensions, Response: ext}
		if neg.Agreed, err = checkResponse(cs.deflate.offers, ext); err != nil {
			nc.Close()
			return badNegotiation(cs, agent, RoleClient, neg, err)
		}
	}
	nc.SetDeadline(time.Time{})
	return r.play(ctx, cs, RoleClient, nc, br, agent, neg)
}

// negotiateAsServer answers a client's extension offers for case cs: the
// Sec-WebSocket-Extensions value to send back (empty: none) and the
// negotiation record (nil for cases without compression, whose offers are
// simply declined). A malformed permessage-deflate offer is an error.
func negotiateAsServer(cs *Case, offered []string) (string, *Negotiation, error) {
	if cs.deflate == nil {
		return "", nil, nil
	}
	neg := &Negotiation{Offer: strings.Join(offered, ", ")}
	offers, err := parseOffers(offered)
	if err != nil {
		return "", neg, err
	}
	resp, ok := cs.deflate.answer(offers)
	if !ok {
		return "", neg, nil
	}
	a := resp.agreed()
	neg.Response, neg.Agreed = resp.responseString(), &a
	return neg.Response, neg, nil
}

// ErrReportsUpdated is returned by Serve when a client asked for the reports
// (which ends a client run the way the suite's fuzzing server does).
var ErrReportsUpdated = errors.New("conformance: reports updated")

// Serve plays the server for WebSocket clients under test on ln, which it
// closes when it returns. Clients connect to /getCaseCount (one text message
// with the number of cases), /runCase?case=N&agent=NAME (N is 1-based) and
// /updateReports?agent=NAME, which calls update with all results so far,
// keyed by agent. Serve returns ErrReportsUpdated after the first report
// update, or ctx's error when ctx is done first.
func (r *Runner) Serve(ctx context.Context, ln net.Listener, update func(map[string][]*Result) error) error {
	cases := r.cases()
	var (
		mu      sync.Mutex
		results = map[string]map[int]*Result{}
		wg      sync.WaitGroup
		running sync.WaitGroup // runCase handlers, which updateReports waits for
		updated = make(chan error, 1)
	)
	snapshot := func() map[string][]*Result {
		mu.Lock()
		defer mu.Unlock()
		out := map[string][]*Result{}
		for agent, m := range results {
			for i := range cases {
				if res := m[i]; res != nil {
					out[agent] = append(out[agent], res)
				}
			}
		}
		return out
	}
	handle := func(nc net.Conn) {
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(r.dialTimeout()))
		br := bufio.NewReaderSize(nc, 64<<10)
		req, err := readUpgrade(nc, br)
		if err != nil {
			return
		}
		q := req.URL.Query()
		agent := q.Get("agent")
		if agent == "" {
			agent = "client"
		}
		switch req.URL.Path {
		case "/getCaseCount":
			if acceptUpgrade(nc, req, "") != nil {
				return
			}
			nc.SetDeadline(time.Time{})
			c := newConn(RoleServer, nc, br, r)
			c.send(OpText, []byte(strconv.Itoa(len(cases))))
			c.sendClose(CloseNormal, nil)
			c.finish()
		case "/runCase":
			running.Add(1)
			defer running.Done()
			n, err := strconv.Atoi(q.Get("case"))
			if err != nil || n < 1 || n > len(cases) {
				nc.Write([]byte("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
				return
			}
			cs := cases[n-1]
			var res *Result
			if ext, neg, err := negotiateAsServer(cs, req.Header.Values("Sec-WebSocket-Extensions")); err != nil {
				// The suite's server fails the handshake on such an offer.
				nc.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
				res = badNegotiation(cs, agent, RoleServer, neg, err)
			} else {
				if acceptUpgrade(nc, req, ext) != nil {
					return
				}
				nc.SetDeadline(time.Time{})
				res = r.play(ctx, cs, RoleServer, nc, br, agent, neg)
			}
			mu.Lock()
			if results[agent] == nil {
				results[agent] = map[int]*Result{}
			}
			results[agent][n-1] = res
			if r.Progress != nil {
				r.Progress(res)
			}
			mu.Unlock()
		case "/updateReports":
			if acceptUpgrade(nc, req, "") != nil {
				return
			}
			nc.SetDeadline(time.Time{})
			// A client moves on as soon as it sees TCP close, which can be
			// before the runner has judged the case it just played.
			running.Wait()
			err := update(snapshot())
			c := newConn(RoleServer, nc, br, r)
			c.sendClose(CloseNormal, nil)
			c.finish()
			select {
			case updated <- err:
			default:
			}
		default:
			nc.Write([]byte("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
		}
	}
	acceptErr := make(chan error, 1)
	wg.Go(func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				acceptErr <- err
				return
			}
			wg.Go(func() { handle(nc) })
		}
	})
	var err error
	select {
	case err = <-updated:
		if err == nil {
			err = ErrReportsUpdated
		}
	case <-ctx.Done():
		err = ctx.Err()
	case err = <-acceptErr:
	}
	ln.Close()
	wg.Wait()
	return err
}
