package session

import (
	"context"
	"errors"
	"io"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/bufpool"
)

// ReadMessage reads the next whole message into a new slice.
func (s *Session) ReadMessage(ctx context.Context) (frame.Opcode, []byte, error) {
	return s.AppendMessage(ctx, nil)
}

// AppendMessage reads the next whole message and appends it to dst. With a
// dst that has room, reading does not allocate.
func (s *Session) AppendMessage(ctx context.Context, dst []byte) (frame.Opcode, []byte, error) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if err := s.readable(ctx, true); err != nil {
		return 0, dst, err
	}
	s.readWatch(ctx)
	base := len(dst)
	if s.partial != nil {
		dst = append(dst, s.partial.B...)
		bufpool.Put(s.partial)
		s.partial = nil
	}
	typ, dst, err := s.readMessage(ctx, dst, base)
	if err != nil {
		return 0, s.stash(dst, base), err
	}
	return typ, dst, nil
}

// readable returns why a read may not start: the session has ended (its
// sticky error) or a NextReader stream is open; and for a read that may
// wait for the socket (wait), that an event loop does this connection's
// reading (ErrEventLoop: only ServeReady reads it, never waiting) or that
// ctx is done. readMu is held.
func (s *Session) readable(ctx context.Context, wait bool) error {
	if s.readErr != nil {
		return s.readErr
	}
	if s.streamOn {
		return errStreamOpen
	}
	if !wait {
		return nil
	}
	if s.c.Evented() {
		return ErrEventLoop
	}
	return ctx.Err()
}

// readMessage reads the rest of a message whose first bytes, if any, are
// dst[base:], and appends it to dst. On an error after which reading may
// go on (a cancelled context, conn.ErrWouldBlock) dst keeps what arrived.
// readMu is held.
func (s *Session) readMessage(ctx context.Context, dst []byte, base int) (frame.Opcode, []byte, error) {
	for {
		if !s.inFrame {
			if err := s.nextDataFrame(); err != nil {
				return 0, dst, s.readError(ctx, err)
			}
		}
		if s.comp != nil && s.comp.inMsg {
			// The compressed bytes wait in s.comp across cancelled reads.
			if err := s.readCompressed(); err != nil {
				return 0, dst[:base], s.readError(ctx, err)
			}
			s.inFrame = false
			if !s.fin {
				continue
			}
			dst, err := s.inflate(dst, base)
			if err != nil {
				return 0, dst, err
			}
			return s.msgType, dst, nil
		}
		for s.c.Remaining() > 0 {
			if len(dst) == cap(dst) {
				grow := int(min(s.c.Remaining(), int64(max(512, cap(dst)))))
				dst = append(dst, make([]byte, grow)...)[:len(dst)]
			}
			n, err := s.c.Read(dst[len(dst):cap(dst)])
			chunk := dst[len(dst) : len(dst)+n]
			dst = dst[:len(dst)+n]
			if s.msgType == frame.OpText && !s.utf8.Write(chunk) {
				return 0, dst[:base], s.fail(frame.StatusInvalidFramePayloadData, "invalid UTF-8 in text message")
			}
			if err != nil && err != io.EOF {
				return 0, dst, s.readError(ctx, err)
			}
		}
		s.inFrame = false
		if s.fin {
			if s.msgType == frame.OpText && !s.utf8.Complete() {
				return 0, dst[:base], s.fail(frame.StatusInvalidFramePayloadData, "text message ends inside a UTF-8 sequence")
			}
			return s.msgType, dst, nil
		}
	}
}

// stash keeps the bytes of a message that a cancelled read had collected,
// for the next read to continue with, unless the session ended.
func (s *Session) stash(dst []byte, base int) []byte {
	if s.readErr == nil && len(dst) > base {
		s.partial = bufpool.Get(len(dst) - base)
		s.partial.B = append(s.partial.B, dst[base:]...)
	}
	return dst[:base]
}

// nextDataFrame reads frame headers, handling control frames, until the
// header of a data frame arrives; then it sets up the read state for it.
func (s *Session) nextDataFrame() error {
	for {
		h, err := s.c.NextFrame()
		if err != nil {
			return err
		}
		if h.Opcode.IsControl() {
			if err := s.control(h); err != nil {
				return err
			}
			continue
		}
		if h.Opcode != frame.OpContinuation {
			// The decoder has checked that no message was in progress,
			// and that RSV1 is set only when compression was agreed.
			s.msgType = frame.Opcode(h.Opcode)
			s.utf8.Reset()
			if s.comp != nil {
				s.comp.inMsg = h.Rsv&frame.Rsv1 != 0
			}
		}
		s.inFrame = true
		s.fin = h.Fin
		return nil
	}
}

