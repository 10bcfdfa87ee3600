//go:build !js

package websocket

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/rfc6455/websocket/handshake"
	"github.com/rfc6455/websocket/internal/bufpool"
)

// AcceptOptions configure the server side of the opening handshake and the
// connection it opens. A nil *AcceptOptions gives the defaults.
type AcceptOptions struct {
	Options

	// Subprotocols are the subprotocols the server speaks, best first. The
	// first one the client also offered is chosen; none chosen is fine.
	Subprotocols []string

	// OriginPatterns lists the Origin hosts allowed besides the request's
	// own host (same-origin is always allowed, and so are clients that
	// send no Origin, which browsers always do). Patterns use path.Match
	// syntax on the lower-case host[:port]: "example.com",
	// "*.example.com", "localhost:*".
	OriginPatterns []string

	// InsecureSkipOriginCheck allows every Origin. It opens the server to
	// cross-site WebSocket hijacking by any web page a logged-in user
	// visits; use it only when the server authenticates by other means
	// than cookies.
	InsecureSkipOriginCheck bool

	// Header holds extra headers for the 101 response.
	Header http.Header

	// HandshakeTimeout bounds the opening handshake on the raw path
	// (Upgrade and Server): reading the request and writing the response.
	// Default 10 s.
	HandshakeTimeout time.Duration

	// MaxHeaderBytes bounds the request line and headers on the raw path;
	// past it the client gets 431. Default 16 KiB.
	MaxHeaderBytes int

	// OnRequest, if set, sees each request that is a valid opening
	// handshake from an allowed Origin, before the server answers it: the
	// place to authenticate, to route by path (r.RequestURI) or to attach
	// data to the connection. A nil error accepts the request, and value
	// becomes the connection's Conn.Value. An error refuses it: a
	// *HandshakeError is answered with its StatusCode, Reason and Header
	// (401 with WWW-Authenticate, 404 for an unknown path); any other
	// error with 403 Forbidden and no detail, since its text is the
	// server's, not the client's. Accept and Upgrade then return the
	// error as it is. r, and everything in it, is the hook's to keep.
	//
	// OnRequest runs on the goroutine of the handshake: the request's in
	// Accept, the caller's in Upgrade, the connection's in a Server in
	// IOGoroutine mode (after the connection limit's check). In
	// IOEventLoop mode it runs on the loop that read the request, and
	// must not block: the loop's other connections wait meanwhile. A
	// check that needs I/O of its own (a database, another service)
	// belongs in IOGoroutine mode, or behind a cache the hook reads.
	OnRequest func(r *Request) (value any, err error)

	// Budget is the memory budget that the received messages of the
	// connections count against, all connections together (see Budget).
	// Default nil: a Server makes one of its own, of DefaultBudgetSize
	// bytes; Accept and Upgrade share one such budget in the process.
	// NewBudget(0, 0) turns the bound off, leaving each connection bounded
	// by MaxMessageSize alone. A budget may be shared by several Servers.
	Budget *Budget

	// resolved, set on a Server's own copy, is its options resolved once
	// for all its connections.
	resolved *config
}

// config returns o resolved: the Server's, made once, or one for this call.
func (o *AcceptOptions) config() *config {
	if o.resolved != nil {
		return o.resolved
	}
	cfg := o.Options.resolve(o.HandshakeTimeout, o.MaxHeaderBytes, true)
	cfg.session.Budget = o.Budget
	if o.Budget == nil {
		cfg.session.Budget = sharedBudget()
	}
	return cfg
}

func (o *AcceptOptions) originPolicy() *handshake.OriginPolicy {
	return &handshake.OriginPolicy{AllowAll: o.InsecureSkipOriginCheck, Patterns: o.OriginPatterns}
}

// check runs every server-side check on req: the request itself, its
// Origin; it returns the chosen subprotocol and extensions.
func (o *AcceptOptions) check(req *handshake.Request) (agreement, error) {
	if err := handshake.Check(req); err != nil {
		return agreement{}, err
	}
	if err := o.originPolicy().Check(req); err != nil {
		return agreement{}, err
	}
	a := agreement{protocol: handshake.SelectProtocol(req.Protocols, o.Subprotocols)}
	if o.Compression != nil {
		if p, _, ok := o.Compression.deflateConfig().Accept(req.Extensions); ok {
			a.deflate = &p
		}
	}
	return a, nil
}

