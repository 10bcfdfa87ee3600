package handshake

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math/bits"
	"net/http"
	"sync"
	"unsafe"
)

// A RequestParser reads a client's opening handshake request as its bytes
// arrive. Every server path reads the head with one: a blocking read loop
// calls [RequestParser.Fill] until it reports the head complete, an event
// loop calls it once per readable event (the reader's "would block" comes
// back as it is), and [ReadResponse] reads a response head through the same
// scanner from a bufio.Reader. Either way the parser
//
//   - holds the bytes of an incomplete head in a pooled buffer, never more
//     than its limit: a head that cannot end within the limit is refused
//     with 431 as soon as it passes it, not when the client stops sending;
//   - finds the empty line that ends the head (a line ends at CRLF or at a
//     bare LF);
//   - parses the head in place with [RequestParser.Request], or into a
//     Request of the caller's own with [RequestParser.NewRequest];
//   - keeps what arrived after the head, the client's first frames, as
//     [RequestParser.Rest].
//
// The zero value is ready to use, with the limit 16 KiB.
// Reset makes a parser ready for the next request and gives its buffer
// back; a parser that holds no byte holds no buffer. A RequestParser is
// meant to be kept and reused (in a sync.Pool, say): its Request's header
// map is reused, so that parsing in place allocates little. It is not safe
// for concurrent use.
type RequestParser struct {
	buf  *[]byte // the bytes held, pooled; nil while there are none
	max  int     // the limit on the head; zero or less: maxHeadSize
	line int     // where the line being scanned starts in *buf
	scan int     // how much of *buf has been scanned for a line end
	end  int     // the length of the head once it is complete, else 0
	err  *Error  // the refusal, once made (431)
	req  Request // what Request parses into
}

// errIncomplete is what Request and NewRequest return before the head is
// complete: the caller's mistake, not the client's.
var errIncomplete = errors.New("websocket: handshake: request head not complete")

// Reset forgets everything p holds, gives its buffer back and sets the
// limit on the next head to maxSize bytes (start line, fields and empty
// line; zero or less means 16 KiB). What Request returned and
// Rest must not be used after Reset.
func (p *RequestParser) Reset(maxSize int) {
	p.release()
	h := p.req.Header
	clear(h) // its keys and values point into the buffer just given back
	*p = RequestParser{max: maxSize, req: Request{Header: h}}
}

// feed adds b to the request, reporting whether the head is complete. The
// parser copies what it keeps of b. Before the head is complete it holds no
// more than the limit: bytes that would take it past the limit without
// ending the head are refused with an [*Error] with status 431, and it keeps
// none of them. Bytes of b after the end of the head are kept whole, as
// Rest. Once the head is complete or refused, feed reports that again and
// takes nothing more.
func (p *RequestParser) feed(b []byte) (done bool, err error) {
	if p.end > 0 || p.err != nil || len(b) == 0 {
		return p.result()
	}
	n := min(len(b), p.limit()-p.Buffered())
	p.reserve(n)
	*p.buf = append(*p.buf, b[:n]...)
	if p.advance() {
		if n < len(b) {
			p.reserve(len(b) - n)
			*p.buf = append(*p.buf, b[n:]...)
		}
		return true, nil
	}
	return p.result()
}

