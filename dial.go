//go:build !js

package websocket

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/rfc6455/websocket/endpoint"
	"github.com/rfc6455/websocket/handshake"
)

// DialOptions configure a client connection. A nil *DialOptions gives the
// defaults.
type DialOptions struct {
	Options

	// Subprotocols are offered to the server, best first.
	Subprotocols []string

	// Header holds extra request headers (Origin, Cookie, Authorization
	// ...). The WebSocket headers themselves cannot be overridden.
	Header http.Header

	// TLSConfig is used for wss:// URLs. Default: a config with ServerName
	// set from the URL. When set, a copy is used, with ServerName filled
	// in if empty.
	TLSConfig *tls.Config

	// NetDialContext dials the TCP connection: it is called once, with
	// network "tcp" and the URL's "host:port", and does its own name
	// resolution. Set it to go through a proxy or a custom transport.
	// Default (nil): Dial resolves the host with endpoint.Resolve and
	// races its addresses with an endpoint.Dialer (Happy Eyeballs, RFC
	// 8305: IPv6 and IPv4 alternated, a new attempt every 250 ms or as
	// soon as one fails).
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// OnEndpoint, if set, is called with the address the TCP connection
	// was made to, when Dial dials it itself (NetDialContext is nil). It is
	// called once per Dial, from Dial's goroutine, as soon as the
	// connection is established: before TLS and the opening handshake,
	// which may still fail. Use it to log or pin the address that worked,
	// for instance to reconnect to the same server.
	OnEndpoint func(endpoint.Endpoint)

	// HandshakeTimeout bounds dialing, TLS and the opening handshake
	// together. Default 10 s.
	HandshakeTimeout time.Duration

	// MaxHeaderBytes bounds the response head. Default 16 KiB.
	MaxHeaderBytes int
}

// Dial opens a WebSocket connection to rawURL (ws:// or wss://). ctx and
// opts.HandshakeTimeout bound the dial and the handshake; once Dial
// returns, ctx no longer matters. A refused handshake returns the
// *handshake.ResponseError with the server's status. opts may be nil.
func Dial(ctx context.Context, rawURL string, opts *DialOptions) (*Conn, error) {
	if opts == nil {
		opts = &DialOptions{}
	}
	u, err := dialURL(rawURL)
	if err != nil {
		return nil, err
	}
	secure := strings.EqualFold(u.Scheme, "wss")
	cfg := opts.Options.resolve(opts.HandshakeTimeout, opts.MaxHeaderBytes, false)
	ctx, cancel := context.WithTimeout(ctx, cfg.handshakeTimeout)
	defer cancel()

	nc, err := dialTCP(ctx, u, secure, opts)
	if err != nil {
		return nil, err
	}
	c, err := clientHandshake(ctx, nc, u, secure, opts, cfg)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// dialURL is the native build's check of a URL to dial (Dial,
// NewReconnectingClient): parseURL alone, since package endpoint checks the
// host when Dial resolves it, and a NetDialContext takes it as it is.
func dialURL(raw string) (*url.URL, error) { return parseURL(raw) }

// dialTCP opens the connection to u's host: through opts.NetDialContext if
// set, else by resolving the host and racing its addresses.
func dialTCP(ctx context.Context, u *url.URL, secure bool, opts *DialOptions) (net.Conn, error) {
	if opts.NetDialContext != nil {
		addr := u.Host
		if u.Port() == "" {
			port := "80"
			if secure {
				port = "443"
			}
			addr = net.JoinHostPort(u.Hostname(), port)
		}
		return opts.NetDialContext(ctx, "tcp", addr)
	}
	t, err := endpoint.FromURL(u)
	if err != nil {
		return nil, err
	}
	eps, err := endpoint.Resolve(ctx, t.Host, t.Port)
	if err != nil {
		return nil, err
	}
	var d endpoint.Dialer
	nc, ep, err := d.DialEndpoints(ctx, eps)
	if err != nil {
		return nil, err
	}
	if opts.OnEndpoint != nil {
		opts.OnEndpoint(ep)
	}
	return nc, nil
}

func clientHandshake(ctx context.Context, nc net.Conn, u *url.URL, secure bool, opts *DialOptions, cfg *config) (*Conn, error) {
	if d, ok := ctx.Deadline(); ok {
		nc.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if secure {
		cfg := &tls.Config{}
		if opts.TLSConfig != nil {
			cfg = opts.TLSConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = u.Hostname()
		}
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, ctxErr(ctx, err)
		}
		nc = tc
	}
	req := &handshake.ClientRequest{
		URL:       u,
		Key:       handshake.NewKey(),
		Protocols: opts.Subprotocols,
		Header:    opts.Header,
	}
	var offer handshake.Extension
	if opts.Compression != nil {
		offer = opts.Compression.deflateConfig().Offer()
		req.Extensions = []handshake.Extension{offer}
	}
	b, err := req.Append(nil)
	if err != nil {
		return nil, err
	}
	if _, err := nc.Write(b); err != nil {
		return nil, ctxErr(ctx, err)
	}
	br := getReader(nc)
	defer putReader(br)
	resp, err := handshake.ReadResponse(br, cfg.maxHeaderBytes, req)
	if err != nil {
		return nil, ctxErr(ctx, err)
	}
	a := agreement{protocol: resp.Protocol}
	for _, e := range resp.Extensions {
		// ReadResponse lets through only extensions that were offered,
		// each at most once, so this is the answer to offer or nothing.
		if opts.Compression == nil || e.Name != offer.Name {
			continue
		}
		p, err := opts.Compression.deflateConfig().Agreed(offer, e)
		if err != nil {
			return nil, err // RFC 7692 §7.1: fail the WebSocket connection
		}
		a.deflate = &p
	}
	if !stop() {
		return nil, ctx.Err()
	}
	nc.SetDeadline(time.Time{})
	return cfg.open(nc, buffered(br), a)
}

// ctxErr prefers the context's error over the deadline error it caused.
func ctxErr(ctx context.Context, err error) error {
	cerr := ctx.Err()
	if cerr == nil && errors.Is(err, os.ErrDeadlineExceeded) {
		// The socket deadline is ctx's deadline, and may fire a moment
		// before ctx's own timer does.
		if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
			cerr = context.DeadlineExceeded
		}
	}
	if cerr != nil {
		return fmt.Errorf("websocket: handshake: %w (%v)", cerr, err)
	}
	return err
}
