package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rfc6455/websocket"
)

// testTime is the clock of the chats under test, so messages are golden.
var testTime = time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)

// start runs a chat on 127.0.0.1:0 and returns it with its base URL
// ("http://127.0.0.1:port").
func start(t *testing.T) (*chat, string) {
	t.Helper()
	c := newChat()
	c.now = func() time.Time { return testTime }
	srv := httptest.NewServer(c.routes())
	// Last registered, first run: close the WebSockets, so that the
	// handlers return and srv.Close, which waits for them, can.
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c.closeAll(ctx)
	})
	return c, srv.URL
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// join connects a client and waits until the server counts online
// clients: the presence message that says so is the last one this client
// reads, so whatever is broadcast next reaches it.
func join(ctx context.Context, t *testing.T, base string, online int) *websocket.Conn {
	t.Helper()
	c, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	// A close handshake, not CloseNow: the server logs connections that
	// drop without one.
	t.Cleanup(func() { c.Close(websocket.StatusNormalClosure, "") })
	waitOnline(ctx, t, c, online)
	return c
}

// waitOnline reads until a presence message with n online.
func waitOnline(ctx context.Context, t *testing.T, c *websocket.Conn, n int) {
	t.Helper()
	for {
		m, raw := read(ctx, t, c)
		if m.Kind == "presence" && m.Online == n {
			return
		}
		if m.Kind != "presence" {
			t.Fatalf("waiting for %d online, got %s", n, raw)
		}
	}
}

// read reads one server message, as text, and decodes it.
func read(ctx context.Context, t *testing.T, c *websocket.Conn) (outMessage, string) {
	t.Helper()
	typ, data, err := c.ReadMessage(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if typ != websocket.TextMessage {
		t.Fatalf("read: got a %v message, want text", typ)
	}
	var m outMessage
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("read: %q: %v", data, err)
	}
	return m, string(data)
}

func send(ctx context.Context, t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	if err := c.SendText(ctx, msg); err != nil {
		t.Fatalf("send %s: %v", msg, err)
	}
}

// One client speaks, every client (the speaker too) gets the same bytes;
// a client leaves, the others are told.
func TestChatBroadcast(t *testing.T) {
	ctx := testContext(t)
	_, base := start(t)
	alice := join(ctx, t, base, 1)
	bob := join(ctx, t, base, 2)
	waitOnline(ctx, t, alice, 2)
	carol := join(ctx, t, base, 3)
	waitOnline(ctx, t, alice, 3)
	waitOnline(ctx, t, bob, 3)

	send(ctx, t, alice, `{"name": "alice", "text": "hi all"}`)
	const want = `{"kind":"message","name":"alice","text":"hi all","time":"2026-01-02T15:04:05Z"}`
	for i, c := range []*websocket.Conn{alice, bob, carol} {
		if _, got := read(ctx, t, c); got != want {
			t.Errorf("client %d got %s, want %s", i, got, want)
		}
	}

	if err := carol.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatalf("carol: close: %v", err)
	}
	const left = `{"kind":"presence","online":2}`
	for i, c := range []*websocket.Conn{alice, bob} {
		if _, got := read(ctx, t, c); got != left {
			t.Errorf("client %d got %s, want %s", i, got, left)
		}
	}
}

// Two clients talk at once: both see the same conversation, in the same
// order, each one's own messages in the order it sent them.
func TestChatSameOrderForEveryone(t *testing.T) {
	const each = 25
	ctx := testContext(t)
	_, base := start(t)
	a := join(ctx, t, base, 1)
	b := join(ctx, t, base, 2)
	waitOnline(ctx, t, a, 2)

	var wg sync.WaitGroup
	for _, who := range []struct {
		name string
		c    *websocket.Conn
	}{{"a", a}, {"b", b}} {
		wg.Go(func() {
			for i := range each {
				msg := fmt.Sprintf(`{"name": %q, "text": "%d"}`, who.name, i)
				if err := who.c.SendText(ctx, msg); err != nil {
					t.Errorf("%s: send: %v", who.name, err)
					return
				}
			}
		})
	}
	var seen [2][]string
	for i, c := range []*websocket.Conn{a, b} {
		wg.Go(func() {
			for len(seen[i]) < 2*each {
				_, data, err := c.ReadMessage(ctx)
				if err != nil {
					t.Errorf("client %d: read: %v", i, err)
					return
				}
				var m outMessage
				json.Unmarshal(data, &m)
				seen[i] = append(seen[i], m.Name+m.Text)
			}
		})
	}
	wg.Wait()
	if !slices.Equal(seen[0], seen[1]) {
		t.Fatalf("the clients saw different orders:\n%q\n%q", seen[0], seen[1])
	}
	for _, name := range []string{"a", "b"} {
		var got []string
		for _, s := range seen[0] {
			if text, ok := strings.CutPrefix(s, name); ok {
				got = append(got, text)
			}
		}
		for i, text := range got {
			if text != fmt.Sprint(i) {
				t.Fatalf("%s's messages arrived as %q, want 0 to %d in order", name, got, each-1)
			}
		}
	}
}

