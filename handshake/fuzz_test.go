package handshake

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// headLen is the reference for where a head ends: just after the first line
// (terminated by LF, optionally preceded by CR) that is empty. It returns -1
// if data holds no such line.
func headLen(data []byte) int {
	pos := 0
	for {
		i := bytes.IndexByte(data[pos:], '\n')
		if i < 0 {
			return -1
		}
		line := data[pos : pos+i]
		pos += i + 1
		if len(line) == 0 || (len(line) == 1 && line[0] == '\r') {
			return pos
		}
	}
}

// addRequestSeeds seeds f with the captured requests and the requests of the
// unit tests.
func addRequestSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "handshake", "*.http"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		rfcRequest,
		valid,
		withOrigin("https://evil.example"),
		"GET ws://example.com:8080/chat HTTP/1.1\r\nHost: other\r\n" + lineUpgrade + lineConn + lineKey + lineVersion + lineEnd,
		"GET / HTTP/1.1\nHost: h\nUpgrade: websocket\nConnection: upgrade\n\n\x81\x80",
		"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n",
		"GET / HTTP/1.1\r\nSec-WebSocket-Extensions: a; b=\"1\", c\r\nSec-WebSocket-Protocol: x,,y\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		"GET / HTTP/1.1\r\nPragma: no-cache\r\nContent-Length: 0\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
}

// fromHeaderReasons are the refusals that come from fromHeader, which both
// paths share.
var fromHeaderReasons = map[string]bool{
	reasonDupOrigin: true, reasonDupKey: true, reasonDupVersion: true,
	reasonProtocolList: true, reasonExtensionList: true,
}

// FuzzReadRequest checks that readRequest never panics, never consumes more
// than the head, and agrees with net/http + FromHTTP on every field and on
// the verdict whenever both parse the input.
func FuzzReadRequest(f *testing.F) {
	addRequestSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxSize = 4096
		br := bufio.NewReaderSize(bytes.NewReader(data), 64)
		mine, err := readRequest(br, maxSize)
		rest, _ := io.ReadAll(br)
		consumed := len(data) - len(rest)

		var he *Error
		switch {
		case err == nil || (errors.As(err, &he) && he.StatusCode == http.StatusBadRequest):
			if n := headLen(data); consumed != n {
				t.Fatalf("consumed %d bytes, head is %d (err %v)", consumed, n, err)
			}
		case he != nil && he.StatusCode == http.StatusRequestHeaderFieldsTooLarge:
			if n := headLen(data); n >= 0 && n <= maxSize {
				t.Fatalf("431 for a head of %d bytes", n)
			}
		case he != nil:
			t.Fatalf("unexpected refusal %v", err)
		case !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF):
			t.Fatalf("unexpected error %v", err)
		}

		hr, herr := http.ReadRequest(bufio.NewReader(bytes.NewReader(data)))
		if herr != nil {
			return
		}
		theirs, terr := FromHTTP(hr)
		if he != nil && fromHeaderReasons[he.Reason] {
			// Both parsed the header; the shared rules must refuse alike.
			if !reflect.DeepEqual(terr, err) {
				t.Fatalf("readRequest refused with %v, FromHTTP with %v", err, terr)
			}
			return
		}
		if err != nil || terr != nil {
			return
		}
		if mine.Header == nil || theirs.Header == nil {
			t.Fatal("nil Header")
		}
		// net/http rewrites a few fields about the body and caching that
		// the handshake does not touch; compare the rest.
		a, b := mine.Header.Clone(), theirs.Header.Clone()
		if pragma := a["Pragma"]; len(pragma) > 0 && pragma[0] == "no-cache" && a["Cache-Control"] == nil {
			a["Cache-Control"] = []string{"no-cache"}
		}
		for _, k := range []string{"Transfer-Encoding", "Content-Length", "Trailer"} {
			delete(a, k)
			delete(b, k)
		}
		m, th := *mine, *theirs
		m.Header, th.Header = a, b
		if d := requestDiff(&m, &th); d != "" {
			t.Fatalf("readRequest and FromHTTP disagree on %q:%s", data, d)
		}
		v1, v2 := verdict(mine, nil), verdict(theirs, nil)
		if !reflect.DeepEqual(v1, v2) {
			t.Fatalf("verdicts differ: %v vs %v", v1, v2)
		}
	})
}

