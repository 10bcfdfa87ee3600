package handshake

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// parsed is everything a RequestParser reports about one input, for
// comparing the ways of feeding it.
type parsed struct {
	done bool
	err  error    // from feed or Fill
	req  *Request // from NewRequest, when done
	perr error    // from NewRequest
	rest string
	held int // the most bytes the parser held before the head was complete
}

// feedChunks feeds data to a fresh parser in the pieces split gives, until
// the head is complete or refused.
func feedChunks(data []byte, maxSize int, split func(n int) int) parsed {
	var p RequestParser
	p.Reset(maxSize)
	defer p.Reset(0)
	var out parsed
	for len(data) > 0 {
		n := min(max(split(len(data)), 1), len(data))
		out.done, out.err = p.feed(data[:n])
		data = data[n:]
		if out.done || out.err != nil {
			break
		}
		out.held = max(out.held, p.Buffered())
	}
	if !out.done && out.err == nil {
		out.err = io.ErrUnexpectedEOF // the input ended inside the head
	}
	return out.finish(&p, data)
}

// fillFrom reads r with Fill until the head is complete, refused, or r
// fails.
func fillFrom(r io.Reader, maxSize int) parsed {
	var p RequestParser
	p.Reset(maxSize)
	defer p.Reset(0)
	var out parsed
	for {
		out.done, out.err = p.Fill(r)
		if out.done || out.err != nil {
			break
		}
		out.held = max(out.held, p.Buffered())
	}
	rest, _ := io.ReadAll(r)
	return out.finish(&p, rest)
}

// finish records the parser's verdict and its Rest followed by unread, the
// bytes it was never given.
func (out parsed) finish(p *RequestParser, unread []byte) parsed {
	if out.done {
		out.req, out.perr = p.NewRequest()
		in, err := p.Request()
		if !reflect.DeepEqual(err, out.perr) || (err == nil && requestDiff(in, out.req) != "") {
			panic("Request and NewRequest disagree")
		}
		out.rest = string(p.Rest()) + string(unread)
	}
	if errors.Is(out.err, io.ErrUnexpectedEOF) || errors.Is(out.err, io.EOF) {
		out.err = io.ErrUnexpectedEOF // feed cannot tell an end of input
	}
	return out
}

// diff reports how two results differ, "" if they do not (held aside).
func (out parsed) diff(other parsed) string {
	var b strings.Builder
	if out.done != other.done || !reflect.DeepEqual(out.err, other.err) {
		return "done, err: " + strings.Join([]string{errString(out.done, out.err), errString(other.done, other.err)}, " vs ")
	}
	if !reflect.DeepEqual(out.perr, other.perr) {
		b.WriteString("parse errors differ")
	}
	if out.req != nil && other.req != nil {
		b.WriteString(requestDiff(out.req, other.req))
	}
	if out.rest != other.rest {
		b.WriteString("\n\tRest differs")
	}
	return b.String()
}

func errString(done bool, err error) string {
	if err != nil {
		return err.Error()
	}
	if done {
		return "done"
	}
	return "not done"
}

