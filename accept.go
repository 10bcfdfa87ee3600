package websocket

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/handshake"
	"github.com/rfc6455/websocket/session"
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
	// past it the client gets 431. Default 8 KiB.
	MaxHeaderBytes int

	// shared, set on a Server's own copy, are the session options of
	// every connection that agreed on no subprotocol and no extension:
	// made once, they cost connections nothing.
	shared *session.Options
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

// response is the server's 101 answer for req and a.
func (o *AcceptOptions) response(req *handshake.Request, a agreement) []byte {
	return o.appendResponse(nil, req, a)
}

// appendResponse appends the server's 101 answer for req and a to dst.
func (o *AcceptOptions) appendResponse(dst []byte, req *handshake.Request, a agreement) []byte {
	var ext string
	if a.deflate != nil {
		ext = a.deflate.String()
	}
	return handshake.AppendResponse(dst, req.Key, a.protocol, ext, o.Header)
}

// open turns a socket whose handshake succeeded into a Conn.
func (o *AcceptOptions) open(nc net.Conn, buffered []byte, a agreement) (*Conn, error) {
	c := conn.NewTransport(newTransport(nc), conn.Server, o.connConfig(a))
	if err := c.Open(buffered); err != nil {
		c.Abort(err)
		return nil, err
	}
	so := o.shared
	if so == nil || a.protocol != "" || a.deflate != nil {
		so = o.sessionOptions(a, true)
	}
	return session.New(c, so), nil
}

// Accept upgrades an HTTP request to a WebSocket connection, on net/http. On
// failure it has answered with the right status (400, 403, 426 ...) and
// returns the error, a *handshake.Error for a refused request. opts may be
// nil.
func Accept(w http.ResponseWriter, r *http.Request, opts *AcceptOptions) (*Conn, error) {
	if opts == nil {
		opts = &AcceptOptions{}
	}
	req, err := handshake.FromHTTP(r)
	var a agreement
	if err == nil {
		a, err = opts.check(req)
	}
	if err != nil {
		var he *handshake.Error
		if errors.As(err, &he) {
			for k, v := range he.Header {
				w.Header()[k] = v
			}
			http.Error(w, he.Reason, he.StatusCode)
		} else {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
		return nil, err
	}
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "websocket: cannot hijack the connection", http.StatusInternalServerError)
		return nil, err
	}
	// net/http may have read past the request head: those bytes are frames.
	early := buffered(brw.Reader)
	resp := opts.response(req, a)
	nc.SetDeadline(time.Now().Add(durationOr(opts.HandshakeTimeout, DefaultHandshakeTimeout)))
	if _, err := nc.Write(resp); err != nil {
		nc.Close()
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	return opts.open(nc, early, a)
}

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

// Upgrade runs the server side of the opening handshake on a raw net.Conn,
// without net/http: it reads and checks the request, answers, and returns
// the connection and the request. ctx and opts.HandshakeTimeout bound the
// handshake. On failure Upgrade has answered with the right HTTP status when
// it could; the caller closes nc. opts may be nil.
func Upgrade(ctx context.Context, nc net.Conn, opts *AcceptOptions) (*Conn, *Request, error) {
	if opts == nil {
		opts = &AcceptOptions{}
	}
	deadline := time.Now().Add(durationOr(opts.HandshakeTimeout, DefaultHandshakeTimeout))
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	nc.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	br := getReader(nc)
	defer putReader(br)
	maxHeader := opts.MaxHeaderBytes
	if maxHeader <= 0 {
		maxHeader = DefaultMaxHeaderBytes
	}
	req, err := handshake.ReadRequest(br, maxHeader)
	var a agreement
	if err == nil {
		a, err = opts.check(req)
	}
	if err != nil {
		var he *handshake.Error
		if errors.As(err, &he) {
			nc.Write(handshake.AppendErrorResponse(nil, he))
		}
		return nil, req, err
	}
	if _, err := nc.Write(opts.response(req, a)); err != nil {
		return nil, req, err
	}
	if !stop() {
		return nil, req, ctx.Err()
	}
	nc.SetDeadline(time.Time{})
	c, err := opts.open(nc, buffered(br), a)
	return c, req, err
}

// refuse answers a request with status and closes nc; it is used before the
// upgrade, e.g. with 503 past the connection limit.
func refuse(nc net.Conn, status int, reason string, timeout time.Duration, maxHeader int) {
	nc.SetDeadline(time.Now().Add(timeout))
	br := getReader(nc)
	handshake.ReadRequest(br, maxHeader) // read it, so the client sees the answer rather than a reset
	putReader(br)
	e := &handshake.Error{StatusCode: status, Reason: reason, Header: http.Header{"Retry-After": {"1"}}}
	nc.Write(handshake.AppendErrorResponse(nil, e))
	nc.Close()
}