// FuzzRequestParser checks the differential property of the one request
// parser: fed whole, fed in random splits and read through Fill in random
// amounts, it gives the same verdict, the same Request and the same Rest,
// never holds more than its limit before the head is complete, and agrees
// with readRequest (the bufio path) on the same bytes.
func FuzzRequestParser(f *testing.F) {
	addRequestSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxSize = 1024
		whole := feedChunks(data, maxSize, func(n int) int { return n })
		for seed := range uint64(3) {
			rng := rand.New(rand.NewPCG(seed, uint64(len(data))))
			split := feedChunks(data, maxSize, func(n int) int { return rng.IntN(n) + 1 })
			if d := split.diff(whole); d != "" {
				t.Fatalf("split feeding (seed %d) and whole disagree on %q: %s", seed, data, d)
			}
			if split.held > maxSize {
				t.Fatalf("held %d bytes of an incomplete head", split.held)
			}
			filled := fillFrom(&chunkReader{data: data, rng: rng}, maxSize)
			if d := filled.diff(whole); d != "" {
				t.Fatalf("Fill (seed %d) and whole feeding disagree on %q: %s", seed, data, d)
			}
		}
		br := bufio.NewReaderSize(bytes.NewReader(data), 16)
		r, err := readRequest(br, maxSize)
		left, _ := io.ReadAll(br)
		switch {
		case whole.done && whole.perr == nil:
			if err != nil {
				t.Fatalf("parser done, readRequest: %v", err)
			}
			if d := requestDiff(r, whole.req); d != "" {
				t.Fatalf("readRequest and the parser disagree on %q:%s", data, d)
			}
			if string(left) != whole.rest {
				t.Fatalf("readRequest left %q, the parser's Rest is %q", left, whole.rest)
			}
		case whole.done:
			if !reflect.DeepEqual(err, whole.perr) {
				t.Fatalf("readRequest: %v, the parser: %v", err, whole.perr)
			}
		case whole.err == io.ErrUnexpectedEOF:
			if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
				t.Fatalf("readRequest: %v, the parser: cut short", err)
			}
		default:
			if !reflect.DeepEqual(err, whole.err) {
				t.Fatalf("readRequest: %v, the parser: %v", err, whole.err)
			}
		}
	})
}

// FuzzParseExtensions checks the round trip
// Parse(Format(Parse(x))) == Parse(x), that Format is a fixed point, and that
// what Parse returns obeys the grammar. Lines of the input are separate
// field lines.
func FuzzParseExtensions(f *testing.F) {
	for _, s := range []string{
		"permessage-deflate",
		"permessage-deflate; client_max_window_bits",
		"permessage-deflate; client_max_window_bits=10; server_no_context_takeover, permessage-deflate",
		`x; a="1"`,
		`x; a="\1\0", y`,
		"a, , b\nc; d",
		" \ta \t; \tb \t= \tc \t",
		`x; a="1,2"`,
		"",
		",",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		values := strings.Split(s, "\n")
		exts, err := parseExtensions(values)
		if err != nil {
			if !errors.Is(err, errExtensionSyntax) {
				t.Fatalf("error %v does not wrap errExtensionSyntax", err)
			}
			return
		}
		for _, e := range exts {
			if why := validExtension(e); why != "" {
				t.Fatalf("parseExtensions(%q) returned %+v: %s", values, e, why)
			}
			if e.Params != nil && len(e.Params) == 0 {
				t.Fatalf("empty non-nil Params in %+v", e)
			}
		}
		formatted := formatExtensions(exts)
		again, err := parseExtensions([]string{formatted})
		if err != nil {
			t.Fatalf("parseExtensions(formatExtensions(%q)) = %v; formatted %q", values, err, formatted)
		}
		if !reflect.DeepEqual(again, exts) {
			t.Fatalf("round trip of %q via %q: got %+v, want %+v", values, formatted, again, exts)
		}
		if f2 := formatExtensions(again); f2 != formatted {
			t.Fatalf("Format not a fixed point: %q then %q", formatted, f2)
		}
	})
}

// FuzzReadResponse checks that ReadResponse never panics, never consumes a
// byte past the head (except a refusal's body, which it reports), and only
// accepts what the request offered.
func FuzzReadResponse(f *testing.F) {
	c := goldenClient(f)
	f.Add([]byte(goodResponse))
	f.Add([]byte(goodResponse + "\x81\x02Hi"))
	f.Add(AppendResponse(nil, c.Key, "superchat", "permessage-deflate", http.Header{"Set-Cookie": {"a=1"}}))
	f.Add(AppendResponse(nil, c.Key, "", "", nil))
	f.Add(AppendErrorResponse(nil, &Error{StatusCode: 426, Reason: reasonBadVersion, Header: versionHeader()}))
	f.Add([]byte("HTTP/1.1 401 Unauthorized\r\nContent-Length: 5\r\n\r\nhello world"))
	f.Add([]byte("HTTP/1.1 101\nUpgrade: websocket\nConnection: upgrade\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxSize = 4096
		br := bufio.NewReaderSize(bytes.NewReader(data), 64)
		resp, err := ReadResponse(br, maxSize, c)
		rest, _ := io.ReadAll(br)
		consumed := len(data) - len(rest)
		n := headLen(data)

		var re *ResponseError
		switch {
		case err == nil:
			if consumed != n {
				t.Fatalf("consumed %d bytes, head is %d", consumed, n)
			}
			if resp.StatusCode != 101 {
				t.Fatalf("accepted status %d", resp.StatusCode)
			}
			if resp.Protocol != "" && SelectProtocol(c.Protocols, []string{resp.Protocol}) == "" {
				t.Fatalf("accepted unoffered subprotocol %q", resp.Protocol)
			}
			for _, e := range resp.Extensions {
				if !offered(c.Extensions, e.Name) {
					t.Fatalf("accepted unoffered extension %q", e.Name)
				}
			}
		case errors.As(err, &re):
			switch {
			case re.Reason == reasonRespHeadTooLarge:
				if n >= 0 && n <= maxSize {
					t.Fatalf("head of %d bytes called too large", n)
				}
			case consumed != n+len(re.Body):
				t.Fatalf("consumed %d bytes, head is %d and body %d", consumed, n, len(re.Body))
			case re.Body != nil && n+len(re.Body) > maxSize:
				t.Fatalf("read a body of %d past a head of %d", len(re.Body), n)
			}
		case !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF):
			t.Fatalf("unexpected error %v", err)
		}
	})
}