// What a client sends is cleaned before everyone sees it. Each input is
// followed by a sentinel message, so "nothing was broadcast" is observable.
func TestChatCleansMessages(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		wantName   string
		wantText   string // "": nothing broadcast
		wantInJSON string // a fragment the broadcast bytes must contain
	}{
		{"as sent", `{"name":"alice","text":"hi"}`, "alice", "hi", ""},
		{"spaces trimmed", `{"name":"  alice  ","text":"  hi  "}`, "alice", "hi", ""},
		{"no name", `{"text":"who am I"}`, "anonymous", "who am I", ""},
		{"blank name", `{"name":" \t ","text":"x"}`, "anonymous", "x", ""},
		{"control characters", `{"name":"bob","text":"line1\nline2\ttab\u0000"}`, "bob", "line1 line2 tab", ""},
		{"blank text: nothing", `{"name":"bob","text":" \n "}`, "", "", ""},
		{"no text: nothing", `{"name":"bob"}`, "", "", ""},
		{"long name cut to 32 runes", `{"name":"` + strings.Repeat("é", 40) + `","text":"x"}`, strings.Repeat("é", 32), "x", ""},
		{"markup stays text", `{"name":"<i>","text":"<script>alert(1)</script>"}`, "<i>", "<script>alert(1)</script>",
			`"text":"\u003cscript\u003ealert(1)\u003c/script\u003e"`},
		{"lone surrogate becomes U+FFFD", `{"name":"bob","text":"\ud800!"}`, "bob", "\uFFFD!", ""},
		{"unknown fields ignored", `{"name":"bob","text":"x","admin":true}`, "bob", "x", ""},
	}
	ctx := testContext(t)
	_, base := start(t)
	c := join(ctx, t, base, 1)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			send(ctx, t, c, tt.in)
			send(ctx, t, c, `{"name":"test","text":"sentinel"}`)
			var got []outMessage
			var raws []string
			for {
				m, raw := read(ctx, t, c)
				if m.Name == "test" && m.Text == "sentinel" {
					break
				}
				got, raws = append(got, m), append(raws, raw)
			}
			if tt.wantText == "" {
				if len(got) != 0 {
					t.Fatalf("broadcast %q, want nothing", raws)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("broadcast %q, want one message", raws)
			}
			if got[0].Kind != "message" || got[0].Name != tt.wantName || got[0].Text != tt.wantText {
				t.Errorf("broadcast %s, want name %q and text %q", raws[0], tt.wantName, tt.wantText)
			}
			if !strings.Contains(raws[0], tt.wantInJSON) {
				t.Errorf("broadcast %s, want it to contain %s", raws[0], tt.wantInJSON)
			}
		})
	}
}

// A client that does not speak the chat's protocol is closed with the
// code that says why.
func TestChatRejects(t *testing.T) {
	tests := []struct {
		name string
		typ  websocket.MessageType
		data string
		want websocket.StatusCode
	}{
		{"binary", websocket.BinaryMessage, `{"name":"a","text":"b"}`, websocket.StatusUnsupportedData},
		{"not JSON", websocket.TextMessage, `hello`, websocket.StatusPolicyViolation},
		{"JSON of the wrong shape", websocket.TextMessage, `{"text": 5}`, websocket.StatusPolicyViolation},
		{"JSON array", websocket.TextMessage, `["a","b"]`, websocket.StatusPolicyViolation},
		{"over 4 KiB", websocket.TextMessage, `{"text":"` + strings.Repeat("x", maxMessageBytes) + `"}`, websocket.StatusMessageTooBig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			c, base := start(t)
			conn := join(ctx, t, base, 1)
			if err := conn.WriteMessage(ctx, tt.typ, []byte(tt.data)); err != nil {
				t.Fatalf("write: %v", err)
			}
			_, data, err := conn.ReadMessage(ctx)
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != tt.want {
				t.Fatalf("after sending %.40s: read %q, %v; want a close with %d (%v)", tt.data, data, err, int(tt.want), tt.want)
			}
			// The server forgets the client.
			deadline := time.Now().Add(5 * time.Second)
			for c.online() != 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if n := c.online(); n != 0 {
				t.Errorf("%d client(s) still online", n)
			}
		})
	}
}

