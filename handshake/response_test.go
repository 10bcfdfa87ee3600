package handshake

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
)

func TestAppendResponse(t *testing.T) {
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	tests := []struct {
		name                 string
		protocol, extensions string
		extra                http.Header
		want                 string
	}{
		{
			name: "RFC 6455 §1.3 example",
			// Legend: status line, the three fields every 101 has,
			// the chosen subprotocol, then the empty line.
			protocol: "chat",
			want: "HTTP/1.1 101 Switching Protocols\r\n" +
				"Upgrade: websocket\r\n" +
				"Connection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
				"Sec-WebSocket-Protocol: chat\r\n" +
				"\r\n",
		},
		{
			name: "bare",
			want: "HTTP/1.1 101 Switching Protocols\r\n" +
				"Upgrade: websocket\r\n" +
				"Connection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
				"\r\n",
		},
		{
			name:       "extensions and extra fields, sorted, filtered",
			extensions: "permessage-deflate; client_max_window_bits=15",
			extra: http.Header{
				"Set-Cookie":           {"a=1", "b=2"},
				"X-Server":             {"test"},
				"Sec-Websocket-Accept": {"forged"}, // the handshake's own: left out
				"connection":           {"close"},  // in any case
				"Content-Length":       {"5"},      // body framing: left out
				"Bad Name":             {"x"},      // not a token: left out
				"X-Injected":           {"a\r\nb"}, // CR LF become spaces
			},
			want: "HTTP/1.1 101 Switching Protocols\r\n" +
				"Upgrade: websocket\r\n" +
				"Connection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
				"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=15\r\n" +
				"Set-Cookie: a=1\r\n" +
				"Set-Cookie: b=2\r\n" +
				"X-Injected: a  b\r\n" +
				"X-Server: test\r\n" +
				"\r\n",
		},
		{
			name:     "control characters in the protocol cannot split the head",
			protocol: "chat\r\nX-Evil: 1",
			want: "HTTP/1.1 101 Switching Protocols\r\n" +
				"Upgrade: websocket\r\n" +
				"Connection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
				"Sec-WebSocket-Protocol: chat  X-Evil: 1\r\n" +
				"\r\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendResponse([]byte("prefix"), key, tt.protocol, tt.extensions, tt.extra)
			if string(got) != "prefix"+tt.want {
				t.Fatalf("AppendResponse =\n%q\nwant\n%q", got, "prefix"+tt.want)
			}
			// net/http reads it as a 101 with nothing after the head.
			resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(got[len("prefix"):])), nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
				t.Errorf("net/http read status %d, accept %q", resp.StatusCode, resp.Header.Get("Sec-WebSocket-Accept"))
			}
		})
	}
}

func TestAppendResponseAllocs(t *testing.T) {
	buf := make([]byte, 0, 512)
	n := testing.AllocsPerRun(100, func() {
		AppendResponse(buf[:0], "dGhlIHNhbXBsZSBub25jZQ==", "chat", "permessage-deflate", nil)
	})
	if n != 0 {
		t.Errorf("AppendResponse allocates %v times", n)
	}
}

func TestAppendErrorResponse(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{
			name: "426 with the version header",
			err:  &Error{StatusCode: 426, Reason: reasonBadVersion, Header: versionHeader()},
			// Legend: status line, err.Header, the fixed fields, the
			// empty line, the reason as the body (33 bytes).
			want: "HTTP/1.1 426 Upgrade Required\r\n" +
				"Sec-Websocket-Version: 13\r\n" +
				"Content-Type: text/plain; charset=utf-8\r\n" +
				"Content-Length: 33\r\n" +
				"Connection: close\r\n" +
				"\r\n" +
				"unsupported Sec-WebSocket-Version",
		},
		{
			name: "400 with Allow, fixed fields not overridable",
			err: &Error{StatusCode: 400, Reason: reasonMethod, Header: http.Header{
				"Allow": {"GET"}, "Content-Length": {"0"}, "Connection": {"keep-alive"},
			}},
			want: "HTTP/1.1 400 Bad Request\r\n" +
				"Allow: GET\r\n" +
				"Content-Type: text/plain; charset=utf-8\r\n" +
				"Content-Length: 18\r\n" +
				"Connection: close\r\n" +
				"\r\n" +
				"method must be GET",
		},
		{
			name: "431",
			err:  &Error{StatusCode: 431, Reason: reasonHeadTooLarge},
			want: "HTTP/1.1 431 Request Header Fields Too Large\r\n" +
				"Content-Type: text/plain; charset=utf-8\r\n" +
				"Content-Length: 22\r\n" +
				"Connection: close\r\n" +
				"\r\n" +
				"request head too large",
		},
		{
			name: "unknown status text",
			err:  &Error{StatusCode: 499, Reason: "x"},
			want: "HTTP/1.1 499 Status 499\r\n" +
				"Content-Type: text/plain; charset=utf-8\r\n" +
				"Content-Length: 1\r\n" +
				"Connection: close\r\n" +
				"\r\n" +
				"x",
		},
		{
			name: "impossible status becomes 500",
			err:  &Error{StatusCode: 42, Reason: ""},
			want: "HTTP/1.1 500 Internal Server Error\r\n" +
				"Content-Type: text/plain; charset=utf-8\r\n" +
				"Content-Length: 0\r\n" +
				"Connection: close\r\n" +
				"\r\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendErrorResponse(nil, tt.err)
			if string(got) != tt.want {
				t.Fatalf("AppendErrorResponse =\n%q\nwant\n%q", got, tt.want)
			}
			resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(got)), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if string(body) != tt.err.Reason || !resp.Close {
				t.Errorf("net/http read body %q, close %v", body, resp.Close)
			}
		})
	}
}

// TestWriteErrorMatchesAppendErrorResponse: a refusal written through
// net/http has the status, fields and body of the raw one.
func TestWriteErrorMatchesAppendErrorResponse(t *testing.T) {
	for _, e := range []*Error{
		badRequest(reasonNoKey),
		{StatusCode: 426, Reason: reasonBadVersion, Header: versionHeader()},
		{StatusCode: 400, Reason: reasonMethod, Header: http.Header{"Allow": {"GET"}}},
		headTooLarge(),
		{StatusCode: 503, Reason: "too many connections", Header: http.Header{"Retry-After": {"1"}}},
		{StatusCode: 7, Reason: "odd", Header: http.Header{
			"X-Bad":          {"a\r\nInjected: yes"},
			"Content-Length": {"99"},
			"Connection":     {"keep-alive"},
			"Bad Name":       {"v"},
		}},
	} {
		raw, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(AppendErrorResponse(nil, e))), nil)
		if err != nil {
			t.Fatal(err)
		}
		rawBody, _ := io.ReadAll(raw.Body)
		if !raw.Close {
			t.Fatalf("%v: AppendErrorResponse does not close", e)
		}
		raw.Header["Connection"] = []string{"close"} // ReadResponse takes it out into Close
		rec := httptest.NewRecorder()
		WriteError(rec, e)
		got := rec.Result()
		gotBody, _ := io.ReadAll(got.Body)
		if got.StatusCode != raw.StatusCode || string(gotBody) != string(rawBody) {
			t.Errorf("%v: WriteError gives %d %q, AppendErrorResponse %d %q", e, got.StatusCode, gotBody, raw.StatusCode, rawBody)
		}
		if !reflect.DeepEqual(got.Header, raw.Header) {
			t.Errorf("%v: WriteError's fields %v, AppendErrorResponse's %v", e, got.Header, raw.Header)
		}
	}
}
