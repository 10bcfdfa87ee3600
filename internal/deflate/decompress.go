package deflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"unsafe"
)

// tail is appended to every message before inflating it: the four bytes
// RFC 7692 §7.2.2 puts back (completing the sender's empty stored block),
// then an empty stored block with BFINAL set, so that compress/flate
// reports io.EOF at the message's end instead of io.ErrUnexpectedEOF.
//
// An empty payload gets only the final block: 00 00 ff ff alone is not
// valid DEFLATE, but zlib-based peers read it as an empty message (their
// inflate just waits for more), and so does this package.
var tail = [...]byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

const emptyTail = 4 // where the final block starts in tail

// ring keeps the last len(buf) bytes written to it.
type ring struct {
	buf []byte
	pos int // where the next byte goes
	n   int // bytes held, up to len(buf)
}

func (r *ring) reset(buf []byte) { *r = ring{buf: buf} }

func (r *ring) write(p []byte) {
	size := len(r.buf)
	if size == 0 {
		return
	}
	if len(p) >= size {
		copy(r.buf, p[len(p)-size:])
		r.pos, r.n = 0, size
		return
	}
	k := copy(r.buf[r.pos:], p)
	copy(r.buf, p[k:])
	r.pos = (r.pos + len(p)) % size
	r.n = min(r.n+len(p), size)
}

// bytes returns what the ring holds, oldest first: a part of buf, or of
// scratch (at least as long as buf) if it wrapped, or, with no scratch,
// buf rotated in place.
func (r *ring) bytes(scratch []byte) []byte {
	if r.n < len(r.buf) {
		return r.buf[:r.n] // never wrapped: pos == n
	}
	if r.pos == 0 {
		return r.buf
	}
	if scratch != nil {
		k := copy(scratch, r.buf[r.pos:])
		copy(scratch[k:], r.buf[:r.pos])
		return scratch[:len(r.buf)]
	}
	// Rotate left by pos with three reversals.
	slices.Reverse(r.buf[:r.pos])
	slices.Reverse(r.buf[r.pos:])
	slices.Reverse(r.buf)
	r.pos = 0
	return r.buf
}

// source feeds one message to compress/flate: the message's bytes (given
// whole, or read from an io.Reader), then tail. It implements
// io.ByteReader, so that flate reads no further than it needs and does not
// wrap it in a bufio.Reader of its own.
type source struct {
	buf  []byte        // bytes ready to hand out: the message, or a chunk read from r
	i    int           // next byte of buf
	r    io.Reader     // the rest of the message, nil once it reported io.EOF
	br   io.ByteReader // r, if it is an io.ByteReader
	mem  []byte        // buffer for r when it is not an io.ByteReader
	tail int           // bytes of tail handed out
	err  error         // an error of r other than io.EOF
	done int64         // message bytes handed out before buf
}

// used returns the number of message bytes handed out.
func (s *source) used() int64 { return s.done + int64(s.i) }

// ReadByte is what flate calls for nearly every input byte, so the common
// case comes first and alone.
func (s *source) ReadByte() (byte, error) {
	if s.i < len(s.buf) {
		b := s.buf[s.i]
		s.i++
		return b, nil
	}
	return s.readByteSlow()
}

func (s *source) readByteSlow() (byte, error) {
	if s.r != nil {
		if s.br != nil {
			b, err := s.br.ReadByte()
			if err == nil {
				s.done++
				return b, nil
			}
			s.stop(err)
		} else {
			s.done += int64(s.i)
			n, err := s.fill(s.mem)
			s.buf, s.i = s.mem[:n], 0
			if n > 0 {
				s.i = 1
				return s.buf[0], nil
			}
			if err != nil {
				return 0, err
			}
		}
	}
	if s.err != nil {
		return 0, s.err
	}
	if s.tail == 0 && s.used() == 0 {
		s.tail = emptyTail
	}
	if s.tail < len(tail) {
		b := tail[s.tail]
		s.tail++
		return b, nil
	}
	return 0, io.EOF
}

func (s *source) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if s.i < len(s.buf) {
		n := copy(p, s.buf[s.i:])
		s.i += n
		return n, nil
	}
	if s.r != nil {
		n, err := s.fill(p)
		s.done += int64(n)
		if n > 0 || err != nil {
			return n, err
		}
	}
	if s.err != nil {
		return 0, s.err
	}
	if s.tail == 0 && s.used() == 0 {
		s.tail = emptyTail
	}
	if s.tail < len(tail) {
		n := copy(p, tail[s.tail:])
		s.tail += n
		return n, nil
	}
	return 0, io.EOF
}