// Fill reads once from r into p's buffer, at most as many bytes as the
// limit leaves room for, and reports whether the head is complete. A head
// that reaches the limit without ending is refused with an [*Error] with
// status 431. A read error comes back as r returned it, except that io.EOF
// after part of a head becomes io.ErrUnexpectedEOF; bytes read together with
// the error count first, so a head completed by the last read is done
// whatever the error. A non-blocking r that has nothing may return 0, nil
// (an event loop's socket does): Fill then reports false, nil with Buffered
// unchanged, and the caller reads again when bytes arrive. When the read
// leaves p holding nothing, p gives its buffer back: a client that is
// silent costs no buffer. Once the head is complete or refused, Fill
// reports that again without reading.
func (p *RequestParser) Fill(r io.Reader) (done bool, err error) {
	if p.end > 0 || p.err != nil {
		return p.result()
	}
	held, room := p.Buffered(), p.limit()-p.Buffered()
	if p.buf == nil || cap(*p.buf) == held {
		// Double what is held, starting at firstBuffer: a client that
		// sends its head slowly costs about what it has sent.
		p.reserve(min(max(held, firstBuffer), room))
	}
	b := *p.buf
	n, err := r.Read(b[held:min(cap(b), held+room)])
	*p.buf = b[:held+n]
	if n > 0 {
		if p.advance() {
			return true, nil
		}
		if _, refused := p.result(); refused != nil {
			return false, refused
		}
	}
	if err == io.EOF && held+n > 0 {
		err = io.ErrUnexpectedEOF
	}
	if held+n == 0 {
		p.release()
	}
	return false, err
}

// Buffered returns the number of bytes p holds: the head so far, and once
// it is complete, the head and Rest.
func (p *RequestParser) Buffered() int {
	if p.buf == nil {
		return 0
	}
	return len(*p.buf)
}

// Request parses the complete head into p's own Request. The Request, its
// strings and its header map belong to p: they point into p's buffer, and
// are valid until the next Reset. Parsing in place costs no copy of the
// head, and the header map is the one the last request used; use
// NewRequest for a Request to keep.
//
// A malformed head gives an [*Error] with status 400; among the things
// refused are obsolete line folding, field names that are not tokens,
// control characters in values, a repeated Host, Origin, Sec-WebSocket-Key
// or Sec-WebSocket-Version field, and malformed subprotocol or extension
// lists. Request does not check that the request is a valid opening
// handshake; pass the result to [Check].
func (p *RequestParser) Request() (*Request, error) {
	if p.end == 0 {
		return nil, errIncomplete
	}
	if err := p.req.parse(unsafe.String(&(*p.buf)[0], p.end)); err != nil {
		return nil, err
	}
	return &p.req, nil
}

// NewRequest is Request for a caller that keeps the Request after Reset: it
// parses a copy of the head (one allocation for every string) into a new
// Request, which is the caller's to keep.
func (p *RequestParser) NewRequest() (*Request, error) {
	if p.end == 0 {
		return nil, errIncomplete
	}
	r := new(Request)
	if err := r.parse(string(p.head())); err != nil {
		return nil, err
	}
	return r, nil
}

// Rest returns the bytes that arrived after the head, the client's first
// frames, or nil while the head is not complete. They are p's, valid until
// the next Reset.
func (p *RequestParser) Rest() []byte {
	if p.end == 0 {
		return nil
	}
	return (*p.buf)[p.end:]
}

// head returns the complete head.
func (p *RequestParser) head() []byte { return (*p.buf)[:p.end] }

func (p *RequestParser) limit() int {
	if p.max <= 0 {
		return maxHeadSize
	}
	return p.max
}

// result reports where p stands when no new byte completed the head: done,
// refused, or waiting for more. Holding the limit without an end is refused
// here, so that the refusal is made as soon as the limit is reached.
func (p *RequestParser) result() (bool, error) {
	switch {
	case p.end > 0:
		return true, nil
	case p.err == nil && p.Buffered() >= p.limit():
		p.err = headTooLarge()
	}
	if p.err != nil {
		return false, p.err
	}
	return false, nil
}

// advance scans the bytes not yet scanned for the empty line that ends the
// head, and reports whether it found it. A line ends at LF; the head ends at
// a line that is empty or holds only CR. (An empty first line ends it too,
// and the request-line parser refuses it: RFC 9112 §2.2 lets a server do
// that, and net/http does.)
func (p *RequestParser) advance() bool {
	b := *p.buf
	for {
		i := bytes.IndexByte(b[p.scan:], '\n')
		if i < 0 {
			p.scan = len(b)
			return false
		}
		i += p.scan
		if n := i - p.line; n == 0 || n == 1 && b[p.line] == '\r' {
			p.end = i + 1
			return true
		}
		p.line, p.scan = i+1, i+1
	}
}

