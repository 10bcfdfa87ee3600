package websocket_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/rfc6455/websocket"
)

// Serve WebSocket from a net/http server, next to other routes, and talk to
// it with Dial.
func ExampleAccept() {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"echo.v1"}})
		if err != nil {
			return // Accept has answered with the right HTTP status
		}
		defer c.CloseNow()
		for {
			typ, data, err := c.ReadMessage(r.Context())
			if err != nil {
				return // the client closed, or broke the protocol
			}
			if err := c.WriteMessage(r.Context(), typ, data); err != nil {
				return
			}
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/echo"
	c, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"echo.v1"}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(websocket.StatusNormalClosure, "")
	fmt.Println("subprotocol:", c.Subprotocol())

	if err := c.SendText(ctx, "hello"); err != nil {
		log.Fatal(err)
	}
	typ, data, err := c.ReadMessage(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(typ, string(data))
	// Output:
	// subprotocol: echo.v1
	// text hello
}

// Connect to a server, send a message, read the answer and close with the
// close handshake.
func ExampleDial() {
	addr, shutdown := exampleServer(func(c *websocket.Conn, r *websocket.Request) {
		ctx := context.Background()
		_, data, err := c.ReadMessage(ctx)
		if err != nil {
			return
		}
		c.SendText(ctx, "Hi "+string(data)+", from "+r.RequestURI)
	})
	defer shutdown()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := websocket.Dial(ctx, "ws://"+addr+"/greet?lang=en", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.SendText(ctx, "Ann"); err != nil {
		log.Fatal(err)
	}
	_, data, err := c.ReadMessage(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(data))

	// The handler has returned: the server closes with 1000.
	_, _, err = c.ReadMessage(ctx)
	fmt.Println(err)
	// Output:
	// Hi Ann, from /greet?lang=en
	// websocket: closed with 1000 (normal closure)
}

// exampleServer serves handler on a loopback port with a Server.
func exampleServer(handler websocket.Handler) (addr string, shutdown func()) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &websocket.Server{Handler: handler}
	go srv.Serve(l)
	return l.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}
}

// Run a WebSocket server without net/http, and shut it down gracefully:
// every client is told 1001 (going away).
func ExampleServer() {
	srv := &websocket.Server{
		MaxConnections: 100,
		Handler: func(c *websocket.Conn, r *websocket.Request) {
			// Echo until the client or the server closes.
			ctx := context.Background()
			for {
				typ, data, err := c.ReadMessage(ctx)
				if err != nil {
					return
				}
				c.WriteMessage(ctx, typ, data)
			}
		},
	}
	srv.Options.PingInterval = 30 * time.Second // drop dead peers
	l, err := net.Listen("tcp", "127.0.0.1:0")  // or srv.ListenAndServe with srv.Addr
	if err != nil {
		log.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := websocket.Dial(ctx, "ws://"+l.Addr().String()+"/", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	c.WriteMessage(ctx, websocket.BinaryMessage, []byte{1, 2, 3})
	typ, data, _ := c.ReadMessage(ctx)
	fmt.Println(typ, data, "open:", srv.Len())

	go c.Serve(ctx) // a reader answers the server's close frame
	if err := srv.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
	<-c.Done()
	fmt.Println("client:", c.Err())
	fmt.Println("Serve:", <-served)
	// Output:
	// binary [1 2 3] open: 1
	// client: websocket: closed with 1001 (going away): "server shutting down"
	// Serve: websocket: server closed
}

// Push style: Serve reads every message and hands it to OnMessage, which
// may write back; OnClose learns how the session ended (here: the server's
// answer to our close frame, which repeats the code).
func ExampleConn_Serve() {
	srv := &websocket.Server{Handler: func(c *websocket.Conn, r *websocket.Request) {
		c.Serve(context.Background()) // returns when the client closes
	}}
	srv.Options.OnMessage = func(c *websocket.Conn, typ websocket.MessageType, data []byte) {
		// data is only valid during the call; WriteMessage is done with
		// it when it returns.
		c.WriteMessage(context.Background(), typ, []byte(strings.ToUpper(string(data))))
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Shutdown(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan struct{})
	opts := &websocket.DialOptions{}
	opts.OnMessage = func(c *websocket.Conn, typ websocket.MessageType, data []byte) {
		fmt.Println("got", string(data))
		if string(data) == "BYE" {
			go c.Close(websocket.StatusNormalClosure, "done")
		}
	}
	opts.OnClose = func(c *websocket.Conn, err error) {
		fmt.Println("closed:", err)
		close(done)
	}
	c, err := websocket.Dial(ctx, "ws://"+l.Addr().String()+"/", opts)
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range []string{"hello", "world", "bye"} {
		c.SendText(ctx, m)
	}
	if err := c.Serve(ctx); err != nil {
		log.Fatal(err)
	}
	<-done
	// Output:
	// got HELLO
	// got WORLD
	// got BYE
	// closed: websocket: closed with 1000 (normal closure)
}

// Stream a message of unknown length: each Write may send a frame, Close
// sends the last one. The peer reads one whole message.
func ExampleConn_NextWriter() {
	addr, shutdown := exampleServer(func(c *websocket.Conn, r *websocket.Request) {
		ctx := context.Background()
		// NextReader streams the message in, as NextWriter streamed it out.
		typ, rd, err := c.NextReader(ctx)
		if err != nil {
			return
		}
		var b strings.Builder
		n, _ := io.Copy(&b, rd)
		c.SendText(ctx, fmt.Sprintf("server read one %v message of %d bytes: %s", typ, n, b.String()))
	})
	defer shutdown()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	opts := &websocket.DialOptions{}
	opts.FragmentSize = 8 // small frames, to show the streaming
	c, err := websocket.Dial(ctx, "ws://"+addr+"/", opts)
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	w, err := c.NextWriter(ctx, websocket.TextMessage)
	if err != nil {
		log.Fatal(err)
	}
	for _, row := range []string{"alpha,", "beta,", "gamma,", "delta"} {
		fmt.Fprint(w, row)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	_, data, err := c.ReadMessage(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(data))
	// Output:
	// server read one text message of 22 bytes: alpha,beta,gamma,delta
}
