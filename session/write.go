package session

import (
	"context"
	"errors"
	"io"
	"math"
	"time"

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
		return s.ctxError(err)
	}
	s.msgMu.Lock()
	defer s.msgMu.Unlock()
	if !s.writeWatch(ctx) {
		return s.ctxError(ctx.Err()) // it ended while this call waited
	}
	return s.writeError(ctx, s.writeFrames(frame.Opcode(typ), data))
}

// Ping sends a ping with payload (at most 125 bytes). The pong arrives
// through the reader (Options.OnPong).
func (s *Session) Ping(ctx context.Context, payload []byte) error {
	if err := ctx.Err(); err != nil {
		return s.ctxError(err)
	}
	defer s.watchWrite(ctx)()
	return s.writeError(ctx, s.c.WriteFrame(frame.OpPing, true, 0, payload))
}

// watchWrite makes a cancelled ctx interrupt one blocked write (Ping, which
// does not hold msgMu and so cannot use wwatch). A write interrupted half
// way fails the connection. If ctx ends just as the write completes, the
// deadline it set is cleared again: the writes that follow (the
// heartbeat's, pongs, the close frame) have no context to answer to.
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
			s.c.SetWriteDeadline(time.Time{})
		}
	}
}

// writeError turns an error from the connection into what a write
// returns: once the connection has ended, however and by whom, the
// session's *CloseError. A write that was under way when another goroutine
// (the heartbeat, CloseNow, the reader seeing the peer's close) closed the
// socket gets the socket's error; the ender recorded the result before it
// closed the socket, so this write returns that result, not the socket's
// words. Any other failure ends the session, with err as the cause.
func (s *Session) writeError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if cerr := s.closedErr(); cerr != nil {
		return cerr
	}
	if isTimeout(err) && ctx.Err() != nil {
		err = ctx.Err()
	}
	if errors.Is(err, conn.ErrCloseSent) {
		// Closing, not closed yet: how it is ending, if that is known
		// (the peer's close frame, an idle timeout), says more.
		return s.resultOr(err)
	}
	s.end(err, endAbort) // the first end's result stands
	return s.resultErr()
}

// ctxError is what a call whose context ended before it started returns:
// the context's error, unless the session has ended, which says more.
func (s *Session) ctxError(err error) error {
	if cerr := s.closedErr(); cerr != nil {
		return cerr
	}
	return err
}

// NextWriter returns a writer for a message of type typ, sent in frames of
// Options.FragmentSize as the writer fills; Close sends the last frame.
// Other messages wait until the writer is closed. Write only buffers until
// a frame is full, so after the session has ended it is the Write that
// sends a frame, and Close, that return the session's *CloseError; so
// does NextWriter itself.
func (s *Session) NextWriter(ctx context.Context, typ frame.Opcode) (io.WriteCloser, error) {
	if typ != frame.OpText && typ != frame.OpBinary {
		return nil, errMessageType
	}
	if err := ctx.Err(); err != nil {
		return nil, s.ctxError(err)
	}
	s.msgMu.Lock()
	if err := s.closedErr(); err != nil {
		// A stream allocates anyway; one atomic load more tells its
		// caller at once that nothing can be sent.
		s.msgMu.Unlock()
		return nil, err
	}
	if !s.writeWatch(ctx) {
		// Registered now, not at the first frame: the stream holds
		// msgMu from here on (see deadlineWatch).
		s.msgMu.Unlock()
		return nil, s.ctxError(ctx.Err())
	}
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
	if !w.s.writeWatch(w.ctx) {
		if w.op != frame.OpContinuation && w.enc == nil {
			return w.s.ctxError(w.ctx.Err()) // nothing sent yet
		}
		// Part of the message is out, or in the compressor's history:
		// it cannot be taken back.
		return w.s.writeError(w.ctx, w.ctx.Err())
	}
	payload := w.buf
	if w.enc != nil {
		w.zb.B = w.enc.Append(w.zb.B[:0], w.buf, fin)
		payload = w.zb.B
		w.buf = w.buf[:0]
		if len(payload) == 0 && !fin {
			return nil // nothing to send yet
		}
	}
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
