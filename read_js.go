//go:build js && wasm

package websocket

import (
	"context"
	"errors"
	"io"
	"slices"
	"syscall/js"
)

// next waits for the next message and takes it off the queue. Messages
// queued before the connection ended are read before its *CloseError.
func (c *Conn) next(ctx context.Context) (inbound, error) {
	if err := ctx.Err(); err != nil {
		return inbound{}, err
	}
	for {
		c.mu.Lock()
		if c.head < len(c.queue) {
			m := c.queue[c.head]
			c.queue[c.head] = inbound{} // let the browser's buffer go
			c.head++
			if c.head == len(c.queue) {
				c.queue, c.head = c.queue[:0], 0
			}
			c.queued -= int64(m.n)
			c.mu.Unlock()
			return m, nil
		}
		if err := c.result; err != nil {
			c.mu.Unlock()
			return inbound{}, err
		}
		c.mu.Unlock()
		select {
		case <-c.wake:
		case <-ctx.Done():
			return inbound{}, ctx.Err()
		}
	}
}

// ReadMessage reads the next message whole, into a new slice. The browser
// has checked a text message to be valid UTF-8. After the connection has
// ended, ReadMessage returns how (a *CloseError).
func (c *Conn) ReadMessage(ctx context.Context) (MessageType, []byte, error) {
	return c.AppendMessage(ctx, nil)
}

// AppendMessage is ReadMessage that appends the message to dst and returns
// the extended slice: the message's bytes are copied once, from the
// browser's buffer into dst, and reusing dst reads without allocating. If
// ctx ends first, dst comes back as it was.
func (c *Conn) AppendMessage(ctx context.Context, dst []byte) (MessageType, []byte, error) {
	m, err := c.next(ctx)
	if err != nil {
		return 0, dst, err
	}
	base := len(dst)
	dst = slices.Grow(dst, m.n)[:base+m.n]
	js.CopyBytesToGo(dst[base:], m.data)
	return m.typ, dst, nil
}

// NextReader returns the type of the next message and a reader for its
// payload. The browser has received the message whole already; the reader
// copies it into Go memory a Read at a time, so a large message is never
// held twice. ctx bounds the wait for the message.
func (c *Conn) NextReader(ctx context.Context) (MessageType, io.Reader, error) {
	m, err := c.next(ctx)
	if err != nil {
		return 0, nil, err
	}
	return m.typ, &messageReader{data: m.data, n: m.n}, nil
}

// messageReader reads a message out of the browser's buffer.
type messageReader struct {
	data js.Value // Uint8Array; undefined once read
	n    int
	off  int
}

func (r *messageReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		r.data = js.Undefined()
		return 0, io.EOF
	}
	k := min(len(p), r.n-r.off)
	if k == 0 {
		return 0, nil
	}
	src := r.data
	if r.off > 0 || k < r.n {
		src = r.data.Call("subarray", r.off, r.off+k) // a view: no copy
	}
	js.CopyBytesToGo(p[:k], src)
	r.off += k
	return k, nil
}

// Serve reads messages until the connection ends, handing each to
// Options.OnMessage (which may be nil, to discard them). It returns nil
// when the connection ended with a close handshake, and ctx's error or
// the *CloseError otherwise; Err says how it ended.
func (c *Conn) Serve(ctx context.Context) error {
	var buf []byte
	for {
		typ, data, err := c.AppendMessage(ctx, buf[:0])
		if err != nil {
			var ce *CloseError
			if errors.As(err, &ce) && ce.Code != StatusAbnormalClosure && ce.Err == nil {
				return nil
			}
			return err
		}
		if f := c.onMessage; f != nil {
			f(c, typ, data)
		}
		buf = data
	}
}