// admit runs OnRequest, if set, on req, which passed check: it returns the
// connection's value, or the refusal to answer with and the hook's error.
func (o *AcceptOptions) admit(req *handshake.Request) (value any, refusal *handshake.Error, err error) {
	f := o.OnRequest
	if f == nil {
		return nil, nil, nil
	}
	if value, err = f(req); err == nil {
		return value, nil, nil
	}
	return nil, hookRefusal(err), err
}

// hookRefusal returns the refusal an OnRequest error is answered with.
func hookRefusal(err error) *handshake.Error {
	var he *handshake.Error
	if errors.As(err, &he) {
		return he
	}
	return errForbidden
}

// writeResponse writes the server's 101 answer for req and a to w: every
// server path (Accept, Upgrade, the event loops) answers from here.
func (o *AcceptOptions) writeResponse(w io.Writer, req *handshake.Request, a agreement) error {
	var ext string
	if a.deflate != nil {
		ext = a.deflate.String()
	}
	buf := bufpool.Get(512)
	buf.B = handshake.AppendResponse(buf.B, req.Key, a.protocol, ext, o.Header)
	_, err := w.Write(buf.B)
	bufpool.Put(buf)
	return err
}

// writeRefusal answers a refused request on a raw connection, which is to
// be closed after it; Accept refuses through net/http with
// handshake.WriteError, in the same words.
func writeRefusal(w io.Writer, he *handshake.Error) {
	buf := bufpool.Get(256)
	buf.B = handshake.AppendErrorResponse(buf.B, he)
	w.Write(buf.B)
	bufpool.Put(buf)
}

// Accept upgrades an HTTP request to a WebSocket connection, on net/http. On
// failure it has answered with the right status (400, 403, 426 ...) and
// returns the error, a *handshake.Error for a refused request. opts may be
// nil.
func Accept(w http.ResponseWriter, r *http.Request, opts *AcceptOptions) (*Conn, error) {
	if opts == nil {
		opts = &AcceptOptions{}
	}
	cfg := opts.config()
	req, err := handshake.FromHTTP(r)
	var a agreement
	if err == nil {
		a, err = opts.check(req)
	}
	if err != nil {
		handshake.WriteError(w, refusal(err))
		return nil, err
	}
	value, he, err := opts.admit(req)
	if err != nil {
		handshake.WriteError(w, he)
		return nil, err
	}
	a.value = value
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		handshake.WriteError(w, &handshake.Error{StatusCode: http.StatusInternalServerError, Reason: "cannot hijack the connection"})
		return nil, err
	}
	// net/http may have read past the request head: those bytes are frames.
	early := buffered(brw.Reader)
	nc.SetDeadline(time.Now().Add(cfg.handshakeTimeout))
	if err := opts.writeResponse(nc, req, a); err != nil {
		nc.Close()
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	return cfg.open(nc, early, a)
}

// readerPool holds the clients' readers for the opening handshake (Dial).
var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}

// getReader returns a pooled reader over nc for the opening handshake.
func getReader(nc net.Conn) *bufio.Reader {
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(nc)
	return br
}

// putReader returns br to the pool, holding no reference to the socket.
func putReader(br *bufio.Reader) {
	br.Reset(nil)
	readerPool.Put(br)
}

// buffered returns what br read past the handshake: the first frames.
func buffered(br *bufio.Reader) []byte {
	b, _ := br.Peek(br.Buffered())
	return b
}

// refusal returns the refusal err stands for: err itself when it is one
// (every check returns a *handshake.Error), else a 400 with its text.
func refusal(err error) *handshake.Error {
	var he *handshake.Error
	if errors.As(err, &he) {
		return he
	}
	return &handshake.Error{StatusCode: http.StatusBadRequest, Reason: err.Error()}
}

