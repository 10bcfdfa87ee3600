package websocket_test

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/rfc6455/websocket"
)

// Speak a byte-stream protocol over a WebSocket: NetConn makes a Conn a
// net.Conn, here for a line protocol that both ends read with bufio. Each
// Write is one binary message; Read sees the messages as one stream.
func ExampleNetConn() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		nc := websocket.NetConn(c, websocket.BinaryMessage)
		defer nc.Close()
		lines := bufio.NewScanner(nc)
		for lines.Scan() { // until io.EOF: the client's Close
			fmt.Fprintln(nc, strings.ToUpper(lines.Text()))
		}
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		log.Fatal(err)
	}
	nc := websocket.NetConn(c, websocket.BinaryMessage)
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))

	fmt.Fprint(nc, "hello\nwebsocket\n")
	replies := bufio.NewReader(nc)
	for range 2 {
		line, err := replies.ReadString('\n')
		if err != nil {
			log.Fatal(err)
		}
		fmt.Print(line)
	}
	// Output:
	// HELLO
	// WEBSOCKET
}
