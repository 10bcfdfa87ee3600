package handshake_test

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/rfc6455/websocket/handshake"
)

// A server reading a handshake off a raw connection (here a string) and
// answering it.
func ExampleRequestParser() {
	conn := strings.NewReader("GET /chat HTTP/1.1\r\n" +
		"Host: server.example.com\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"Sec-WebSocket-Protocol: chat, superchat\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"\r\n")

	var p handshake.RequestParser // zero value: the default size limit
	defer p.Reset(0)              // gives the parser's buffer back
	var err error
	for done := false; !done && err == nil; {
		done, err = p.Fill(conn) // one read per call
	}
	var out []byte
	var r *handshake.Request
	if err == nil {
		r, err = p.Request()
	}
	if err == nil {
		err = handshake.Check(r)
	}
	if err == nil {
		var policy *handshake.OriginPolicy // same origin only
		err = policy.Check(r)
	}
	var refusal *handshake.Error
	switch {
	case errors.As(err, &refusal):
		out = handshake.AppendErrorResponse(out, refusal)
	case err != nil:
		return // the connection failed; nobody to answer
	default:
		protocol := handshake.SelectProtocol(r.Protocols, []string{"chat"})
		out = handshake.AppendResponse(out, r.Key, protocol, "", nil)
	}
	os.Stdout.WriteString(strings.ReplaceAll(string(out), "\r\n", "\n"))
	// Output:
	// HTTP/1.1 101 Switching Protocols
	// Upgrade: websocket
	// Connection: Upgrade
	// Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
	// Sec-WebSocket-Protocol: chat
}

// A refusal: the client speaks an older version of the protocol.
func ExampleAppendErrorResponse() {
	r := &handshake.Request{
		Method: "GET", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Host: "example.com", UpgradeWebSocket: true, ConnectionUpgrade: true,
		Key: "dGhlIHNhbXBsZSBub25jZQ==", Version: "8",
	}
	var refusal *handshake.Error
	if errors.As(handshake.Check(r), &refusal) {
		fmt.Println(refusal)
		fmt.Print(strings.ReplaceAll(string(handshake.AppendErrorResponse(nil, refusal)), "\r\n", "\n"))
	}
	// Output:
	// websocket: handshake: unsupported Sec-WebSocket-Version (HTTP 426)
	// HTTP/1.1 426 Upgrade Required
	// Sec-Websocket-Version: 13
	// Content-Type: text/plain; charset=utf-8
	// Content-Length: 33
	// Connection: close
	//
	// unsupported Sec-WebSocket-Version
}

// A client building its request and checking the server's answer.
func ExampleReadResponse() {
	u, _ := url.Parse("ws://example.com/chat")
	req := &handshake.ClientRequest{
		URL:       u,
		Key:       "dGhlIHNhbXBsZSBub25jZQ==", // use handshake.NewKey() in real code
		Protocols: []string{"chat"},
		Header:    http.Header{"Origin": {"http://example.com"}},
	}
	wire, err := req.Append(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(strings.ReplaceAll(string(wire), "\r\n", "\n"))

	answer := "HTTP/1.1 101 Switching Protocols\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
		"Sec-WebSocket-Protocol: chat\r\n" +
		"\r\n"
	resp, err := handshake.ReadResponse(bufio.NewReader(strings.NewReader(answer)), 0, req)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("subprotocol:", resp.Protocol)
	// Output:
	// GET /chat HTTP/1.1
	// Host: example.com
	// Upgrade: websocket
	// Connection: Upgrade
	// Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
	// Sec-WebSocket-Version: 13
	// Sec-WebSocket-Protocol: chat
	// Origin: http://example.com
	//
	// subprotocol: chat
}

func ExampleOriginPolicy_Check() {
	policy := &handshake.OriginPolicy{Patterns: []string{"*.example.com", "localhost:*"}}
	for _, origin := range []string{
		"",                        // not a browser
		"https://api.example.com", // the server's own origin
		"https://www.example.com", // a subdomain
		"http://localhost:3000",   // a development server
		"https://evil.example",
	} {
		r := &handshake.Request{Host: "api.example.com", Origin: origin}
		fmt.Printf("%q: %v\n", origin, policy.Check(r))
	}
	// Output:
	// "": <nil>
	// "https://api.example.com": <nil>
	// "https://www.example.com": <nil>
	// "http://localhost:3000": <nil>
	// "https://evil.example": websocket: handshake: origin not allowed (HTTP 403)
}

// A server negotiating permessage-deflate: the client's offers come parsed
// in the Request, the answer goes into the response.
func ExampleDeflateConfig_Accept() {
	hr := &http.Request{
		Method: "GET", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Host: "example.com",
		Header: http.Header{"Sec-Websocket-Extensions": {
			`permessage-deflate; client_max_window_bits; server_max_window_bits="10"`,
			"permessage-deflate",
		}},
	}
	r, err := handshake.FromHTTP(hr)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range r.Extensions {
		fmt.Println("offer:", e)
	}
	config := handshake.DeflateConfig{ServerMaxWindowBits: 12}
	agreed, resp, ok := config.Accept(r.Extensions)
	if !ok {
		fmt.Println("no acceptable offer: no compression")
		return
	}
	fmt.Println("response:", resp)
	fmt.Println("server window:", agreed.WindowBits(true), "bits; client keeps context:", agreed.ContextTakeover(false))
	// Output:
	// offer: permessage-deflate; client_max_window_bits; server_max_window_bits=10
	// offer: permessage-deflate
	// response: permessage-deflate; server_max_window_bits=10
	// server window: 10 bits; client keeps context: true
}

func ExampleSelectProtocol() {
	offered := []string{"v1.chat", "v2.chat"} // the client's preference
	supported := []string{"v2.chat", "v1.chat"}
	fmt.Println(handshake.SelectProtocol(offered, supported)) // the server's preference wins
	// Output: v2.chat
}
