package websocket_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/rfc6455/websocket"
)

// Exchange JSON values: WriteJSON sends one text message per value, and
// ReadJSON decodes the next message into a value.
func ExampleWriteJSON() {
	type greeting struct {
		Name  string `json:"name"`
		Count int    `json:"count"`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		var g greeting
		if err := websocket.ReadJSON(r.Context(), c, &g); err != nil {
			return
		}
		g.Count++
		websocket.WriteJSON(r.Context(), c, g)
		c.Close(websocket.StatusNormalClosure, "")
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	if err := websocket.WriteJSON(ctx, c, greeting{Name: "gopher", Count: 1}); err != nil {
		log.Fatal(err)
	}
	var reply greeting
	if err := websocket.ReadJSON(ctx, c, &reply); err != nil {
		log.Fatal(err)
	}
	fmt.Println(reply.Name, reply.Count)
	// Output: gopher 2
}