// parserCases are heads the feeding tests run through every way of
// feeding: valid and malformed, bare LF, frames after the head, the size
// limit on either side.
func parserCases(t testing.TB) map[string]string {
	cases := map[string]string{
		"rfc":             rfcRequest,
		"minimal":         valid,
		"bare LF":         strings.ReplaceAll(valid, "\r\n", "\n"),
		"frames after":    rfcRequest + "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
		"two heads":       rfcRequest + rfcRequest,
		"empty first":     "\r\n" + valid,
		"bare CR lines":   "GET / HTTP/1.1\r\nX: a\r\r\n\r\n",
		"folded":          "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n",
		"bad line":        "GET /\r\n\r\n",
		"dup host":        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		"long field":      "GET / HTTP/1.1\r\nX: " + strings.Repeat("v", 5000) + "\r\n\r\n",
		"endless line":    "GET / HTTP/1.1\r\nX: " + strings.Repeat("v", 5000),
		"cut short":       rfcRequest[:40],
		"exactly limit":   rfcRequest[:len(rfcRequest)-2] + "X: " + strings.Repeat("x", parserLimit-len(rfcRequest)-5) + "\r\n\r\n",
		"one over limit":  rfcRequest[:len(rfcRequest)-2] + "X: " + strings.Repeat("x", parserLimit-len(rfcRequest)-4) + "\r\n\r\n",
		"many fields":     "GET / HTTP/1.1\r\n" + strings.Repeat("X-A: b\r\n", 1000) + "\r\n",
		"CR before empty": "GET / HTTP/1.1\r\nHost: h\r\n\r\r\n",
	}
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "handshake", "*.http"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		cases[filepath.Base(name)] = string(b)
	}
	return cases
}

const parserLimit = 4096

// TestRequestParserFeeding feeds every case whole, byte by byte, in random
// splits and through Fill over readers that return one byte or random
// amounts at a time: all must agree with each other, and with readRequest.
func TestRequestParserFeeding(t *testing.T) {
	for name, raw := range parserCases(t) {
		t.Run(name, func(t *testing.T) {
			data := []byte(raw)
			whole := feedChunks(data, parserLimit, func(n int) int { return n })
			ways := map[string]parsed{
				"byte by byte":  feedChunks(data, parserLimit, func(int) int { return 1 }),
				"fill":          fillFrom(bytes.NewReader(data), parserLimit),
				"fill one byte": fillFrom(iotest.OneByteReader(bytes.NewReader(data)), parserLimit),
			}
			for seed := range uint64(20) {
				rng := rand.New(rand.NewPCG(seed, 1))
				ways["random split "+string(rune('a'+seed))] = feedChunks(data, parserLimit, func(n int) int { return rng.IntN(n) + 1 })
			}
			ways["fill random"] = fillFrom(&chunkReader{data: data, rng: rand.New(rand.NewPCG(7, 7))}, parserLimit)
			switch name {
			case "exactly limit", "rfc", "frames after", "bare LF":
				if !whole.done || whole.perr != nil {
					t.Fatalf("whole: %v, %v, %v; want a request", whole.done, whole.err, whole.perr)
				}
			case "one over limit", "long field", "endless line", "many fields":
				if he, ok := whole.err.(*Error); !ok || he.StatusCode != 431 {
					t.Fatalf("whole: %v, %v; want 431", whole.done, whole.err)
				}
			}
			for way, got := range ways {
				if d := got.diff(whole); d != "" {
					t.Errorf("%s and whole disagree: %s", way, d)
				}
				if got.held > parserLimit {
					t.Errorf("%s: held %d bytes of an incomplete head, limit %d", way, got.held, parserLimit)
				}
			}

			// readRequest reads through the same parser; it must give the
			// same Request, the same refusal, and leave Rest unread.
			br := bufio.NewReaderSize(bytes.NewReader(data), 64)
			r, err := readRequest(br, parserLimit)
			left, _ := io.ReadAll(br)
			switch {
			case whole.done && whole.perr == nil:
				if err != nil {
					t.Fatalf("parser done, readRequest: %v", err)
				}
				if d := requestDiff(r, whole.req); d != "" {
					t.Errorf("readRequest and parser disagree:%s", d)
				}
				if string(left) != whole.rest {
					t.Errorf("readRequest left %q, parser's Rest %q", left, whole.rest)
				}
			case whole.done:
				if !reflect.DeepEqual(err, whole.perr) {
					t.Errorf("readRequest: %v, parser: %v", err, whole.perr)
				}
			case whole.err == io.ErrUnexpectedEOF:
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("readRequest: %v, parser: cut short", err)
				}
			default:
				if !reflect.DeepEqual(err, whole.err) {
					t.Errorf("readRequest: %v, parser: %v", err, whole.err)
				}
			}
		})
	}
}