// The refusals a Server makes for reasons of its own rather than the
// request's, with status 503 and "Retry-After: 1" (a second is long enough
// for a connection to end or a restarted server to listen again, short
// enough not to lose the client). They are shared: never modified.
var (
	errTooManyConnections = &handshake.Error{StatusCode: http.StatusServiceUnavailable, Reason: "too many connections", Header: retryAfter}
	errShuttingDown       = &handshake.Error{StatusCode: http.StatusServiceUnavailable, Reason: "server shutting down", Header: retryAfter}
	retryAfter            = http.Header{"Retry-After": {"1"}}
)

// errForbidden answers an OnRequest error that is not a *HandshakeError.
var errForbidden = &handshake.Error{StatusCode: http.StatusForbidden, Reason: "forbidden"}

// parsers are the RequestParsers of the raw server paths, reused: a
// parser keeps its header map, and holds no buffer while it is here.
var parsers = sync.Pool{New: func() any { return new(handshake.RequestParser) }}

// getParser returns a parser for a head of at most maxHeader bytes.
func getParser(maxHeader int) *handshake.RequestParser {
	p := parsers.Get().(*handshake.RequestParser)
	p.Reset(maxHeader)
	return p
}

// putParser gives p back, with its buffer: what p returned is not to be
// used after.
func putParser(p *handshake.RequestParser) {
	p.Reset(0)
	parsers.Put(p)
}

// readHead reads a request head from a blocking connection with p, until
// it is complete or refused (a *handshake.Error) or the connection fails.
func readHead(nc net.Conn, p *handshake.RequestParser) error {
	for {
		done, err := p.Fill(nc)
		if done {
			return nil
		}
		if _, ok := err.(*handshake.Error); ok {
			return err
		}
		if err != nil {
			return fmt.Errorf("websocket: handshake: reading request: %w", err)
		}
	}
}

// Upgrade runs the server side of the opening handshake on a raw net.Conn,
// without net/http: it reads and checks the request, answers, and returns
// the connection and the request. ctx and opts.HandshakeTimeout bound the
// handshake. On failure Upgrade has answered with the right HTTP status when
// it could; the caller closes nc. opts may be nil.
func Upgrade(ctx context.Context, nc net.Conn, opts *AcceptOptions) (*Conn, *Request, error) {
	c, req, _, err := upgrade(ctx, nc, opts)
	return c, req, err
}

// upgrade is Upgrade, which also returns the refusal it answered with, if
// any, for a Server's counters.
func upgrade(ctx context.Context, nc net.Conn, opts *AcceptOptions) (*Conn, *Request, *handshake.Error, error) {
	if opts == nil {
		opts = &AcceptOptions{}
	}
	cfg := opts.config()
	deadline := time.Now().Add(cfg.handshakeTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	nc.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	p := getParser(cfg.maxHeaderBytes)
	defer putParser(p)
	var req *Request
	err := readHead(nc, p)
	if err == nil {
		// The caller keeps the Request: not the parser's own.
		req, err = p.NewRequest()
	}
	var a agreement
	if err == nil {
		a, err = opts.check(req)
	}
	var he *handshake.Error
	if err == nil {
		a.value, he, err = opts.admit(req)
	} else {
		he = answered(err)
	}
	if err != nil {
		if he != nil {
			writeRefusal(nc, he)
		}
		return nil, req, he, err
	}
	if err := opts.writeResponse(nc, req, a); err != nil {
		return nil, req, nil, err
	}
	if !stop() {
		return nil, req, nil, ctx.Err()
	}
	nc.SetDeadline(time.Time{})
	c, err := cfg.open(nc, p.Rest(), a) // copies the first frames
	return c, req, nil, err
}

// answered returns the refusal a failed read or check of a request is
// answered with, or nil when the connection failed and gets no answer.
func answered(err error) *handshake.Error {
	var he *handshake.Error
	if errors.As(err, &he) {
		return he
	}
	return nil
}

// refuse answers a request with he, leaving nc for the caller to close;
// it is used before the upgrade, e.g. with errTooManyConnections past the
// connection limit.
func refuse(nc net.Conn, he *handshake.Error, timeout time.Duration, maxHeader int) {
	nc.SetDeadline(time.Now().Add(timeout))
	p := getParser(maxHeader)
	readHead(nc, p) // read it, so the client sees the answer rather than a reset
	putParser(p)
	writeRefusal(nc, he)
}