// Shutting down closes every client with 1001.
func TestChatCloseAll(t *testing.T) {
	ctx := testContext(t)
	c, base := start(t)
	a := join(ctx, t, base, 1)
	b := join(ctx, t, base, 2)
	waitOnline(ctx, t, a, 2)

	closed := make(chan error, 1)
	go func() { closed <- c.closeAll(ctx) }()
	for i, conn := range []*websocket.Conn{a, b} {
		for {
			_, data, err := conn.ReadMessage(ctx)
			if err == nil {
				continue // a presence message, as the other one leaves
			}
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.StatusGoingAway || ce.Reason != "server shutting down" {
				t.Errorf("client %d: read %q, %v; want a 1001 close", i, data, err)
			}
			break
		}
	}
	if err := <-closed; err != nil {
		t.Errorf("closeAll: %v", err)
	}
	if n := c.online(); n != 0 {
		t.Errorf("after closeAll: %d client(s) still online", n)
	}
}

// The page and its files are served, with the security headers; /ws
// refuses what is not a WebSocket handshake.
func TestChatHTTP(t *testing.T) {
	_, base := start(t)
	tests := []struct {
		path        string
		status      int
		contentType string // prefix
		body        string // a fragment
		csp         bool
	}{
		{"/", http.StatusOK, "text/html", `<ol id="messages"`, true},
		{"/chat.js", http.StatusOK, "text/javascript", "new WebSocket(url)", true},
		{"/chat.css", http.StatusOK, "text/css", ".text {", true},
		{"/favicon.ico", http.StatusNoContent, "", "", false},
		{"/missing", http.StatusNotFound, "", "", true},
		{"/ws", http.StatusBadRequest, "", "", false},
	}
	for _, tt := range tests {
		resp, err := http.Get(base + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("GET %s: status %d, want %d", tt.path, resp.StatusCode, tt.status)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.contentType) {
			t.Errorf("GET %s: Content-Type %q, want %s...", tt.path, ct, tt.contentType)
		}
		if !strings.Contains(string(body), tt.body) {
			t.Errorf("GET %s: the body lacks %q", tt.path, tt.body)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); tt.csp && !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy %q", tt.path, csp)
		}
	}
}

func TestClean(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"", 5, ""},
		{"hello", 5, "hello"},
		{"  hello  ", 5, "hello"},
		{"hello world", 5, "hello"},
		{"abcd efgh", 5, "abcd"}, // cut after the space: trimmed again
		{"a\nb\tc\rd", 10, "a b c d"},
		{"\x00\x1f\x7f", 10, ""},
		{"\u0085next line", 20, "next line"}, // C1 controls too
		{"ééééé", 3, "ééé"},
		{"日本語テキスト", 3, "日本語"},
		{"🙂🙂🙂", 2, "🙂🙂"},
		{"zero\u200bwidth", 20, "zero\u200bwidth"}, // a format character, not a control: kept
	}
	for _, tt := range tests {
		if got := clean(tt.in, tt.n); got != tt.want {
			t.Errorf("clean(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// FuzzClean checks clean's promises on any input: at most n runes, no
// control characters, no surrounding space, nothing invented (the result
// is the input with controls turned into spaces, trimmed and cut), and
// cleaning twice changes nothing.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"", "alice", "  bob \n", "a\x00b", strings.Repeat("é", 40), "🙂 🙂", "\xff\xfe", "x\u0085y"} {
		f.Add(s, 32)
		f.Add(s, 1)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 0 || n > 2000 {
			return
		}
		got := clean(s, n)
		if c := utf8.RuneCountInString(got); c > n {
			t.Fatalf("clean(%q, %d) = %q: %d runes", s, n, got, c)
		}
		if strings.IndexFunc(got, unicode.IsControl) >= 0 {
			t.Fatalf("clean(%q, %d) = %q: a control character", s, n, got)
		}
		if strings.TrimSpace(got) != got {
			t.Fatalf("clean(%q, %d) = %q: surrounding space", s, n, got)
		}
		mapped := strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return ' '
			}
			return r
		}, s)
		if !strings.Contains(mapped, got) {
			t.Fatalf("clean(%q, %d) = %q: not a part of the input", s, n, got)
		}
		if again := clean(got, n); again != got {
			t.Fatalf("clean is not idempotent: %q, then %q", got, again)
		}
	})
}

func TestOrdinaryClose(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&websocket.CloseError{Code: websocket.StatusNormalClosure}, true},
		{&websocket.CloseError{Code: websocket.StatusGoingAway}, true},
		{&websocket.CloseError{Code: websocket.StatusPolicyViolation}, false},
		{&websocket.CloseError{Code: websocket.StatusAbnormalClosure, Err: io.ErrUnexpectedEOF}, false},
		{context.Canceled, false},
	}
	for _, tt := range tests {
		if got := ordinaryClose(tt.err); got != tt.want {
			t.Errorf("ordinaryClose(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
