package handshake

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with the golden file, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("..", "testdata", "handshake", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\ngot  %q\nwant %q", name, got, want)
	}
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// goldenClient is the request in testdata/handshake/client-request.golden.
func goldenClient(t testing.TB) *ClientRequest {
	return &ClientRequest{
		URL:       mustURL(t, "ws://example.com/chat?room=lobby"),
		Key:       "dGhlIHNhbXBsZSBub25jZQ==",
		Protocols: []string{"chat", "superchat"},
		Extensions: []Extension{
			{Name: "permessage-deflate", Params: []Param{{Name: "client_max_window_bits"}}},
		},
		Header: http.Header{
			"Origin":     {"http://example.com"},
			"Cookie":     {"session=abc"},
			"User-Agent": {"rfc6455-websocket-test"},
		},
	}
}

func TestClientRequestGolden(t *testing.T) {
	c := goldenClient(t)
	got, err := c.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "client-request.golden", got)

	// The request is a valid handshake, same-origin, to our own server.
	r, err := readRequestString(string(got), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := verdict(r, nil); err != nil {
		t.Fatalf("server refuses the client's request: %v", err)
	}
	if r.RequestURI != "/chat?room=lobby" || r.Host != "example.com" || r.Key != c.Key ||
		!reflect.DeepEqual(r.Protocols, c.Protocols) || !reflect.DeepEqual(r.Extensions, c.Extensions) {
		t.Errorf("server read %+v", r)
	}
}

func TestClientRequestHostAndTarget(t *testing.T) {
	tests := []struct{ url, host, target string }{
		{"ws://example.com", "example.com", "/"},
		{"ws://example.com/", "example.com", "/"},
		{"ws://example.com:80/a", "example.com", "/a"},
		{"ws://example.com:443/a", "example.com:443", "/a"},
		{"wss://example.com:443/a", "example.com", "/a"},
		{"wss://example.com:80/a", "example.com:80", "/a"},
		{"http://example.com:80", "example.com", "/"},
		{"https://example.com:443", "example.com", "/"},
		{"WSS://Example.com:8443/A", "Example.com:8443", "/A"},
		{"ws://example.com:/x", "example.com", "/x"},
		{"ws://[::1]:80/", "[::1]", "/"},
		{"ws://[::1]:8080/", "[::1]:8080", "/"},
		{"ws://127.0.0.1:9001/runCase?case=1&agent=x", "127.0.0.1:9001", "/runCase?case=1&agent=x"},
		{"ws://h/a b", "h", "/a%20b"},
		{"ws://h?", "h", "/?"}, // ForceQuery keeps the "?"
		{"ws://user:pass@h/", "h", "/"},
	}
	for _, tt := range tests {
		c := &ClientRequest{URL: mustURL(t, tt.url), Key: "dGhlIHNhbXBsZSBub25jZQ=="}
		host, target, err := c.hostAndTarget()
		if err != nil || host != tt.host || target != tt.target {
			t.Errorf("%s: host %q, target %q, %v; want %q, %q", tt.url, host, target, err, tt.host, tt.target)
		}
	}
}

