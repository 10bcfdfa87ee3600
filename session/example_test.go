package session_test

import (
	"bytes"
	"context"
	"fmt"
	"net"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/session"
)

// open returns a client and a server session over a loopback TCP
// connection. A real server and client get there through the opening
// handshake (the websocket package's Accept and Dial), which also fills in
// the options it agreed on (Subprotocol, Compression).
func open(serverOpts *session.Options) (client, server *session.Session) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		nc, _ := ln.Accept()
		accepted <- nc
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		panic(err)
	}
	cc := conn.New(nc, conn.Client, nil)
	sc := conn.New(<-accepted, conn.Server, nil)
	cc.Open(nil) // nil: no bytes read past the handshake
	sc.Open(nil)
	return session.New(cc, nil), session.New(sc, serverOpts)
}

// Pull style: the server reads each message and writes it back; the
// client's Close runs the close handshake, which ends the server's read.
func Example() {
	ctx := context.Background()
	client, server := open(nil)
	go func() {
		for {
			typ, data, err := server.ReadMessage(ctx)
			if err != nil {
				return // the session ended; server.Err says how
			}
			server.WriteMessage(ctx, typ, data)
		}
	}()

	client.WriteMessage(ctx, frame.OpText, []byte("hello"))
	typ, data, err := client.ReadMessage(ctx)
	fmt.Println(typ, string(data), err)

	client.Close(frame.StatusNormalClosure, "done")
	<-server.Done()
	fmt.Println(server.Err())
	// Output:
	// text hello <nil>
	// websocket: closed with 1000 (normal closure): "done"
}

// Push style: Serve reads until the session ends and hands each message to
// OnMessage, whose data is valid only during the call. Serve returns nil
// after a close handshake.
func ExampleSession_Serve() {
	ctx := context.Background()
	client, server := open(&session.Options{
		OnMessage: func(s *session.Session, typ frame.Opcode, data []byte) {
			s.WriteMessage(ctx, typ, bytes.ToUpper(data))
		},
	})
	served := make(chan error, 1)
	go func() { served <- server.Serve(ctx) }()

	for _, m := range []string{"one", "two"} {
		client.WriteMessage(ctx, frame.OpText, []byte(m))
		_, data, _ := client.ReadMessage(ctx)
		fmt.Println(string(data))
	}
	client.Close(frame.StatusNormalClosure, "")
	fmt.Println("Serve:", <-served)
	// Output:
	// ONE
	// TWO
	// Serve: <nil>
}

// ServeDetached is Serve on goroutines of the session's own: it returns at
// once, and done reports the end. A server with many idle connections uses
// it so that an idle connection costs no grown stack and no message
// buffer.
func ExampleSession_ServeDetached() {
	ctx := context.Background()
	client, server := open(&session.Options{
		OnMessage: func(s *session.Session, typ frame.Opcode, data []byte) {
			s.WriteMessage(ctx, typ, data)
		},
	})
	ended := make(chan error, 1)
	server.ServeDetached(ctx, func(err error) { ended <- err })

	client.WriteMessage(ctx, frame.OpBinary, []byte{1, 2, 3})
	_, data, _ := client.ReadMessage(ctx)
	fmt.Println(data)
	client.Close(frame.StatusGoingAway, "bye")
	fmt.Println("done:", <-ended)
	// Output:
	// [1 2 3]
	// done: <nil>
}
