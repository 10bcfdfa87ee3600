package session

import (
	"context"
	"errors"
	"io"
	"math"
	"sync/atomic"

	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/bufpool"
	"github.com/rfc6455/websocket/internal/defaults"
	"github.com/rfc6455/websocket/internal/deflate"
)

// Compression is the permessage-deflate agreement (RFC 7692) of a session,
// which the opening handshake reached; the handshake code fills it in. The
// connection must allow RSV1 (conn.Config.AllowedRsv).
type Compression struct {
	// Level is the compression level, 1 (fastest, the default) to 9
	// (smallest output).
	Level int

	// Threshold is the size under which messages are sent uncompressed.
	// Default 128 bytes; negative compresses every message.
	Threshold int

	// WriteWindowBits is the window (8..15; 0 means 15) our compressor may
	// refer back in; WriteNoContextTakeover makes it compress each message
	// on its own. With context takeover the compressor keeps its history
	// between messages (about 2^WriteWindowBits x 3 bytes); without, it is
	// borrowed from a pool for each message.
	WriteWindowBits        int
	WriteNoContextTakeover bool

	// ReadWindowBits and ReadNoContextTakeover are the peer's: with
	// context takeover the last 2^ReadWindowBits bytes of its messages are
	// kept between messages.
	ReadWindowBits        int
	ReadNoContextTakeover bool
}

func windowBits(n int) int {
	if n < 8 || n > 15 {
		return 15
	}
	return n
}

// compression is a session's permessage-deflate state.
type compression struct {
	level     int
	threshold int
	wbits     int
	wTakeover bool
	off       atomic.Bool // SetCompression(false)

	// Write side, under msgMu: the compressor kept for context takeover.
	enc *deflate.Compressor

	// Read side, under readMu.
	dec    *deflate.Decompressor
	inMsg  bool            // the message being read is compressed
	zin    *bufpool.Buffer // its compressed bytes so far (AppendMessage)
	src    rawMessage      // its compressed bytes as a stream (NextReader)
	out    int64           // bytes inflated so far by the stream
	rbits  int
	rTakes bool
}

func newCompression(c *Compression) *compression {
	z := &compression{
		level:     c.Level,
		threshold: c.Threshold,
		wbits:     windowBits(c.WriteWindowBits),
		wTakeover: !c.WriteNoContextTakeover,
		// A zlib compressor told to use 8 bits uses 9 (zlib cannot do 8),
		// so a 256-byte dictionary would be too short for real peers.
		rbits:  max(windowBits(c.ReadWindowBits), 9),
		rTakes: !c.ReadNoContextTakeover,
	}
	if z.level < 1 || z.level > 9 {
		z.level = defaults.CompressionLevel
	}
	if z.threshold == 0 {
		z.threshold = defaults.CompressionThreshold
	}
	return z
}

// SetCompression turns compression of the messages written after it on
// or off; it is the per-message opt-out (for data known to be
// incompressible, say). It has no effect unless the opening handshake
// negotiated permessage-deflate. Compression is on by default.
func (s *Session) SetCompression(enabled bool) {
	if s.comp != nil {
		s.comp.off.Store(!enabled)
	}
}

// Compressed reports whether the opening handshake negotiated
// permessage-deflate for this session.
func (s *Session) Compressed() bool { return s.comp != nil }

// compresses reports whether a message of n bytes is to be compressed.
func (s *Session) compresses(n int) bool {
	z := s.comp
	return z != nil && !z.off.Load() && n >= z.threshold
}

// compressor returns the compressor for one message: the session's own
// with context takeover, a pooled one otherwise (give it back with
// releaseCompressor). msgMu is held.
func (s *Session) compressor() *deflate.Compressor {
	z := s.comp
	if !z.wTakeover {
		return deflate.GetCompressor(z.level, z.wbits)
	}
	if z.enc == nil {
		z.enc = deflate.NewCompressor(z.level, z.wbits, true)
	}
	return z.enc
}

func (s *Session) releaseCompressor(enc *deflate.Compressor) {
	if enc != s.comp.enc {
		deflate.PutCompressor(enc)
	}
}