// chunkReader returns data a random amount at a time.
type chunkReader struct {
	data []byte
	rng  *rand.Rand
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.rng.IntN(len(r.data))+1)], r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestRequestParserLimitBeforeBuffering: a client that sends one byte more
// than the limit without a line end is refused with 431 as soon as it has,
// and the parser never holds more than the limit: neither when fed all at
// once, nor when it reads from a client that never stops sending.
func TestRequestParserLimitBeforeBuffering(t *testing.T) {
	const limit = 1024
	endless := bytes.Repeat([]byte("a"), limit+1)
	var p RequestParser
	p.Reset(limit)
	done, err := p.feed(endless)
	assertTooLarge(t, "feed", done, err)
	if n := p.Buffered(); n > limit {
		t.Errorf("feed held %d bytes, limit %d", n, limit)
	}

	p.Reset(limit)
	r := &countingReader{r: iotest.OneByteReader(infinite('a'))}
	for range 2 * limit {
		if done, err = p.Fill(r); done || err != nil {
			break
		}
		if n := p.Buffered(); n > limit {
			t.Fatalf("Fill held %d bytes, limit %d", n, limit)
		}
	}
	assertTooLarge(t, "Fill", done, err)
	if r.n != limit {
		t.Errorf("Fill read %d bytes before refusing, want the limit, %d", r.n, limit)
	}
	// A bigger read cannot take it past the limit either.
	p.Reset(limit)
	r = &countingReader{r: infinite('a')}
	for done, err = p.Fill(r); !done && err == nil; done, err = p.Fill(r) {
	}
	assertTooLarge(t, "Fill (whole reads)", done, err)
	if r.n != limit {
		t.Errorf("Fill read %d bytes before refusing, want the limit, %d", r.n, limit)
	}
	// The refusal sticks.
	if done, err = p.feed([]byte("\r\n\r\n")); done || err == nil {
		t.Errorf("feed after the refusal = %v, %v", done, err)
	}
	p.Reset(0)
}

func assertTooLarge(t *testing.T, what string, done bool, err error) {
	t.Helper()
	var he *Error
	if done || !errors.As(err, &he) || he.StatusCode != 431 || he.Reason != reasonHeadTooLarge {
		t.Fatalf("%s = %v, %v; want a 431 refusal", what, done, err)
	}
}

type infinite byte

func (c infinite) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(c)
	}
	return len(p), nil
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestRequestParserRest: the frames a client sends right behind its head
// come back intact as Rest, whether they arrive with the head or after it.
func TestRequestParserRest(t *testing.T) {
	frames := []byte("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58\x88\x82\x11\x22\x12\xca")
	data := append([]byte(rfcRequest), frames...)
	for i := 0; i <= len(data); i++ {
		var p RequestParser
		done, err := p.feed(data[:i])
		if i < len(rfcRequest) {
			if done || err != nil {
				t.Fatalf("feed(%d bytes) = %v, %v", i, done, err)
			}
			if done, err = p.feed(data[i:]); !done || err != nil {
				t.Fatalf("feed(rest) = %v, %v", done, err)
			}
		} else if !done || err != nil {
			t.Fatalf("feed(%d bytes) = %v, %v", i, done, err)
		}
		end := i
		if i < len(rfcRequest) {
			end = len(data)
		}
		if got, want := p.Rest(), data[len(rfcRequest):end]; !bytes.Equal(got, want) {
			t.Fatalf("split at %d: Rest = %q, want %q", i, got, want)
		}
		p.Reset(0)
	}

	var p RequestParser
	if done, err := p.Fill(bytes.NewReader(data)); !done || err != nil {
		t.Fatalf("Fill = %v, %v", done, err)
	}
	if !bytes.Equal(p.Rest(), frames) {
		t.Errorf("Fill: Rest = %q, want %q", p.Rest(), frames)
	}
	if r, err := p.Request(); err != nil || r.Key != "dGhlIHNhbXBsZSBub25jZQ==" {
		t.Errorf("Request = %+v, %v", r, err)
	}
}