func TestClientRequestAppendErrors(t *testing.T) {
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	base := func() *ClientRequest { return &ClientRequest{URL: mustURL(t, "ws://h/"), Key: key} }
	tests := []struct {
		name   string
		modify func(c *ClientRequest)
	}{
		{"no URL", func(c *ClientRequest) { c.URL = nil }},
		{"ftp scheme", func(c *ClientRequest) { c.URL = mustURL(t, "ftp://h/") }},
		{"no scheme", func(c *ClientRequest) { c.URL = mustURL(t, "//h/") }},
		{"opaque", func(c *ClientRequest) { c.URL = mustURL(t, "ws:h") }},
		{"fragment", func(c *ClientRequest) { c.URL = mustURL(t, "ws://h/#x") }},
		{"empty fragment", func(c *ClientRequest) { c.URL = &url.URL{Scheme: "ws", Host: "h", RawFragment: "x"} }},
		{"no host", func(c *ClientRequest) { c.URL = mustURL(t, "ws:///x") }},
		{"CRLF in host", func(c *ClientRequest) { c.URL = &url.URL{Scheme: "ws", Host: "h\r\nX: y"} }},
		{"space in query", func(c *ClientRequest) { c.URL = &url.URL{Scheme: "ws", Host: "h", RawQuery: "a b"} }},
		{"no key", func(c *ClientRequest) { c.Key = "" }},
		{"short key", func(c *ClientRequest) { c.Key = "dGhlIHNhbXBsZQ==" }},
		{"subprotocol not a token", func(c *ClientRequest) { c.Protocols = []string{"chat", "a b"} }},
		{"empty subprotocol", func(c *ClientRequest) { c.Protocols = []string{""} }},
		{"subprotocol twice", func(c *ClientRequest) { c.Protocols = []string{"a", "b", "a"} }},
		{"extension name", func(c *ClientRequest) { c.Extensions = []Extension{{Name: "a b"}} }},
		{"extension parameter name", func(c *ClientRequest) {
			c.Extensions = []Extension{{Name: "x", Params: []Param{{Name: ""}}}}
		}},
		{"extension parameter value", func(c *ClientRequest) {
			c.Extensions = []Extension{{Name: "x", Params: []Param{{Name: "a", Value: "1 2", HasValue: true}}}}
		}},
		{"reserved header", func(c *ClientRequest) { c.Header = http.Header{"Sec-Websocket-Key": {key}} }},
		{"reserved header, other case", func(c *ClientRequest) { c.Header = http.Header{"sec-websocket-protocol": {"x"}} }},
		{"Host header", func(c *ClientRequest) { c.Header = http.Header{"Host": {"other"}} }},
		{"Upgrade header", func(c *ClientRequest) { c.Header = http.Header{"Upgrade": {"h2c"}} }},
		{"Content-Length header", func(c *ClientRequest) { c.Header = http.Header{"Content-Length": {"3"}} }},
		{"header name not a token", func(c *ClientRequest) { c.Header = http.Header{"X Y": {"1"}} }},
		{"header value with LF", func(c *ClientRequest) { c.Header = http.Header{"X": {"1\nGET / HTTP/1.1"}} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			if _, err := c.Append(nil); err != nil {
				t.Fatalf("base request: %v", err)
			}
			tt.modify(c)
			dst := []byte("keep")
			got, err := c.Append(dst)
			if err == nil {
				t.Fatalf("Append succeeded: %q", got)
			}
			if string(got) != "keep" {
				t.Errorf("Append changed dst on error: %q", got)
			}
			if !strings.HasPrefix(err.Error(), "websocket: handshake: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

// goodResponse is the RFC 6455 §1.3 answer to the golden client request,
// which offered chat, superchat and permessage-deflate.
const goodResponse = "HTTP/1.1 101 Switching Protocols\r\n" +
	"Upgrade: websocket\r\n" +
	"Connection: Upgrade\r\n" +
	"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
	"Sec-WebSocket-Protocol: chat\r\n" +
	"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=15\r\n" +
	"\r\n"

func readResponseString(t testing.TB, s string, maxSize int) (*Response, error) {
	return ReadResponse(bufio.NewReader(strings.NewReader(s)), maxSize, goldenClient(t))
}

func TestReadResponse(t *testing.T) {
	resp, err := readResponseString(t, goodResponse, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := &Response{
		StatusCode: 101,
		Protocol:   "chat",
		Extensions: []Extension{{Name: "permessage-deflate", Params: []Param{{Name: "client_max_window_bits", Value: "15", HasValue: true}}}},
		Header: http.Header{
			"Upgrade":                  {"websocket"},
			"Connection":               {"Upgrade"},
			"Sec-Websocket-Accept":     {"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
			"Sec-Websocket-Protocol":   {"chat"},
			"Sec-Websocket-Extensions": {"permessage-deflate; client_max_window_bits=15"},
		},
	}
	if !reflect.DeepEqual(resp, want) {
		t.Errorf("ReadResponse = %+v\nwant %+v", resp, want)
	}

	// Minimal and lenient forms a client must take.
	for _, raw := range []string{
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
		"HTTP/1.1 101\r\nupgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\nsec-websocket-accept:  s3pPLMBiTxaQ9kYGzzhZRbK+xOo= \r\n\r\n",
		"HTTP/1.1 101 Web Socket Protocol Handshake\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\n\n",
	} {
		resp, err := readResponseString(t, raw, 0)
		if err != nil || resp.Protocol != "" || resp.Extensions != nil {
			t.Errorf("ReadResponse(%q) = %+v, %v", raw, resp, err)
		}
	}
}

// TestReadResponseRejects is the client's validation table: every response
// RFC 6455 §4.1 tells a client to fail, with the reason reported.
func TestReadResponseRejects(t *testing.T) {
	// Legend: fields of a good response, one constant per line.
	const (
		up    = "Upgrade: websocket\r\n"
		conn  = "Connection: Upgrade\r\n"
		acc   = "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
		s101  = "HTTP/1.1 101 Switching Protocols\r\n"
		empty = "\r\n"
	)
	tests := []struct {
		name, raw string
		status    int
		reason    string
	}{
		{"200", "HTTP/1.1 200 OK\r\n" + up + conn + acc + empty, 200, reasonNotSwitching},
		{"403", "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", 403, reasonNotSwitching},
		{"426", "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n\r\n", 426, reasonNotSwitching},
		{"100 Continue", "HTTP/1.1 100 Continue\r\n\r\n", 100, reasonNotSwitching},
		{"missing Upgrade", s101 + conn + acc + empty, 101, reasonRespUpgrade},
		{"Upgrade to another protocol", s101 + "Upgrade: h2c\r\n" + conn + acc + empty, 101, reasonRespUpgrade},
		{"Upgrade list", s101 + "Upgrade: websocket, h2c\r\n" + conn + acc + empty, 101, reasonRespUpgrade},
		{"Upgrade twice", s101 + up + up + conn + acc + empty, 101, reasonRespUpgrade},
		{"missing Connection", s101 + up + acc + empty, 101, reasonRespConnection},
		{"Connection without upgrade", s101 + up + "Connection: keep-alive\r\n" + acc + empty, 101, reasonRespConnection},
		{"missing accept", s101 + up + conn + empty, 101, reasonRespNoAccept},
		{"accept twice", s101 + up + conn + acc + acc + empty, 101, reasonRespNoAccept},
		{"bad accept", s101 + up + conn + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo\r\n" + empty, 101, reasonRespBadAccept},
		{"accept of another key", s101 + up + conn + "Sec-WebSocket-Accept: HSmrc0sMlYUkAGmm5OPpG2HaGWk=\r\n" + empty, 101, reasonRespBadAccept},
		{"accept in other case", s101 + up + conn + "Sec-WebSocket-Accept: S3PPLMBITXAQ9KYGZZHZRBK+XOO=\r\n" + empty, 101, reasonRespBadAccept},
		{"unoffered subprotocol", s101 + up + conn + acc + "Sec-WebSocket-Protocol: mqtt\r\n" + empty, 101, reasonRespProtocolOffer},
		{"subprotocol in other case", s101 + up + conn + acc + "Sec-WebSocket-Protocol: Chat\r\n" + empty, 101, reasonRespProtocolOffer},
		{"two subprotocols", s101 + up + conn + acc + "Sec-WebSocket-Protocol: chat, superchat\r\n" + empty, 101, reasonRespProtocol},
		{"subprotocol field twice", s101 + up + conn + acc + "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n" + empty, 101, reasonRespProtocol},
		{"empty subprotocol", s101 + up + conn + acc + "Sec-WebSocket-Protocol:\r\n" + empty, 101, reasonRespProtocol},
		{"unoffered extension", s101 + up + conn + acc + "Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n" + empty, 101, reasonRespExtOffer},
		{"offered then unoffered extension", s101 + up + conn + acc + "Sec-WebSocket-Extensions: permessage-deflate, x-foo\r\n" + empty, 101, reasonRespExtOffer},
		{"extension twice", s101 + up + conn + acc + "Sec-WebSocket-Extensions: permessage-deflate\r\nSec-WebSocket-Extensions: permessage-deflate\r\n" + empty, 101, reasonRespExtTwice},
		{"malformed extensions", s101 + up + conn + acc + "Sec-WebSocket-Extensions: permessage-deflate;\r\n" + empty, 101, reasonRespExtensions},
		{"malformed field", s101 + up + conn + acc + "Bad Name: x\r\n" + empty, 101, reasonHeaderName},
		{"obs-fold", s101 + up + conn + acc + "X: a\r\n b\r\n" + empty, 101, reasonObsFold},
		{"no status", "HTTP/1.1\r\n\r\n", 0, reasonStatusLine},
		{"short status", "HTTP/1.1 10\r\n\r\n", 0, reasonStatusLine},
		{"status without space", "HTTP/1.1 101Switching\r\n\r\n", 0, reasonStatusLine},
		{"status below 100", "HTTP/1.1 099 X\r\n\r\n", 0, reasonStatusLine},
		{"not HTTP", "ICY 200 OK\r\n\r\n", 0, reasonStatusLine},
		{"request instead", "GET / HTTP/1.1\r\n\r\n", 0, reasonStatusLine},
		{"head too large", s101 + "X: " + strings.Repeat("a", 200) + "\r\n" + up + conn + acc + empty, 0, reasonRespHeadTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := readResponseString(t, tt.raw, 256)
			var re *ResponseError
			if !errors.As(err, &re) {
				t.Fatalf("ReadResponse = %+v, %v; want *ResponseError", resp, err)
			}
			if re.StatusCode != tt.status || re.Reason != tt.reason {
				t.Errorf("rejected with %d %q, want %d %q", re.StatusCode, re.Reason, tt.status, tt.reason)
			}
		})
	}
}

func TestReadResponseRefusalDetails(t *testing.T) {
	raw := "HTTP/1.1 401 Unauthorized\r\n" +
		"WWW-Authenticate: Bearer realm=\"chat\"\r\n" +
		"Content-Length: 12\r\n" +
		"\r\n" +
		"token needed" + "TRAILING"
	_, err := readResponseString(t, raw, 0)
	var re *ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("ReadResponse error = %v", err)
	}
	if re.StatusCode != 401 || re.Status != "401 Unauthorized" || string(re.Body) != "token needed" ||
		re.Header.Get("Www-Authenticate") != `Bearer realm="chat"` {
		t.Errorf("ResponseError = %+v", re)
	}
	if got, want := re.Error(), "websocket: handshake: server did not switch protocols (HTTP 401 Unauthorized)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}

	// A body that does not fit, or has no declared length, is not read.
	for _, raw := range []string{
		"HTTP/1.1 500 Oops\r\nContent-Length: 100000\r\n\r\nxyz",
		"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n",
		"HTTP/1.1 500 Oops\r\nContent-Length: -1\r\n\r\nxyz",
		"HTTP/1.1 500 Oops\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nxyz",
	} {
		_, err := readResponseString(t, raw, 0)
		if !errors.As(err, &re) || re.StatusCode != 500 || re.Body != nil {
			t.Errorf("ReadResponse(%q) = %v, body %q", raw, err, re.Body)
		}
	}
	// A body cut short comes back as far as it got.
	_, err = readResponseString(t, "HTTP/1.1 500 Oops\r\nContent-Length: 10\r\n\r\nabc", 0)
	if !errors.As(err, &re) || string(re.Body) != "abc" {
		t.Errorf("short body: %v, %q", err, re.Body)
	}
	// Without a status, the message has no parenthesis.
	if got := (&ResponseError{Reason: "x"}).Error(); got != "websocket: handshake: x" {
		t.Errorf("Error() = %q", got)
	}
}

// TestReadResponseStopsAtHead checks that a frame the server sent right
// behind its 101 stays in the reader.
func TestReadResponseStopsAtHead(t *testing.T) {
	// Legend: the head, then an unmasked text frame "Hi" (0x81 0x02 'H' 'i').
	frame := "\x81\x02Hi"
	br := bufio.NewReader(strings.NewReader(goodResponse + frame))
	if _, err := ReadResponse(br, 0, goldenClient(t)); err != nil {
		t.Fatal(err)
	}
	if rest, _ := io.ReadAll(br); string(rest) != frame {
		t.Errorf("left %q, want %q", rest, frame)
	}
}

func TestReadResponseEOF(t *testing.T) {
	for _, raw := range []string{"", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"} {
		_, err := readResponseString(t, raw, 0)
		var re *ResponseError
		if err == nil || errors.As(err, &re) || !(errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
			t.Errorf("ReadResponse(%q) = %v, want a wrapped EOF", raw, err)
		}
	}
}

// TestRoundTrip runs both roles against each other over bytes: the client's
// request, the server's checks and answer, the client's checks.
func TestRoundTrip(t *testing.T) {
	c := &ClientRequest{
		URL:       mustURL(t, "wss://chat.example.com/room/1"),
		Key:       NewKey(),
		Protocols: []string{"v2.chat", "v1.chat"},
		Extensions: []Extension{
			{Name: "permessage-deflate", Params: []Param{{Name: "client_max_window_bits"}}},
			{Name: "permessage-deflate"},
		},
		Header: http.Header{"Origin": {"https://chat.example.com"}},
	}
	wire, err := c.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := readRequest(bufio.NewReader(bytes.NewReader(wire)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := verdict(r, nil); err != nil {
		t.Fatal(err)
	}
	proto := SelectProtocol(r.Protocols, []string{"v1.chat", "v2.chat"})
	if proto != "v1.chat" {
		t.Fatalf("SelectProtocol = %q", proto)
	}
	accepted := formatExtensions(r.Extensions[1:])
	answer := AppendResponse(nil, r.Key, proto, accepted, http.Header{"Set-Cookie": {"s=1"}})
	resp, err := ReadResponse(bufio.NewReader(bytes.NewReader(answer)), 0, c)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Protocol != "v1.chat" || !reflect.DeepEqual(resp.Extensions, []Extension{{Name: "permessage-deflate"}}) ||
		resp.Header.Get("Set-Cookie") != "s=1" {
		t.Errorf("client read %+v", resp)
	}

	// The answer to another key is refused.
	other := AppendResponse(nil, NewKey(), proto, "", nil)
	_, err = ReadResponse(bufio.NewReader(bytes.NewReader(other)), 0, c)
	var re *ResponseError
	if !errors.As(err, &re) || re.Reason != reasonRespBadAccept {
		t.Errorf("answer to another key: %v", err)
	}
}