// writeFrames sends data as one message of opcode op, compressed when the
// session compresses messages of its size, in frames of at most
// FragmentSize. msgMu is held.
func (s *Session) writeFrames(op frame.Opcode, data []byte) error {
	var rsv uint8
	if s.compresses(len(data)) {
		enc := s.compressor()
		zb := bufpool.Get(len(data)/2 + 64)
		data = enc.Append(zb.B[:0], data, true)
		s.releaseCompressor(enc)
		defer func() {
			zb.B = data[:0]
			bufpool.Put(zb)
		}()
		rsv = frame.Rsv1
	}
	for {
		n := min(len(data), s.opts.FragmentSize)
		fin := n == len(data)
		if err := s.c.WriteFrame(op, fin, rsv, data[:n]); err != nil {
			return err
		}
		if fin {
			return nil
		}
		data = data[n:]
		op, rsv = frame.OpContinuation, 0
	}
}

// decompressor returns the session's decompressor, made on first use.
func (s *Session) decompressor() *deflate.Decompressor {
	z := s.comp
	if z.dec == nil {
		z.dec = deflate.NewDecompressor(z.rbits, z.rTakes)
	}
	return z.dec
}

// readLimit is the largest message, after decompression, the session
// accepts: the connection's limit on messages; -1 for none.
func (s *Session) readLimit() int64 {
	if n := s.c.MaxMessageSize(); n > 0 {
		return n
	}
	return -1
}

// readCompressed collects the current frame's payload: compressed bytes,
// inflated once the message is whole. Their count is bounded by the
// connection's message limit, and each growth of their buffer by the
// budget. readMu is held.
func (s *Session) readCompressed(ctx context.Context) error {
	z := s.comp
	for s.c.Remaining() > 0 {
		if z.zin == nil {
			size := int(min(s.c.Remaining(), 64<<10))
			if err := s.reserve(ctx, 0, bufpool.Cap(size)); err != nil {
				return err
			}
			z.zin = bufpool.Get(size)
		}
		b := z.zin.B
		if len(b) == cap(b) {
			size := len(b) + int(min(s.c.Remaining(), int64(max(len(b), 4096))))
			if err := s.reserve(ctx, cap(b), bufpool.Cap(size)); err != nil {
				return err
			}
			bigger := bufpool.Get(size)
			bigger.B = append(bigger.B, b...)
			bufpool.Put(z.zin) // its charge, if big, went to junk in reserve
			z.zin, b = bigger, bigger.B
		}
		n, err := s.c.Read(b[len(b):cap(b)])
		z.zin.B = b[:len(b)+n]
		if err != nil && err != io.EOF {
			return err
		}
	}
	return nil
}

// beginInflate starts inflating the compressed message whose bytes
// readCompressed collected. readMu is held.
func (s *Session) beginInflate() {
	var in []byte
	if z := s.comp; z.zin != nil {
		in = z.zin.B
	}
	s.decompressor().Begin(in)
	s.inflating = true
}

