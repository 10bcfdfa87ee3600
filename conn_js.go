//go:build js && wasm

package websocket

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall/js"
	"time"
	"unicode/utf8"

	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/defaults"
)

// Conn is a WebSocket connection at the level of messages, over the
// browser's WebSocket (see Dial). Its methods are the native build's, with
// the differences the browser imposes, each documented on the method:
// no pings, close codes limited to what a page may send, compression
// chosen by the browser.
//
// # Concurrency
//
// One goroutine at a time may read (ReadMessage, AppendMessage, NextReader,
// Serve); writes are safe from any number of goroutines and never
// interleave, since the browser takes each message whole. Close, CloseNow,
// Done, Err and the accessors may be called from anywhere.
//
// # Contexts
//
// A read whose context ends returns the context's error and leaves the
// connection open; the message it was waiting for goes to the next read. A
// write whose context ends while it waits for the browser's send buffer
// returns the context's error, and the message is not sent.
//
// # The read queue
//
// The browser delivers messages as they arrive, whether or not anything
// reads them, and offers no way to push back on the server. Messages that
// arrive while no read is waiting are queued (in the page's JavaScript
// heap, as the browser delivered them, converted only when read): at most
// 1024 messages and MaxMessageSize bytes in all (a message that finds the
// queue empty is always taken). A message past either bound ends the
// connection with a 1008 (policy violation) CloseError, reason "read
// queue full": keep a reader running, as with the native build, whose
// peer would instead feel TCP push back.
type Conn struct {
	ws       js.Value   // the browser's WebSocket
	handlers [3]js.Func // for handlerNames, released when the connection ends
	opened   chan struct{}
	done     chan struct{}
	wake     chan struct{} // capacity 1: a message arrived or the connection ended

	id            uint64
	remote, local addr
	maxMessage    int64
	closeTimeout  time.Duration
	onMessage     func(c *Conn, typ MessageType, data []byte)
	onClose       func(c *Conn, err error)
	subprotocol   string // set by Dial once open, read-only after
	extensions    string
	since         time.Time

	mu      sync.Mutex
	queue   []inbound // messages not read yet, oldest first, from head on
	head    int
	queued  int64 // their bytes
	result  error // how the connection ended (the first cause wins), nil while open
	closing bool  // a close frame was asked for
	ended   bool  // done is closed
	stats   Stats
	data    map[any]any
}

// inbound is a message as the browser delivered it: its bytes in a
// Uint8Array, not copied into Go memory until it is read.
type inbound struct {
	typ  MessageType
	data js.Value // Uint8Array
	n    int
}

// The read queue's bounds (see Conn).
const maxQueuedMessages = 1024

var (
	errMessageType    = errors.New("websocket: invalid message type")
	errInvalidUTF8    = errors.New("websocket: text message is not valid UTF-8")
	errPingDisallowed = errors.New("websocket: the browser's WebSocket API cannot send pings")
	errCloseTimeout   = errors.New("websocket: close handshake timed out")
	errClosing        = fmt.Errorf("websocket: the connection is closing: %w", net.ErrClosed)
	errWriterClosed   = errors.New("websocket: message writer closed")
)

var nextID atomic.Uint64

func newConn(u *url.URL, o *Options) *Conn {
	return &Conn{
		opened:       make(chan struct{}),
		done:         make(chan struct{}),
		wake:         make(chan struct{}, 1),
		id:           nextID.Add(1),
		remote:       addr(u.Host),
		local:        pageAddr(),
		maxMessage:   o.maxMessageSize(),
		closeTimeout: durationOr(o.CloseTimeout, defaults.CloseTimeout),
		onMessage:    o.OnMessage,
		onClose:      o.OnClose,
	}
}

// up handles the open event.
func (c *Conn) up() { close(c.opened) }

