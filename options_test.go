package websocket_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
)

// TestOptionsPingPongHooks: OnPing and OnPong, reachable from the front
// door, see each ping's and pong's payload with the Conn that read it.
func TestOptionsPingPongHooks(t *testing.T) {
	ctx := testCtx(t)
	pings := make(chan []byte, 1)
	srv, _ := acceptServer(t, &websocket.AcceptOptions{Options: websocket.Options{
		OnPing: func(c *websocket.Conn, p []byte) { pings <- bytes.Clone(p) },
	}}, nil)
	var (
		mu      sync.Mutex
		pongs   [][]byte
		pongsOn *websocket.Conn
	)
	c, err := websocket.Dial(ctx, wsURL(srv, "/"), &websocket.DialOptions{Options: websocket.Options{
		OnPong: func(c *websocket.Conn, p []byte) {
			mu.Lock()
			pongs = append(pongs, bytes.Clone(p))
			pongsOn = c
			mu.Unlock()
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.Ping(ctx, []byte("are you there")); err != nil {
		t.Fatal(err)
	}
	if got := <-pings; string(got) != "are you there" {
		t.Errorf("server's OnPing got %q", got)
	}
	// The pong is read by the client's reader: one echo round trip later
	// it has been seen.
	echoOnce(t, c, "after the ping")
	mu.Lock()
	defer mu.Unlock()
	if len(pongs) != 1 || string(pongs[0]) != "are you there" || pongsOn != c {
		t.Errorf("client's OnPong got %q on %p, want one %q on %p", pongs, pongsOn, "are you there", c)
	}
}

// TestOptionsMaxFrameSize: a frame larger than MaxFrameSize fails the
// connection with 1009, while a message of the same size in smaller frames
// passes.
func TestOptionsMaxFrameSize(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		_, addr := startPush(t, mode, func(s *websocket.Server) { s.Options.MaxFrameSize = 10 })
		p := dialRaw(t, addr)
		p.send(false, 0, frame.OpText, []byte("0123456789"))
		p.send(true, 0, frame.OpContinuation, []byte("abcdefghij"))
		p.expectFrame(frame.OpText, []byte("0123456789abcdefghij"))
		p.send(true, 0, frame.OpText, []byte("0123456789a"))
		p.expectClose(websocket.StatusMessageTooBig)
	})
}

// TestOptionsOnStateChange: the hook sees the connection go from
// Connected to Closing when the close handshake starts, then to Closed,
// with the Conn the server handed out; not the Connecting to Connected of
// before the Conn existed.
func TestOptionsOnStateChange(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		type change struct {
			c        *websocket.Conn
			from, to conn.State
		}
		var (
			mu      sync.Mutex
			changes []change
		)
		closed := make(chan struct{})
		srv, addr := startPush(t, mode, func(s *websocket.Server) {
			s.Options.OnStateChange = func(c *websocket.Conn, from, to conn.State) {
				mu.Lock()
				changes = append(changes, change{c, from, to})
				mu.Unlock()
			}
			s.Options.OnClose = func(*websocket.Conn, error) { close(closed) }
		})
		p := dialRaw(t, addr)
		sc := serverConn(t, srv)
		p.send(true, 0, frame.OpClose, frame.AppendClosePayload(nil, websocket.StatusNormalClosure, ""))
		p.expectFrameClose(websocket.StatusNormalClosure)
		<-closed
		mu.Lock()
		defer mu.Unlock()
		want := []change{{sc, conn.Connected, conn.Closing}, {sc, conn.Closing, conn.Closed}}
		if !slices.Equal(changes, want) {
			t.Errorf("state changes %v, want %v", changes, want)
		}
	})
}

// TestServerOnConnectRange: OnConnect sees each connection once it is
// registered, before its first message; Range visits the open ones.
func TestServerOnConnectRange(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode websocket.IOMode) {
		const n = 3
		connected := make(chan *websocket.Conn, n)
		srv, addr := startPush(t, mode, func(s *websocket.Server) {
			s.OnConnect = func(c *websocket.Conn) {
				c.Set("greeted", true)
				connected <- c
			}
			s.Options.OnMessage = func(c *websocket.Conn, typ websocket.MessageType, data []byte) {
				if v, _ := c.Get("greeted"); v != true {
					data = []byte("OnMessage before OnConnect")
				}
				echoPush(c, typ, data)
			}
		})
		peers := make([]*rawPeer, n)
		for i := range peers {
			peers[i] = dialRaw(t, addr)
			peers[i].send(true, 0, frame.OpText, []byte("hi"))
		}
		for _, p := range peers {
			p.expectFrame(frame.OpText, []byte("hi"))
		}
		seen := map[*websocket.Conn]bool{}
		for range n {
			seen[<-connected] = true
		}
		var ranged []*websocket.Conn
		srv.Range(func(c *websocket.Conn) bool { ranged = append(ranged, c); return true })
		if len(ranged) != n || len(seen) != n {
			t.Fatalf("Range saw %d connections, OnConnect %d; want %d", len(ranged), len(seen), n)
		}
		for _, c := range ranged {
			if !seen[c] {
				t.Errorf("Range gave %p, which OnConnect never saw", c)
			}
		}
		stopped := 0
		srv.Range(func(*websocket.Conn) bool { stopped++; return false })
		if stopped != 1 {
			t.Errorf("Range went on after fn returned false: %d calls", stopped)
		}
	})
}

// TestConnCallbacksGetTheirConn: OnMessage and OnClose receive the very
// Conn that Dial returned, and a cancelled read leaves it open.
func TestConnCallbacksGetTheirConn(t *testing.T) {
	ctx := testCtx(t)
	srv, _ := acceptServer(t, nil, nil)
	var got []*websocket.Conn
	var closeErr error
	done := make(chan struct{})
	c, err := websocket.Dial(ctx, wsURL(srv, "/"), &websocket.DialOptions{Options: websocket.Options{
		OnMessage: func(c *websocket.Conn, _ websocket.MessageType, _ []byte) {
			got = append(got, c)
			c.Close(websocket.StatusNormalClosure, "")
		},
		OnClose: func(c *websocket.Conn, err error) {
			got = append(got, c)
			closeErr = err
			close(done)
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := c.ReadMessage(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("ReadMessage with a cancelled context: %v", err)
	}
	if err := c.SendText(ctx, "echo me"); err != nil {
		t.Fatal(err)
	}
	if err := c.Serve(ctx); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	<-done
	if len(got) != 2 || got[0] != c || got[1] != c {
		t.Errorf("callbacks got %v, want the Dial's Conn %p twice", got, c)
	}
	var ce *websocket.CloseError
	if !errors.As(closeErr, &ce) || ce.Code != websocket.StatusNormalClosure {
		t.Errorf("OnClose: %v, want a 1000 CloseError", closeErr)
	}
}