// control handles a control frame whose header was just read.
func (s *Session) control(h frame.Header) error {
	// Control frames are rare: their payload goes to a pooled buffer rather
	// than one that every session carries.
	b := bufpool.Get(frame.MaxControlPayload)
	defer bufpool.Put(b)
	p, err := s.c.ReadPayload(b.B[:0])
	if err != nil {
		return err
	}
	switch h.Opcode {
	case frame.OpPing:
		if f := s.opts.OnPing; f != nil {
			f(s, p)
		}
		// After our close frame no pong may follow; the error is moot. A
		// peer that does not read its pongs gets no more (AnswerPing).
		if err := s.c.AnswerPing(p); err != nil && !errors.Is(err, conn.ErrCloseSent) {
			return err
		}
	case frame.OpPong:
		s.gotPong(p)
		if f := s.opts.OnPong; f != nil {
			f(s, p)
		}
	case frame.OpClose:
		return s.gotClose(p)
	}
	return nil
}

// readError turns an error from the connection into what the reader
// returns, ending the session unless the error is a cancelled context's.
func (s *Session) readError(ctx context.Context, err error) error {
	err = s.classifyReadError(ctx, err)
	if s.readErr != nil {
		// The read side is over: its buffer goes back to the pool now,
		// not to the garbage collector with the connection.
		s.c.ReleaseReadBuffer()
	}
	return err
}

// classifyReadError is readError without the release.
func (s *Session) classifyReadError(ctx context.Context, err error) error {
	if err == conn.ErrWouldBlock && s.readErr == nil {
		return err // an event loop calls ServeReady again when bytes arrive
	}
	if ce, ok := err.(*CloseError); ok && ce.Err == nil && s.readErr == nil {
		// The peer's close frame, the usual end: no cause to unwrap, so
		// no need for the errors.As walks below.
		s.readErr = ce
		return ce
	}
	if isTimeout(err) && s.readErr == nil {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
	}
	if s.readErr != nil {
		return s.readErr
	}
	var pe *frame.ProtocolError
	if errors.As(err, &pe) {
		return s.fail(pe.Code, pe.Reason)
	}
	var ce *CloseError
	if errors.As(err, &ce) {
		s.readErr = ce
		return ce
	}
	// The connection dropped without a close handshake. A peer that
	// ended its stream (io.EOF: it sent FIN, having half-closed or
	// closed) may still be reading: close after what was written, with
	// FIN, as it did. Anything else (a reset, a read error) aborts:
	// nothing more is owed to that peer, and it may not be reading.
	s.end(err, !errors.Is(err, io.EOF))
	s.readErr = s.result
	return s.readErr
}

// NextReader returns the type of the next message and a reader for its
// payload, for messages too large to hold in memory. The reader must be read
// to io.EOF (or the session closed) before the next read call. Control
// frames are handled while it is read.
func (s *Session) NextReader(ctx context.Context) (frame.Opcode, io.Reader, error) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if s.readErr != nil {
		return 0, nil, s.readErr
	}
	if s.streamOn || s.inFrame || s.partial != nil {
		return 0, nil, errors.New("websocket: NextReader while a message is being read")
	}
	if err := s.readable(ctx, true); err != nil {
		return 0, nil, err
	}
	s.readWatch(ctx)
	err := s.nextDataFrame()
	if err != nil {
		return 0, nil, s.readError(ctx, err)
	}
	s.streamOn = true
	if z := s.comp; z != nil && z.inMsg {
		z.out = 0
		s.decompressor().Start(&z.src)
	}
	return s.msgType, &messageReader{s: s, ctx: ctx}, nil
}

type messageReader struct {
	s   *Session
	ctx context.Context
	eof bool
}

func (r *messageReader) Read(p []byte) (int, error) {
	s := r.s
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if r.eof {
		return 0, io.EOF
	}
	if s.readErr != nil {
		return 0, s.readErr
	}
	s.readWatch(r.ctx)
	if s.comp != nil && s.comp.inMsg {
		return s.readStream(r, p)
	}
	for {
		if s.c.Remaining() > 0 {
			n, err := s.c.Read(p)
			if s.msgType == frame.OpText && !s.utf8.Write(p[:n]) {
				return 0, s.fail(frame.StatusInvalidFramePayloadData, "invalid UTF-8 in text message")
			}
			if err != nil && err != io.EOF {
				return n, s.readError(r.ctx, err)
			}
			if n > 0 || len(p) == 0 {
				return n, nil
			}
		}
		s.inFrame = false
		if s.fin {
			if s.msgType == frame.OpText && !s.utf8.Complete() {
				return 0, s.fail(frame.StatusInvalidFramePayloadData, "text message ends inside a UTF-8 sequence")
			}
			r.eof = true
			s.streamOn = false
			return 0, io.EOF
		}
		if err := s.nextDataFrame(); err != nil {
			return 0, s.readError(r.ctx, err)
		}
	}
}