// wouldBlock is an event loop's socket with nothing to read.
type wouldBlock struct{}

var errWouldBlock = errors.New("would block")

func (wouldBlock) Read([]byte) (int, error) { return 0, errWouldBlock }

// TestRequestParserIdle: a parser that has nothing holds no buffer, and a
// read that would block comes back as it is; one that ends the input
// early says so.
func TestRequestParserIdle(t *testing.T) {
	var p RequestParser
	if done, err := p.Fill(wouldBlock{}); done || err != errWouldBlock {
		t.Fatalf("Fill = %v, %v; want the reader's error", done, err)
	}
	if p.buf != nil || p.Buffered() != 0 {
		t.Errorf("an idle parser holds a buffer of %d bytes", cap(*p.buf))
	}
	if done, err := p.Fill(strings.NewReader("")); done || err != io.EOF {
		t.Errorf("Fill at the end of input = %v, %v; want io.EOF", done, err)
	}
	if done, err := p.Fill(strings.NewReader("GET / HTTP/1.1\r\n")); done || err != nil {
		t.Fatalf("Fill = %v, %v", done, err)
	}
	if done, err := p.Fill(wouldBlock{}); done || err != errWouldBlock || p.Buffered() == 0 {
		t.Fatalf("Fill = %v, %v, holding %d", done, err, p.Buffered())
	}
	if done, err := p.Fill(strings.NewReader("")); done || err != io.ErrUnexpectedEOF {
		t.Errorf("Fill at the end of part of a head = %v, %v; want io.ErrUnexpectedEOF", done, err)
	}
	if _, err := p.Request(); err == nil {
		t.Error("Request before the head is complete succeeded")
	}
	p.Reset(0)
	if p.buf != nil {
		t.Error("Reset kept the buffer")
	}
}

// TestRequestParserReuse: after Reset, a parser reads the next request
// with nothing of the last one left, its header map reused; parsing in
// place costs less than readRequest.
func TestRequestParserReuse(t *testing.T) {
	var p RequestParser
	if done, err := p.feed([]byte(withOrigin("https://a.example") + "\x81")); !done || err != nil {
		t.Fatalf("feed = %v, %v", done, err)
	}
	first, err := p.Request()
	if err != nil {
		t.Fatal(err)
	}
	h := first.Header
	p.Reset(0)
	if done, err := p.feed([]byte(valid)); !done || err != nil {
		t.Fatalf("feed = %v, %v", done, err)
	}
	second, err := p.Request()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := readRequestString(valid, 0)
	if d := requestDiff(second, want); d != "" {
		t.Errorf("second request:%s", d)
	}
	if len(p.Rest()) != 0 {
		t.Errorf("Rest = %q", p.Rest())
	}
	if reflect.ValueOf(second.Header).UnsafePointer() != reflect.ValueOf(h).UnsafePointer() {
		t.Error("the header map was not reused")
	}

	raw, err := os.ReadFile(filepath.Join("..", "testdata", "handshake", "chromium.http"))
	if err != nil {
		t.Fatal(err)
	}
	inPlace := testing.AllocsPerRun(100, func() {
		p.Reset(0)
		p.feed(raw)
		if _, err := p.Request(); err != nil {
			t.Fatal(err)
		}
	})
	viaBufio := testing.AllocsPerRun(100, func() {
		if _, err := readRequest(bufio.NewReader(bytes.NewReader(raw)), 0); err != nil {
			t.Fatal(err)
		}
	})
	if inPlace >= viaBufio-3 {
		t.Errorf("parsing in place: %v allocations, readRequest %v", inPlace, viaBufio)
	}
	p.Reset(0)
}