// received handles a message event: data is a string (text) or an
// ArrayBuffer (binary, as binaryType asks). It runs on the browser's event
// callback and so must not block.
func (c *Conn) received(data js.Value) {
	m := inbound{typ: BinaryMessage}
	if data.Type() == js.TypeString {
		m.typ = TextMessage
		m.data = textEncoder().Call("encode", data)
	} else {
		m.data = uint8Array().New(data) // a view: no copy
	}
	m.n = m.data.Get("length").Int()

	c.mu.Lock()
	if c.result != nil {
		c.mu.Unlock()
		return // ending: nobody will read it
	}
	var code StatusCode
	var reason string
	switch {
	case c.maxMessage >= 0 && int64(m.n) > c.maxMessage:
		code, reason = StatusMessageTooBig, "message too big"
	case len(c.queue)-c.head >= maxQueuedMessages,
		len(c.queue) > c.head && c.maxMessage >= 0 && c.queued+int64(m.n) > c.maxMessage:
		code, reason = StatusPolicyViolation, "read queue full"
	default:
		c.queue = append(c.queue, m)
		c.queued += int64(m.n)
		c.stats.MessagesIn++
		c.stats.BytesIn += uint64(m.n)
		c.mu.Unlock()
		c.signal()
		return
	}
	c.mu.Unlock()
	c.fail(code, reason)
}

// fail ends the connection for a limit of ours: the CloseError says code
// and reason. A page may not send 1008 or 1009, so the server gets 1000
// with the reason.
func (c *Conn) fail(code StatusCode, reason string) {
	c.mu.Lock()
	if c.result == nil {
		c.result = &CloseError{Code: code, Reason: reason}
	}
	send := !c.closing
	c.closing = true
	c.mu.Unlock()
	c.signal()
	if send {
		catch(func() { c.ws.Call("close", int(StatusNormalClosure), reason) })
	}
}

// signal wakes the reader, if one waits.
func (c *Conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// end records how the connection ended (unless a cause was recorded
// already), closes Done, detaches from the browser and runs OnClose. Only
// the first call does anything.
func (c *Conn) end(result error) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	if c.result == nil {
		c.result = result
	}
	c.ended = true
	c.closing = true
	result = c.result
	close(c.done)
	c.mu.Unlock()
	c.signal()
	c.release()
	if f := c.onClose; f != nil {
		go f(c, result)
	}
}

// Close runs the close handshake with code and reason (at most 123 bytes
// of UTF-8; a longer reason is cut) and waits at most
// Options.CloseTimeout for the browser to finish it. A page may send only
// 1000 and 3000 to 4999: any other code (1001 going away, say) is sent as
// 1000, with the reason. Messages that arrived before the server's close
// frame can still be read; then reads return the *CloseError (Err), which
// holds the code and reason of the server's close frame, as the browser's
// close event reports them. Close is safe to call more than once and from
// any goroutine; later calls wait for the first.
func (c *Conn) Close(code StatusCode, reason string) error {
	if code != StatusNormalClosure && (code < 3000 || code > 4999) {
		code = StatusNormalClosure
	}
	reason = cutReason(reason)
	c.mu.Lock()
	send := !c.closing
	c.closing = true
	c.mu.Unlock()
	if send {
		if err := catch(func() { c.ws.Call("close", int(code), reason) }); err != nil {
			c.CloseNow()
			return err
		}
	}
	t := time.NewTimer(c.closeTimeout)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
		// The browser goes on with the handshake on its own; this
		// connection is over for us.
		c.end(&CloseError{Code: StatusAbnormalClosure, Err: errCloseTimeout})
	}
	return nil
}

// cutReason makes reason valid UTF-8 and cuts it to the 123 bytes a close
// frame holds, at a rune boundary: the browser throws on a longer one.
func cutReason(reason string) string {
	reason = strings.ToValidUTF8(reason, "")
	const limit = frame.MaxControlPayload - 2
	if len(reason) <= limit {
		return reason
	}
	n := limit
	for n > 0 && !utf8.RuneStart(reason[n]) {
		n--
	}
	return reason[:n]
}

