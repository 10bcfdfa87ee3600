package session

import (
	"context"
	"errors"
	"io"
	"math"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/bufpool"
	"github.com/rfc6455/websocket/internal/deflate"
)

// WriteMessage sends data as one message of type typ, split into frames of
// at most Options.FragmentSize. Text must be valid UTF-8.
func (s *Session) WriteMessage(ctx context.Context, typ frame.Opcode, data []byte) error {
	if typ != frame.OpText && typ != frame.OpBinary {
		return errMessageType
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.msgMu.Lock()
	defer s.msgMu.Unlock()
	s.writeWatch(ctx)
	return s.writeError(ctx, s.writeFrames(frame.Opcode(typ), data))
}

// Ping sends a ping with payload (at most 125 bytes). The pong arrives
// through the reader (Options.OnPong).
func (s *Session) Ping(ctx context.Context, payload []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	defer s.watchWrite(ctx)()
	return s.writeError(ctx, s.c.WriteFrame(frame.OpPing, true, 0, payload))
}

// watchWrite makes a cancelled ctx interrupt one blocked write (Ping, which
// does not hold msgMu and so cannot use wwatch). A write interrupted half
// way fails the connection.
func (s *Session) watchWrite(ctx context.Context) func() {
	if ctx.Done() == nil {
		return func() {}
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		s.c.SetWriteDeadline(aLongTimeAgo)
		close(fired)
	})
	return func() {
		if !stop() {
			<-fired
		}
	}
}

func (s *Session) writeError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if isTimeout(err) && ctx.Err() != nil {
		err = ctx.Err()
	}
	if errors.Is(err, conn.ErrCloseSent) {
		if r := s.Err(); r != nil {
			return r
		}
		return err
	}
	s.end(err, true)
	return err
}

// NextWriter returns a writer for a message of type typ, sent in frames of
// Options.FragmentSize as the writer fills; Close sends the last frame.
// Other messages wait until the writer is closed.
func (s *Session) NextWriter(ctx context.Context, typ frame.Opcode) (io.WriteCloser, error) {
	if typ != frame.OpText && typ != frame.OpBinary {
		return nil, errMessageType
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.msgMu.Lock()
	w := &messageWriter{s: s, ctx: ctx, op: frame.Opcode(typ)}
	if s.compresses(math.MaxInt) {
		// The size is not known yet: the threshold does not apply.
		w.enc = s.compressor()
		w.zb = bufpool.Get(4096)
		w.rsv = frame.Rsv1
	}
	return w, nil
}

type messageWriter struct {
	s      *Session
	ctx    context.Context
	op     frame.Opcode
	rsv    uint8
	buf    []byte
	closed bool

	// With compression: the message's compressor and its output buffer.
	enc *deflate.Compressor
	zb  *bufpool.Buffer
}

func (w *messageWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errWriterClosed
	}
	size := w.s.opts.FragmentSize
	n := len(p)
	for len(p) > 0 {
		// A full buffer goes out only once more data follows, so that the
		// last full fragment can still be the final frame.
		if len(w.buf) == size {
			if err := w.flush(false); err != nil {
				return n - len(p), err
			}
		}
		if w.buf == nil {
			w.buf = make([]byte, 0, min(size, max(len(p), 4096)))
		}
		k := min(size-len(w.buf), len(p))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
	}
	return n, nil
}

func (w *messageWriter) flush(fin bool) error {
	payload := w.buf
	if w.enc != nil {
		w.zb.B = w.enc.Append(w.zb.B[:0], w.buf, fin)
		payload = w.zb.B
		w.buf = w.buf[:0]
		if len(payload) == 0 && !fin {
			return nil // nothing to send yet
		}
	}
	w.s.writeWatch(w.ctx)
	err := w.s.c.WriteFrame(w.op, fin, w.rsv, payload)
	w.op, w.rsv = frame.OpContinuation, 0
	w.buf = w.buf[:0]
	return w.s.writeError(w.ctx, err)
}

// Close sends the message's final frame and lets other messages through.
func (w *messageWriter) Close() error {
	if w.closed {
		return errWriterClosed
	}
	w.closed = true
	defer w.s.msgMu.Unlock()
	err := w.flush(true)
	if w.enc != nil {
		w.s.releaseCompressor(w.enc)
		bufpool.Put(w.zb)
		w.enc, w.zb = nil, nil
	}
	return err
}
