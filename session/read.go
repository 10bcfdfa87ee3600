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
	s.lockRead()
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
		dst = s.stash(dst, base)
		if s.readErr != nil {
			s.releaseReadMemory()
		}
		s.settle() // what grew dst is the caller's now
		return 0, dst, err
	}
	s.settle()
	return typ, dst, nil
}

// readable returns why a read may not start: the session has ended (its
// sticky error, or the connection closed by another goroutine) or a
// NextReader stream is open; and for a read that may
// wait for the socket (wait), that an event loop does this connection's
// reading (ErrEventLoop: only ServeReady reads it, never waiting) or that
// ctx is done. readMu is held.
func (s *Session) readable(ctx context.Context, wait bool) error {
	if s.readErr != nil {
		return s.readErr
	}
	if s.c.State() == conn.Closed {
		if err := s.closedErr(); err != nil {
			// Ended by another goroutine (CloseNow, the heartbeat) before
			// this reader met the end: what is still buffered is not
			// handed out.
			s.readErr = err
			s.c.ReleaseReadBuffer()
			return err
		}
	}
	if s.streamOn {
		return errStreamOpen
	}
	if !wait {
		return nil
	}
	if s.c.Evented() {
		// The loop's reader may have met the end; say how it ended.
		return s.ctxError(ErrEventLoop)
	}
	if err := ctx.Err(); err != nil {
		return s.ctxError(err)
	}
	return nil
}

// lockRead takes readMu for a reader. Readers rarely contend for it: one
// reads at a time, Close reads only when no reader runs, and the heartbeat
// reads control frames only for a connection that nobody reads
// (readControl), giving way as soon as a reader wants the lock: the slow
// path asks it to and interrupts its wait (takeFromHeartbeat).
func (s *Session) lockRead() {
	if !s.readMu.TryLock() {
		s.lockReadSlow()
	}
}

func (s *Session) lockReadSlow() {
	hb := s.hb
	if hb == nil || !hb.reads {
		s.readMu.Lock()
		return
	}
	s.takeFromHeartbeat()
}

// takeFromHeartbeat takes readMu, asking the heartbeat to give it back if
// it reads (readControl): counted in waiters, the heartbeat stops at its
// next check, and a wait it is in is interrupted.
func (s *Session) takeFromHeartbeat() {
	hb := s.hb
	hb.waiters.Add(1)
	if hb.holding.Load() {
		s.c.Interrupt()
	}
	s.readMu.Lock()
	hb.waiters.Add(-1)
}

// tryLockRead takes readMu unless a reader holds it, for Close, which reads
// only when no reader runs. The heartbeat reading for nobody is no reader:
// it gives way.
func (s *Session) tryLockRead() bool {
	if s.readMu.TryLock() {
		return true
	}
	if hb := s.hb; hb != nil && hb.reads && hb.holding.Load() {
		// If a reader takes the lock first after all, the read deadline
		// Close has set bounds the wait.
		s.takeFromHeartbeat()
		return true
	}
	return false
}

// readMessage reads the rest of a message whose first bytes, if any, are
// dst[base:], and appends it to dst. On an error after which reading may
// go on (a cancelled context, conn.ErrWouldBlock) dst keeps what arrived.
// readMu is held.
func (s *Session) readMessage(ctx context.Context, dst []byte, base int) (frame.Opcode, []byte, error) {
	for {
		if s.inflating {
			// Held back by the budget half way through inflating.
			return s.inflate(ctx, dst, base)
		}
		if !s.inFrame {
			if err := s.nextDataFrame(); err != nil {
				return 0, dst, s.readError(ctx, err)
			}
		}
		if s.comp != nil && s.comp.inMsg {
			// The compressed bytes wait in s.comp across cancelled reads.
			if err := s.readCompressed(ctx); err != nil {
				return 0, dst[:base], s.readError(ctx, err)
			}
			s.inFrame = false
			if !s.fin {
				continue
			}
			s.beginInflate()
			return s.inflate(ctx, dst, base)
		}
		for s.c.Remaining() > 0 {
			if len(dst) == cap(dst) {
				// Double, after the budget: by no more than the final
				// frame brings, nor past the message limit; a message
				// in small fragments does not regrow at every one.
				grow := s.growth(dst, base)
				if err := s.reserve(ctx, cap(dst), cap(dst)+grow); err != nil {
					return 0, dst, s.readError(ctx, err)
				}
				dst = s.grow(dst, grow)
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

// growth is how much dst, full, grows by for the message at dst[base:]
// whose frame is being read: its size (at least 512), but no more than the
// rest of the frame if it is the message's last, nor than the message
// limit leaves. readMu is held.
func (s *Session) growth(dst []byte, base int) int {
	grow := int64(max(512, cap(dst)))
	if s.fin {
		grow = min(grow, s.c.Remaining())
	}
	if lim := s.c.MaxMessageSize(); lim > 0 {
		grow = min(grow, max(s.c.Remaining(), lim-int64(len(dst)-base)))
	}
	return int(grow)
}

// grow returns dst with room for n more bytes, its capacity exactly that
// (a budget is charged for it), the bytes kept; the old array, if big, was
// counted as junk by reserve.
func (s *Session) grow(dst []byte, n int) []byte {
	b := make([]byte, len(dst), cap(dst)+n)
	copy(b, dst)
	return b
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
			s.starved = 0 // the budget's wait is per message
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
		// The read side is over: its buffers go back to the pool now,
		// not to the garbage collector with the connection.
		s.c.ReleaseReadBuffer()
		s.releaseReadMemory()
	}
	return err
}

// classifyReadError is readError without the release.
func (s *Session) classifyReadError(ctx context.Context, err error) error {
	if err == conn.ErrWouldBlock && s.readErr == nil {
		return err // an event loop calls ServeReady again when bytes arrive
	}
	if err == errStarved || err == ctx.Err() {
		// The budget held the read back (reserve): nothing is wrong
		// with the connection, and the read goes on later.
		return err
	}
	if ce, ok := err.(*CloseError); ok && ce.Err == nil && s.readErr == nil {
		// The peer's close frame, the usual end: no cause to unwrap, so
		// no need for the errors.As walks below. The session's result
		// is ce, unless it had ended otherwise first (an idle timeout's
		// close, answered by the peer).
		s.readErr = s.resultOr(ce)
		return s.readErr
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
		s.readErr = s.resultOr(ce)
		return s.readErr
	}
	// The connection dropped without a close handshake. A peer that
	// ended its stream (io.EOF: it sent FIN, having half-closed or
	// closed) may still be reading: close after what was written, with
	// FIN, as it did. Anything else (a reset, a read error) aborts:
	// nothing more is owed to that peer, and it may not be reading.
	s.end(err, abortUnless(errors.Is(err, io.EOF)))
	s.readErr = s.result
	return s.readErr
}

// resultOr returns the session's result, or err while it has none.
func (s *Session) resultOr(err error) error {
	if r := s.resultErr(); r != nil {
		return r
	}
	return err
}

// NextReader returns the type of the next message and a reader for its
// payload, for messages too large to hold in memory. The reader must be read
// to io.EOF (or the session closed) before the next read call. Control
// frames are handled while it is read.
func (s *Session) NextReader(ctx context.Context) (frame.Opcode, io.Reader, error) {
	s.lockRead()
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
	s.lockRead()
	defer s.readMu.Unlock()
	if r.eof {
		return 0, io.EOF
	}
	if s.readErr != nil {
		return 0, s.readErr
	}
	if !s.readWatch(r.ctx) {
		return 0, r.ctx.Err()
	}
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
