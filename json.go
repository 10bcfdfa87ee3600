package websocket

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/rfc6455/websocket/internal/bufpool"
)

// jsonReadSize is the buffer ReadJSON starts with: messages up to this
// size are read without allocating a buffer; larger ones grow it.
const jsonReadSize = 4096

// ReadJSON reads the next message and decodes it into v with
// json.Unmarshal. It accepts text and binary messages alike: JSON is bytes
// either way, and some peers send it in binary frames; refusing them would
// gain nothing that Unmarshal's own checks do not.
//
// A message that is not valid JSON for v returns encoding/json's error
// (*json.SyntaxError, *json.UnmarshalTypeError) and leaves the connection
// open: the message was consumed, and the next call reads the next one.
// A message larger than Options.MaxMessageSize is the connection's
// business, as for ReadMessage: it fails the connection with 1009.
func ReadJSON(ctx context.Context, c *Conn, v any) error {
	b := bufpool.Get(jsonReadSize)
	_, data, err := c.AppendMessage(ctx, b.B)
	if err == nil {
		err = json.Unmarshal(data, v)
	}
	b.B = data // a buffer grown past its class is dropped by Put
	bufpool.Put(b)
	return err
}

// WriteJSON encodes v with encoding/json (as json.Marshal does, without the
// newline json.Encoder adds) and sends it as one text message. The
// encoding goes into a pooled buffer, so a write allocates nothing beyond
// what encoding v itself needs. If v cannot be encoded, nothing is sent and
// encoding/json's error is returned.
func WriteJSON(ctx context.Context, c *Conn, v any) error {
	w := jsonWriters.Get().(*jsonWriter)
	err := w.enc.Encode(v)
	if err != nil {
		w.release()
		// An Encoder keeps a write error; this one never fails a write,
		// but a marshalling error leaves it usable. Drop it anyway rather
		// than reason about encoding/json's internals.
		return err
	}
	data := w.b.B
	if n := len(data); n > 0 && data[n-1] == '\n' {
		data = data[:n-1]
	}
	err = c.WriteMessage(ctx, TextMessage, data)
	w.release()
	jsonWriters.Put(w)
	return err
}

// jsonWriter is a json.Encoder and the buffer it writes to, pooled
// together: a fresh Encoder per call would be an allocation.
type jsonWriter struct {
	enc *json.Encoder
	b   *bufpool.Buffer
}

var jsonWriters = sync.Pool{New: func() any {
	w := new(jsonWriter)
	w.enc = json.NewEncoder(w)
	return w
}}

// Write collects what the Encoder writes; the buffer comes from bufpool,
// sized for the first write, so the pooled pair holds no large buffer
// between calls.
func (w *jsonWriter) Write(p []byte) (int, error) {
	if w.b == nil {
		w.b = bufpool.Get(len(p))
	}
	w.b.B = append(w.b.B, p...)
	return len(p), nil
}

func (w *jsonWriter) release() {
	bufpool.Put(w.b)
	w.b = nil
}
