//go:build js && wasm

package websocket

import (
	"context"
	"io"
	"syscall/js"
	"time"
	"unicode/utf8"
	"unsafe"
)

// The browser takes every message at once and buffers what the network
// cannot take yet (its bufferedAmount), without bound and without an event
// when the buffer drains. Writes wait while it holds more than
// sendBufferLimit bytes, looking again every sendPoll: the backpressure a
// native write gets from the socket.
const (
	sendBufferLimit = 1 << 20
	sendPoll        = 10 * time.Millisecond
)

// wsOpen is the browser WebSocket's readyState OPEN.
const wsOpen = 1

// WriteMessage sends data as one message of type typ (TextMessage, whose
// data must be valid UTF-8, or BinaryMessage). It waits, bounded by ctx,
// while the browser holds more than 1 MiB not yet sent, then hands the
// message to the browser, copied once, and returns; data is not kept.
func (c *Conn) WriteMessage(ctx context.Context, typ MessageType, data []byte) error {
	if typ != TextMessage && typ != BinaryMessage {
		return errMessageType
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if typ == TextMessage && !utf8.Valid(data) {
		return errInvalidUTF8 // the browser would replace the bad bytes silently
	}
	if err := c.waitRoom(ctx); err != nil {
		return err
	}
	return c.send(typ, data)
}

// SendText sends text (valid UTF-8) as a text message, as WriteMessage.
func (c *Conn) SendText(ctx context.Context, text string) error {
	return c.WriteMessage(ctx, TextMessage, unsafe.Slice(unsafe.StringData(text), len(text)))
}

// Enqueue hands data to the browser as one message and returns without
// waiting: the browser's own send buffer is the queue, and it has no bound
// (Options has no SendQueueSize here). data is copied before Enqueue
// returns.
func (c *Conn) Enqueue(typ MessageType, data []byte) error {
	if typ != TextMessage && typ != BinaryMessage {
		return errMessageType
	}
	if typ == TextMessage && !utf8.Valid(data) {
		return errInvalidUTF8
	}
	return c.send(typ, data)
}

// NextWriter returns a writer for one message of type typ. The browser
// sends only whole messages, so the writer collects the bytes and Close
// sends them as WriteMessage with ctx would; other writes are not held
// up meanwhile. Close it always.
func (c *Conn) NextWriter(ctx context.Context, typ MessageType) (io.WriteCloser, error) {
	if typ != TextMessage && typ != BinaryMessage {
		return nil, errMessageType
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := c.writable(); err != nil {
		return nil, err
	}
	return &messageWriter{c: c, ctx: ctx, typ: typ}, nil
}

// messageWriter collects a message for NextWriter.
type messageWriter struct {
	c      *Conn
	ctx    context.Context
	typ    MessageType
	buf    []byte
	closed bool
}

func (w *messageWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errWriterClosed
	}
	if err := w.c.writable(); err != nil {
		return 0, err
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func (w *messageWriter) Close() error {
	if w.closed {
		return errWriterClosed
	}
	w.closed = true
	err := w.c.WriteMessage(w.ctx, w.typ, w.buf)
	w.buf = nil
	return err
}

// writable returns why nothing can be written: how the connection ended,
// or that it is closing.
func (c *Conn) writable() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.result != nil {
		return c.result
	}
	if c.closing {
		return errClosing
	}
	return nil
}

// waitRoom waits, bounded by ctx, until the browser holds at most
// sendBufferLimit bytes not yet sent.
func (c *Conn) waitRoom(ctx context.Context) error {
	var t *time.Timer
	for {
		if err := c.writable(); err != nil {
			return err
		}
		if c.ws.Get("bufferedAmount").Int() <= sendBufferLimit {
			return nil
		}
		if t == nil {
			t = time.NewTimer(sendPoll)
			defer t.Stop()
		} else {
			t.Reset(sendPoll)
		}
		select {
		case <-t.C:
		case <-c.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// send hands one message to the browser: text as a JavaScript string
// decoded straight from data, binary copied into a new Uint8Array.
func (c *Conn) send(typ MessageType, data []byte) error {
	if err := c.writable(); err != nil {
		return err
	}
	if c.ws.Get("readyState").Int() != wsOpen {
		// The server's close frame has arrived and its event has not
		// yet: the browser would drop the message without a word.
		return errClosing
	}
	var v js.Value
	if typ == TextMessage {
		// js.ValueOf decodes the string into JavaScript at once and
		// keeps no reference to data: no Go copy is needed.
		v = js.ValueOf(unsafe.String(unsafe.SliceData(data), len(data)))
	} else {
		v = uint8Array().New(len(data))
		js.CopyBytesToJS(v, data)
	}
	if err := catch(func() { c.ws.Call("send", v) }); err != nil {
		return err
	}
	c.mu.Lock()
	c.stats.MessagesOut++
	c.stats.BytesOut += uint64(len(data))
	c.mu.Unlock()
	return nil
}