// inflate inflates the message begun with beginInflate, appending it to
// dst (whose message starts at base), and checks it; on failure the
// session fails with 1009 or 1007. The output grows piece by piece, each
// growth reserved against the budget before it is made, so a compression
// bomb costs the budget what has been inflated of it, and at most the
// message limit, never "inflate up to the limit, then check". A read the
// budget holds back (errStarved, a cancelled wait) keeps what was inflated
// in dst, and the next call goes on from there. readMu is held.
func (s *Session) inflate(ctx context.Context, dst []byte, base int) (frame.Opcode, []byte, error) {
	d := s.comp.dec
	// Room for one byte past the limit tells that the limit is passed.
	stop := int64(math.MaxInt64)
	if lim := s.readLimit(); lim >= 0 && lim < math.MaxInt64 {
		stop = lim + 1
	}
	for {
		if len(dst) == cap(dst) {
			grow := int(min(int64(max(len(dst)-base, 512)), stop-int64(len(dst)-base)))
			if err := s.reserve(ctx, cap(dst), cap(dst)+grow); err != nil {
				if s.readErr != nil {
					s.endInflate()
					return 0, dst[:base], s.readError(ctx, err)
				}
				return 0, dst, err
			}
			dst = s.grow(dst, grow)
		}
		room := int(min(int64(cap(dst)-len(dst)), stop-int64(len(dst)-base)))
		out, done, err := d.Fill(dst[: len(dst) : len(dst)+room])
		dst = dst[:len(out)]
		if err == nil && int64(len(dst)-base) >= stop {
			d.End()
			err = deflate.ErrTooLarge
		}
		if err != nil {
			s.endInflate()
			return 0, dst[:base], s.inflateError(err)
		}
		if done {
			break
		}
	}
	s.endInflate()
	if s.msgType == frame.OpText && (!s.utf8.Write(dst[base:]) || !s.utf8.Complete()) {
		return 0, dst[:base], s.fail(frame.StatusInvalidFramePayloadData, "invalid UTF-8 in text message")
	}
	return s.msgType, dst, nil
}

// endInflate ends the inflation of a message: its compressed bytes go
// back to the pool, and what the budget charged for them. readMu is held.
func (s *Session) endInflate() {
	z := s.comp
	if z.zin != nil {
		c := min(cost(cap(z.zin.B)), s.charged)
		if !s.toCollector(z.zin, c) {
			bufpool.Put(z.zin)
			if c > 0 {
				s.charged -= c
				s.opts.Budget.release(c)
			}
		}
		z.zin = nil
	}
	z.inMsg = false
	s.inflating = false
}

func (s *Session) inflateError(err error) error {
	if errors.Is(err, deflate.ErrTooLarge) {
		return s.fail(frame.StatusMessageTooBig, "message too big once decompressed")
	}
	return s.fail(frame.StatusInvalidFramePayloadData, "invalid compressed data")
}

// rawMessage reads the compressed payload of the current message across
// its frames, handling control frames between them, for a streaming
// decompressor. It is used under readMu.
type rawMessage struct {
	s   *Session
	err error // the connection's error, which the stream reports as its own
}

func (r *rawMessage) Read(p []byte) (int, error) {
	s := r.s
	for {
		if s.c.Remaining() > 0 {
			n, err := s.c.Read(p)
			if err != nil && err != io.EOF {
				r.err = err
				return n, err
			}
			if n > 0 || len(p) == 0 {
				return n, nil
			}
		}
		s.inFrame = false
		if s.fin {
			return 0, io.EOF
		}
		if err := s.nextDataFrame(); err != nil {
			r.err = err
			return 0, err
		}
	}
}

// readStream reads inflated bytes of a compressed message being streamed
// by NextReader, checking the limit and UTF-8. It reports io.EOF at the
// message's end.
func (s *Session) readStream(r *messageReader, p []byte) (int, error) {
	z := s.comp
	n, err := z.dec.Read(p)
	z.out += int64(n)
	if lim := s.readLimit(); lim >= 0 && z.out > lim {
		z.dec.End()
		return 0, s.inflateError(deflate.ErrTooLarge)
	}
	if s.msgType == frame.OpText && !s.utf8.Write(p[:n]) {
		z.dec.End()
		return 0, s.fail(frame.StatusInvalidFramePayloadData, "invalid UTF-8 in text message")
	}
	switch {
	case err == nil:
		return n, nil
	case err == io.EOF:
		z.inMsg = false
		if s.msgType == frame.OpText && !s.utf8.Complete() {
			return 0, s.fail(frame.StatusInvalidFramePayloadData, "text message ends inside a UTF-8 sequence")
		}
		r.eof = true
		s.streamOn = false
		return n, io.EOF
	case z.src.err != nil:
		err, z.src.err = z.src.err, nil
		rerr := s.readError(r.ctx, err)
		if s.readErr == nil {
			// A cancelled read: the inflater cannot resume mid-stream.
			s.end(rerr, endAbort)
			s.readErr = s.result
		}
		return n, rerr
	}
	return n, s.inflateError(err)
}