// reserve makes room in p's buffer for n more bytes, taking it from the
// pool, or a pooled buffer of twice the size (or more) with the bytes
// copied.
func (p *RequestParser) reserve(n int) {
	if p.buf == nil {
		p.buf = getBuffer(n)
		return
	}
	b := *p.buf
	if cap(b)-len(b) >= n {
		return
	}
	nb := getBuffer(max(len(b)+n, 2*cap(b)))
	*nb = append(*nb, b...)
	putBuffer(p.buf)
	p.buf = nb
}

// release gives p's buffer back to the pool.
func (p *RequestParser) release() {
	if p.buf != nil {
		putBuffer(p.buf)
		p.buf = nil
	}
}

// readFrom reads a head from br into p, line by line so that nothing past
// the head is consumed: whatever follows it (frames) stays in br for the
// caller. It is how ReadResponse (and the tests' readRequest) read a head
// through the same scanner and limit as every server path. An end of input
// before the head is complete gives io.EOF if nothing was read and
// io.ErrUnexpectedEOF otherwise; a head past the limit gives the 431
// *Error.
func (p *RequestParser) readFrom(br *bufio.Reader) error {
	for {
		// Look at what has arrived rather than wait for a line end: a
		// client that sends more than the limit without one is
		// answered at once, not when it stops sending.
		if _, err := br.Peek(1); err != nil {
			if err == io.EOF && p.Buffered() > 0 {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		frag, _ := br.Peek(br.Buffered())
		if i := bytes.IndexByte(frag, '\n'); i >= 0 {
			frag = frag[:i+1]
		}
		done, err := p.feed(frag)
		if err != nil {
			return err
		}
		br.Discard(len(frag))
		if done {
			return nil
		}
	}
}

// parsers are the RequestParsers of ReadResponse (and of the tests'
// readRequest).
var parsers = sync.Pool{New: func() any { return new(RequestParser) }}

// readHead reads an HTTP head from br, and not one byte further, with the
// scanner and limit of [RequestParser] (the head of a response ends as a
// request's does). The head comes back as one string, allocated once, so
// that every field parsed from it is a substring and costs nothing more.
func readHead(br *bufio.Reader, maxSize int) (string, error) {
	p := parsers.Get().(*RequestParser)
	p.Reset(maxSize)
	defer func() {
		p.Reset(0)
		parsers.Put(p)
	}()
	if err := p.readFrom(br); err != nil {
		return "", err
	}
	return string(p.head()), nil
}

// The parser's buffers come in sizes firstBuffer << i, each size from a
// pool of its own, so that a buffer grown for a big head goes back where a
// big head will find it. Buffers past the largest size are not pooled.
const (
	firstBuffer = 1 << 10
	bufferSizes = 7 // 1 KiB to 64 KiB
)

var bufferPools [bufferSizes]sync.Pool

// getBuffer returns an empty buffer with room for at least n bytes.
func getBuffer(n int) *[]byte {
	size := firstBuffer
	for i := range bufferPools {
		if n <= size {
			if b, ok := bufferPools[i].Get().(*[]byte); ok {
				return b
			}
			b := make([]byte, 0, size)
			return &b
		}
		size <<= 1
	}
	b := make([]byte, 0, n)
	return &b
}

// putBuffer returns b to the pool of its size, if it has one.
func putBuffer(b *[]byte) {
	c := cap(*b)
	if c < firstBuffer || c&(c-1) != 0 {
		return
	}
	if i := bits.Len(uint(c/firstBuffer)) - 1; i < bufferSizes {
		*b = (*b)[:0]
		bufferPools[i].Put(b)
	}
}

// headTooLarge returns the refusal of a head past the limit.
func headTooLarge() *Error {
	return &Error{StatusCode: http.StatusRequestHeaderFieldsTooLarge, Reason: reasonHeadTooLarge}
}
