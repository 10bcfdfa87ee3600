//go:build js && wasm

package websocket

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"syscall/js"
	"time"

	"github.com/rfc6455/websocket/internal/defaults"
)

// DialOptions configure a browser connection. A nil *DialOptions gives the
// defaults.
//
// The browser makes the opening handshake itself, so the native build's
// other fields have no counterpart here: it sends its own headers (the
// page's Origin, the site's cookies; a page cannot add Authorization or
// any other header, so pass a token in the URL or the first message), it
// checks certificates against its own roots, it offers permessage-deflate
// on its own (Conn.Compressed reports what was agreed), and it dials and
// resolves names itself.
type DialOptions struct {
	Options

	// Subprotocols are offered to the server, best first. The browser
	// refuses a server that picks one not offered.
	Subprotocols []string

	// HandshakeTimeout bounds the opening handshake, with Dial's ctx.
	// Default 10 s.
	HandshakeTimeout time.Duration
}

// errDialFailed is the cause a failed Dial reports: the browser hides why
// a connection could not be opened (a refused port, a rejected handshake,
// an unknown name, a certificate it distrusts), so that a page cannot
// probe the network; the browser's console says which.
var errDialFailed = errors.New("websocket: the browser could not open the connection (its console says why)")

// Dial opens a WebSocket connection to rawURL (ws:// or wss://) with the
// browser's WebSocket. ctx and opts.HandshakeTimeout bound the opening
// handshake; once Dial returns, ctx no longer matters. A connection the
// browser could not open returns an error that wraps a *CloseError with
// code 1006, whatever the reason: the browser does not tell (no HTTP
// status, unlike the native build's *handshake.ResponseError). opts may be
// nil.
func Dial(ctx context.Context, rawURL string, opts *DialOptions) (*Conn, error) {
	if opts == nil {
		opts = &DialOptions{}
	}
	u, err := dialURL(rawURL)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, durationOr(opts.HandshakeTimeout, defaults.HandshakeTimeout))
	defer cancel()

	c := newConn(u, &opts.Options)
	if err := c.open(u.String(), opts.Subprotocols); err != nil {
		return nil, fmt.Errorf("websocket: dial %s: %w", u.Redacted(), err)
	}
	select {
	case <-c.opened:
	case <-c.done:
		return nil, fmt.Errorf("websocket: dial %s: %w", u.Redacted(), c.Err())
	case <-ctx.Done():
		c.abandon(ctx.Err())
		return nil, ctx.Err()
	}
	c.subprotocol = c.ws.Get("protocol").String()
	c.extensions = c.ws.Get("extensions").String()
	c.since = time.Now()
	return c, nil
}

// dialURL is the browser build's check of a URL to dial (Dial,
// NewReconnectingClient): parseURL, and a host required at once, since the
// browser resolves it itself and would take a URL without one as relative
// to the page. (It would also take http:// URLs; the native build does
// not, and neither does this one.)
func dialURL(raw string) (*url.URL, error) {
	u, err := parseURL(raw)
	if err == nil && u.Host == "" {
		return nil, fmt.Errorf("%w: %q has no host", ErrBadURL, raw)
	}
	return u, err
}

// open makes the browser's WebSocket and wires its events to c.
func (c *Conn) open(rawURL string, protocols []string) error {
	ctor := js.Global().Get("WebSocket")
	if ctor.Type() != js.TypeFunction {
		return errors.New("websocket: this JavaScript environment has no WebSocket")
	}
	list := make([]any, len(protocols))
	for i, p := range protocols {
		list[i] = p
	}
	err := catch(func() { c.ws = ctor.New(rawURL, list) })
	if err != nil {
		return err // a SyntaxError: a URL or subprotocol the browser refuses
	}
	c.ws.Set("binaryType", "arraybuffer")
	c.handlers = [...]js.Func{
		js.FuncOf(func(js.Value, []js.Value) any { c.up(); return nil }),
		js.FuncOf(func(_ js.Value, args []js.Value) any { c.received(args[0].Get("data")); return nil }),
		js.FuncOf(func(_ js.Value, args []js.Value) any { c.closed(args[0]); return nil }),
	}
	for i, name := range handlerNames {
		c.ws.Set(name, c.handlers[i])
	}
	return nil
}

// handlerNames are the events c.handlers serve, in order. The error event
// is not among them: the browser follows it with a close event, which says
// all it will say.
var handlerNames = [...]string{"onopen", "onmessage", "onclose"}

// release detaches c from the browser's WebSocket and frees the Go
// functions it called. Called once, by end.
func (c *Conn) release() {
	for i, name := range handlerNames {
		c.ws.Set(name, js.Null())
		c.handlers[i].Release()
	}
}

// closed handles the close event: the close handshake is over, or the
// connection dropped (wasClean false, code 1006).
func (c *Conn) closed(ev js.Value) {
	code := StatusCode(ev.Get("code").Int())
	if !ev.Get("wasClean").Bool() {
		cause := errDropped
		select {
		case <-c.opened:
		default:
			cause = errDialFailed
		}
		c.end(&CloseError{Code: StatusAbnormalClosure, Err: cause})
		return
	}
	c.end(&CloseError{Code: code, Reason: ev.Get("reason").String()})
}

// errDropped is the cause of a 1006 CloseError: the connection ended
// without a close handshake, or never opened. The browser says no more.
var errDropped = errors.New("websocket: the connection dropped without a close handshake")

// abandon gives up a connection whose Dial ended before it opened.
func (c *Conn) abandon(cause error) {
	catch(func() { c.ws.Call("close") })
	c.end(&CloseError{Code: StatusAbnormalClosure, Err: cause})
}

// catch runs f and returns the JavaScript exception it threw, if any, as
// a js.Error; syscall/js panics with one.
func catch(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			jerr, ok := r.(js.Error)
			if !ok {
				panic(r)
			}
			err = jerr
		}
	}()
	f()
	return nil
}