// CloseNow ends the connection at once: reads and writes return a 1006
// *CloseError that wraps net.ErrClosed, and OnClose runs. The browser has
// no way to drop a connection without a close frame, so it still sends
// one (with no status code) and finishes the handshake on its own.
func (c *Conn) CloseNow() error {
	c.mu.Lock()
	send := !c.closing
	c.closing = true
	c.queue, c.head, c.queued = nil, 0, 0
	c.mu.Unlock()
	if send {
		catch(func() { c.ws.Call("close") })
	}
	c.end(&CloseError{Code: StatusAbnormalClosure, Err: net.ErrClosed})
	return nil
}

// Done returns a channel that is closed when the connection has ended, by
// either side; Err then says how.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns how the connection ended, a *CloseError with the close code
// and reason of the browser's close event (1006, with the cause, when it
// dropped without a close handshake, or for a limit of ours: see Options
// and Conn), or nil while it is open.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.result
}

// ID returns the connection's identifier, unique within the program.
func (c *Conn) ID() uint64 { return c.id }

// Subprotocol returns the subprotocol the server chose, or "" for none.
func (c *Conn) Subprotocol() string { return c.subprotocol }

// Compressed reports whether the browser and the server agreed on
// permessage-deflate (RFC 7692): the browser offers it on its own, and
// compresses and decompresses by itself.
func (c *Conn) Compressed() bool { return strings.Contains(c.extensions, "permessage-deflate") }

// SetCompression does nothing: the browser decides what it compresses.
func (c *Conn) SetCompression(enabled bool) {}

// Ping returns an error: the browser's WebSocket API cannot send pings.
// The browser answers the server's pings by itself, so a server's
// heartbeat works with a browser client.
func (c *Conn) Ping(ctx context.Context, payload []byte) error { return errPingDisallowed }

// RTT returns 0: without pings there is nothing to measure.
func (c *Conn) RTT() time.Duration { return 0 }

// Stats returns a snapshot of the connection's counters. The browser hides
// the frames, so the byte counts are of message payloads, and the frame
// counts are the message counts.
func (c *Conn) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.FramesIn, s.FramesOut = s.MessagesIn, s.MessagesOut
	s.Since = c.since
	if !c.since.IsZero() {
		s.Uptime = time.Since(c.since)
	}
	return s
}

// LocalAddr returns the page's origin ("https://example.com"), the closest
// the browser tells: it keeps the connection's own address to itself.
func (c *Conn) LocalAddr() net.Addr { return c.local }

// RemoteAddr returns the host and port of the URL Dial was given, as
// written there: the browser resolves the name without saying to what.
func (c *Conn) RemoteAddr() net.Addr { return c.remote }

// Set stores value under key in the connection's user data, for the
// application's per-connection state. Keys compare like map keys.
func (c *Conn) Set(key, value any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.data == nil {
		c.data = make(map[any]any)
	}
	c.data[key] = value
}

// Get returns the value Set stored under key, and whether there is one.
func (c *Conn) Get(key any) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.data[key]
	return v, ok
}

// Delete removes key from the connection's user data.
func (c *Conn) Delete(key any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.data, key)
}

// addr is a browser connection's address: what the browser tells of it.
type addr string

// Network returns "websocket".
func (addr) Network() string  { return "websocket" }
func (a addr) String() string { return string(a) }

// pageAddr returns the page's origin, or "" outside a page.
func pageAddr() addr {
	loc := js.Global().Get("location")
	if loc.Type() != js.TypeObject {
		return ""
	}
	return addr(loc.Get("origin").String())
}

// The JavaScript constructors and objects the package uses, looked up once.
var (
	uint8Array  = sync.OnceValue(func() js.Value { return js.Global().Get("Uint8Array") })
	textEncoder = sync.OnceValue(func() js.Value { return js.Global().Get("TextEncoder").New() })
)