// fill reads from r into p. It returns an error only for a failure of r,
// after which the source is done; io.EOF just moves on to the tail.
func (s *source) fill(p []byte) (int, error) {
	for range 100 {
		n, err := s.r.Read(p)
		if err != nil {
			s.stop(err)
		}
		if n > 0 || s.r == nil {
			return n, s.err
		}
	}
	s.stop(io.ErrNoProgress)
	return 0, s.err
}

func (s *source) stop(err error) {
	if err != io.EOF {
		s.err = err
	}
	s.r, s.br = nil, nil
}

// inflater is what a message borrows for its length: a flate reader (its
// 32 KiB window and tables), room for history (the message's own when the
// Decompressor keeps none, or the dictionary put in order), and a read
// buffer for sources that are not io.ByteReaders.
type inflater struct {
	fr   io.Reader
	rs   flate.Resetter
	hist [1 << MaxWindowBits]byte
	mem  [4 << 10]byte
}

// emptySource replaces a message's source in a pooled flate reader.
var emptySource = source{tail: len(tail)}

var inflaters = sync.Pool{New: func() any {
	fr := flate.NewReader(bytes.NewReader(nil))
	return &inflater{fr: fr, rs: fr.(flate.Resetter)}
}}

// Decompressor inflates the messages of one direction of one connection.
// With context takeover it keeps the last 2^windowBits bytes of output as
// the dictionary of the next message; the flate reader itself is borrowed
// from a pool for the length of one message.
//
// After an error the history is lost: with context takeover, the
// connection must be failed (later messages would refer to it).
//
// A Decompressor is not safe for concurrent use.
type Decompressor struct {
	wsize    int
	takeover bool
	dict     []byte // the memory of hist with takeover

	// hist is the history of the stream: with takeover it lives in dict
	// and outlasts messages, without it it borrows the inflater's memory.
	hist ring
	src  source
	inf  *inflater // during a message
	mark int       // Append: output up to dst[mark] is in hist
	pend int       // Fill: output at the end of dst not yet in hist
	err  error     // Read: the error that ended the message
	used int64     // compressed bytes the last message consumed
}

// NewDecompressor returns a Decompressor for messages compressed with a
// window of 2^windowBits bytes (8..15; the window the peer was told to
// use), with or without context takeover. Invalid arguments panic.
func NewDecompressor(windowBits int, takeover bool) *Decompressor {
	checkWindowBits(windowBits)
	d := &Decompressor{wsize: 1 << windowBits, takeover: takeover}
	if takeover {
		d.dict = make([]byte, d.wsize)
		d.hist.reset(d.dict)
	}
	return d
}

// Size returns the number of bytes the Decompressor holds between
// messages: the dictionary with context takeover, and its own fields.
func (d *Decompressor) Size() int {
	return int(unsafe.Sizeof(*d)) + cap(d.dict)
}

// begin borrows an inflater and starts the stream of a message whose
// source is set.
func (d *Decompressor) begin() {
	d.inf = inflaters.Get().(*inflater)
	if !d.takeover {
		d.hist.reset(d.inf.hist[:d.wsize])
	}
	d.err = nil
	d.inf.rs.Reset(&d.src, d.dictionary())
}

// dictionary returns the history for a new stream. compress/flate copies
// it, so with takeover the inflater's own history buffer, unused then,
// can hold it in order.
func (d *Decompressor) dictionary() []byte {
	if d.takeover {
		return d.hist.bytes(d.inf.hist[:])
	}
	return d.hist.bytes(nil)
}

// End ends the message being read, if any, and gives back what it
// borrowed. Read calls it when the message ends or fails.
func (d *Decompressor) End() {
	if d.inf == nil {
		return
	}
	if !d.takeover {
		d.hist = ring{}
	}
	d.inf.rs.Reset(&emptySource, nil) // drop the reference to the source
	inflaters.Put(d.inf)
	d.inf = nil
	d.used = d.src.used()
	d.src = source{}
}

// more reports whether compress/flate stopped at a block with BFINAL set
// that the message itself contained (RFC 7692 §7.2.3.4 allows one) rather
// than at the final block of tail: then the rest of the message is a new
// stream, which may refer to the output so far.
func (d *Decompressor) more() bool { return d.src.tail != len(tail) }

// restart starts that new stream with the history as its dictionary.
func (d *Decompressor) restart() { d.inf.rs.Reset(&d.src, d.dictionary()) }

