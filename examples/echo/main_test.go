package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/examples/internal/exampletest"
	"github.com/rfc6455/websocket/internal/testutil"
)

// runMainEnv makes the test binary run main instead of the tests: the
// binary is then the example program, built as go test builds it (with
// the race detector under make test), without a go build of its own.
const runMainEnv = "EXAMPLE_ECHO_RUN_MAIN"

// Every goroutine (handlers, clients, the library's) must be gone at the
// end. With runMainEnv set, the test binary is the example itself (see
// signal_test.go): it runs main and exits.
func TestMain(m *testing.M) {
	exampletest.RunMain(runMainEnv, main)
	testutil.VerifyNoLeaks(m)
}

// server runs echo on 127.0.0.1:0 and returns its ws:// URL and a channel
// that gets a value each time a handler returns.
func server(t *testing.T) (string, <-chan struct{}) {
	t.Helper()
	returned := make(chan struct{}, 64)
	h := &echoServer{stop: context.Background()}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		returned <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/", returned
}

func dial(ctx context.Context, t *testing.T, url string) *websocket.Conn {
	t.Helper()
	c, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func TestEcho(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	url, returned := server(t)
	c := dial(ctx, t, url)

	// The largest message the default limit (1 MiB) lets through. (Larger
	// messages cost seconds under the race detector, which instruments
	// masking.)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<20/16)
	tests := []struct {
		name string
		typ  websocket.MessageType
		data []byte
	}{
		{"text", websocket.TextMessage, []byte("hello")},
		{"empty text", websocket.TextMessage, nil},
		{"multi-byte UTF-8", websocket.TextMessage, []byte("héllo, wörld ✓ 🙂")},
		{"binary with zero and high bytes", websocket.BinaryMessage, []byte{0x00, 0xff, 0x80, 0x7f}},
		{"empty binary", websocket.BinaryMessage, nil},
		{"1 MiB binary, the default limit", websocket.BinaryMessage, big},
		{"text after a large message", websocket.TextMessage, []byte("still here")},
	}
	for _, tt := range tests {
		if err := c.WriteMessage(ctx, tt.typ, tt.data); err != nil {
			t.Fatalf("%s: write: %v", tt.name, err)
		}
		typ, data, err := c.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("%s: read: %v", tt.name, err)
		}
		if typ != tt.typ || !bytes.Equal(data, tt.data) {
			t.Errorf("%s: got %v %q (%d bytes), want %v %q (%d bytes)", tt.name,
				typ, abbrev(data), len(data), tt.typ, abbrev(tt.data), len(tt.data))
		}
	}

	// A normal close: the server answers 1000 and its handler returns.
	if err := c.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Errorf("close: %v", err)
	}
	var ce *websocket.CloseError
	if err := c.Err(); !errors.As(err, &ce) || ce.Code != websocket.StatusNormalClosure {
		t.Errorf("after close: Err() = %v, want a 1000 close", err)
	}
	select {
	case <-returned:
	case <-ctx.Done():
		t.Fatal("the handler did not return after the close handshake")
	}
}

func abbrev(b []byte) []byte {
	if len(b) > 20 {
		return b[:20]
	}
	return b
}

// Each client gets its own messages back, in the order it sent them, while
// others talk at the same time.
func TestEchoConcurrentClients(t *testing.T) {
	const clients, messages = 16, 50
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	url, returned := server(t)

	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		c := dial(ctx, t, url)
		wg.Go(func() {
			for j := range messages {
				want := fmt.Sprintf("client %d message %d", i, j)
				if err := c.SendText(ctx, want); err != nil {
					errs <- err
					return
				}
				_, got, err := c.ReadMessage(ctx)
				if err != nil {
					errs <- err
					return
				}
				if string(got) != want {
					errs <- fmt.Errorf("got %q, want %q", got, want)
					return
				}
			}
			errs <- c.Close(websocket.StatusNormalClosure, "")
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for range clients {
		select {
		case <-returned:
		case <-ctx.Done():
			t.Fatal("not every handler returned")
		}
	}
}

// A request that is not a WebSocket handshake gets an HTTP error and no
// connection.
func TestEchoRefusesPlainHTTP(t *testing.T) {
	url, returned := server(t)
	resp, err := http.Get("http" + strings.TrimPrefix(url, "ws"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 400 || resp.StatusCode > 499 {
		t.Errorf("plain GET: status %d, want 4xx", resp.StatusCode)
	}
	<-returned
}

func TestOrdinaryClose(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&websocket.CloseError{Code: websocket.StatusNormalClosure}, true},
		{&websocket.CloseError{Code: websocket.StatusGoingAway}, true},
		{fmt.Errorf("read: %w", &websocket.CloseError{Code: websocket.StatusNormalClosure}), true},
		{&websocket.CloseError{Code: websocket.StatusProtocolError}, false},
		{&websocket.CloseError{Code: websocket.StatusAbnormalClosure, Err: errors.New("reset")}, false},
		{&websocket.CloseError{Code: websocket.StatusNormalClosure, Err: errors.New("cause")}, false},
		{context.Canceled, false},
	}
	for _, tt := range tests {
		if got := ordinaryClose(tt.err); got != tt.want {
			t.Errorf("ordinaryClose(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// BenchmarkEcho measures one 1 KiB round trip through the echo handler
// over loopback TCP, both ends reusing their buffers (AppendMessage): the
// steady state should not allocate on either side.
func BenchmarkEcho(b *testing.B) {
	srv := httptest.NewServer(&echoServer{stop: context.Background()})
	defer srv.Close()
	ctx := context.Background()
	c, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(websocket.StatusNormalClosure, "")
	msg := bytes.Repeat([]byte("x"), 1024)
	buf := make([]byte, 0, 2048)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if err := c.WriteMessage(ctx, websocket.BinaryMessage, msg); err != nil {
			b.Fatal(err)
		}
		_, data, err := c.AppendMessage(ctx, buf[:0])
		if err != nil {
			b.Fatal(err)
		}
		if len(data) != len(msg) {
			b.Fatalf("echoed %d bytes, want %d", len(data), len(msg))
		}
	}
}
