package websocket_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
)

type jsonPoint struct {
	X, Y int
	Tag  string `json:"tag,omitempty"`
}

// jsonPair dials an echo server and returns the client.
func jsonPair(t testing.TB) (context.Context, *websocket.Conn) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		var buf []byte
		for {
			typ, data, err := c.AppendMessage(r.Context(), buf[:0])
			if err != nil {
				return
			}
			buf = data
			if err := c.WriteMessage(r.Context(), typ, data); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	c, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(websocket.StatusNormalClosure, "") })
	return ctx, c
}

func TestJSONRoundTrip(t *testing.T) {
	ctx, c := jsonPair(t)
	want := jsonPoint{X: 1, Y: -2, Tag: "<a>"}
	if err := websocket.WriteJSON(ctx, c, want); err != nil {
		t.Fatal(err)
	}
	var got jsonPoint
	if err := websocket.ReadJSON(ctx, c, &got); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("round trip = %+v, want %+v", got, want)
	}
	// The message on the wire is json.Marshal's output: no newline.
	marshalled, _ := json.Marshal(want)
	if err := websocket.WriteJSON(ctx, c, want); err != nil {
		t.Fatal(err)
	}
	typ, data, err := c.ReadMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if typ != websocket.TextMessage || string(data) != string(marshalled) {
		t.Fatalf("wire message = %v %q, want text %q", typ, data, marshalled)
	}
}

func TestReadJSONDecodeErrorKeepsConnection(t *testing.T) {
	ctx, c := jsonPair(t)
	if err := c.WriteMessage(ctx, websocket.BinaryMessage, []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	var p jsonPoint
	err := websocket.ReadJSON(ctx, c, &p)
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("ReadJSON = %v, want a *json.SyntaxError", err)
	}
	// Binary JSON is accepted, and the connection is still open.
	big := jsonPoint{X: 3, Tag: strings.Repeat("x", 10000)}
	if err := websocket.WriteJSON(ctx, c, big); err != nil {
		t.Fatal(err)
	}
	if err := websocket.ReadJSON(ctx, c, &p); err != nil {
		t.Fatal(err)
	}
	if p != big {
		t.Fatalf("after a decode error: got X=%d len(Tag)=%d", p.X, len(p.Tag))
	}
}

func TestWriteJSONUnsupported(t *testing.T) {
	ctx, c := jsonPair(t)
	var ue *json.UnsupportedTypeError
	if err := websocket.WriteJSON(ctx, c, make(chan int)); !errors.As(err, &ue) {
		t.Fatalf("WriteJSON(chan) = %v, want *json.UnsupportedTypeError", err)
	}
	if err := websocket.WriteJSON(ctx, c, 7); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := websocket.ReadJSON(ctx, c, &n); err != nil || n != 7 {
		t.Fatalf("ReadJSON = %d, %v; want 7 (nothing sent for the failed write)", n, err)
	}
}

func BenchmarkWriteJSON(b *testing.B) {
	ctx, c := jsonPair(b)
	v := jsonPoint{X: 1, Y: 2, Tag: "bench"}
	b.Run("WriteJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := websocket.WriteJSON(ctx, c, v); err != nil {
				b.Fatal(err)
			}
			if err := websocket.ReadJSON(ctx, c, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Marshal+WriteMessage", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			data, err := json.Marshal(v)
			if err != nil {
				b.Fatal(err)
			}
			if err := c.WriteMessage(ctx, websocket.TextMessage, data); err != nil {
				b.Fatal(err)
			}
			_, data, err = c.ReadMessage(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if err := json.Unmarshal(data, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