// fail ends the message and turns a flate error into the one to report.
func (d *Decompressor) fail(err error) error {
	if d.src.err != nil {
		err = d.src.err // the source's own failure, such as a network error
	} else {
		err = fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	d.abort()
	return err
}

// abort ends a message that failed. The history no longer matches the
// peer's, so it is forgotten.
func (d *Decompressor) abort() {
	d.hist.reset(d.dict)
	d.End()
}

// Append inflates one whole message, msg being its payload without the
// 00 00 ff ff tail, and appends the output to dst. If the output would
// exceed limit bytes (limit < 0: no limit) it stops as soon as the limit
// is passed, without inflating the rest, and returns ErrTooLarge. Invalid
// data returns an error wrapping ErrCorrupt. On error dst is returned with
// its original length.
//
// Append allocates only to grow dst.
func (d *Decompressor) Append(dst, msg []byte, limit int64) ([]byte, error) {
	d.End()
	d.src = source{buf: msg}
	d.begin()
	start := len(dst)
	d.mark = start
	// Reading one byte more than allowed tells that the limit is passed.
	stop := int64(math.MaxInt64)
	if limit >= 0 && limit < math.MaxInt64 {
		stop = limit + 1
	}
	for {
		if len(dst) == cap(dst) {
			grow := max(len(dst)-start, 512)
			if rest := stop - int64(len(dst)-start); int64(grow) > rest {
				grow = int(rest)
			}
			dst = slices.Grow(dst, grow)
		}
		room := dst[len(dst):cap(dst)]
		if rest := stop - int64(len(dst)-start); int64(len(room)) > rest {
			room = room[:rest]
		}
		n, err := d.inf.fr.Read(room)
		dst = dst[:len(dst)+n]
		if limit >= 0 && int64(len(dst)-start) > limit {
			d.abort()
			return dst[:start], ErrTooLarge
		}
		if err == io.EOF {
			more := d.more()
			if more || d.takeover {
				d.hist.write(dst[d.mark:])
				d.mark = len(dst)
			}
			if more {
				d.restart()
				continue
			}
			d.End()
			return dst, nil
		}
		if err != nil {
			return dst[:start], d.fail(err)
		}
	}
}

// Begin starts inflating one whole message, msg being its payload without
// the 00 00 ff ff tail, piece by piece: each Fill inflates as much as the
// room it is given, so that the caller decides, between two pieces, how
// much memory the output may take (a budget shared with other connections,
// say) and may stop to wait for it. msg must stay as it is until the
// message ends. A message in progress is ended first.
func (d *Decompressor) Begin(msg []byte) {
	d.End()
	d.src = source{buf: msg}
	d.begin()
	d.pend = 0
}

// Fill inflates the message begun with Begin into dst[len(dst):cap(dst)],
// never growing dst, and returns dst extended by what it wrote and whether
// the message is complete. A full dst returns with done false even if the
// message ended exactly there: the next Fill, given room, says so. Between
// calls the caller may move the output to a larger buffer, but dst must end
// with everything Fill produced since Begin, as Fill left it (with context
// takeover the history is taken from there at the message's end). Invalid
// data returns an error wrapping ErrCorrupt and ends the message.
//
// Fill does not allocate.
func (d *Decompressor) Fill(dst []byte) ([]byte, bool, error) {
	for len(dst) < cap(dst) {
		if d.inf == nil {
			return dst, true, nil
		}
		n, err := d.inf.fr.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		d.pend += n
		if err == io.EOF {
			more := d.more()
			if more || d.takeover {
				d.hist.write(dst[len(dst)-d.pend:])
				d.pend = 0
			}
			if more {
				d.restart()
				continue
			}
			d.End()
			return dst, true, nil
		}
		if err != nil {
			return dst, false, d.fail(err)
		}
	}
	return dst, d.inf == nil, nil
}

// Start begins a message whose payload, without the 00 00 ff ff tail, is
// read from src until src reports io.EOF. Read then returns the inflated
// bytes. A message in progress is ended first.
func (d *Decompressor) Start(src io.Reader) {
	d.End()
	d.src = source{r: src}
	d.src.br, _ = src.(io.ByteReader)
	d.begin()
	if d.src.br == nil {
		d.src.mem = d.inf.mem[:]
	}
}

// Read reads inflated bytes of the message begun with Start. It returns
// io.EOF at the message's end, an error wrapping ErrCorrupt for invalid
// data, or src's own error; either way the message is then ended.
func (d *Decompressor) Read(p []byte) (int, error) {
	for {
		if d.inf == nil {
			if d.err != nil {
				return 0, d.err
			}
			return 0, io.EOF
		}
		n, err := d.inf.fr.Read(p)
		d.hist.write(p[:n])
		if err == io.EOF {
			if d.more() {
				d.restart()
				if n > 0 {
					return n, nil
				}
				continue
			}
			d.End()
			d.err = nil
			return n, io.EOF
		}
		if err != nil {
			d.err = d.fail(err)
			return n, d.err
		}
		if n > 0 || len(p) == 0 {
			return n, nil
		}
	}
}
