// Command chat is a broadcast chat server: a small web page where everyone
// connected sees every message anyone sends.
//
//	go run ./examples/chat -addr 127.0.0.1:8080
//
// then open http://127.0.0.1:8080/ in two browser tabs.
//
// The page (static/, embedded in the binary) talks JSON to /ws. A client
// sends
//
//	{"name": "alice", "text": "hello"}
//
// and every client, the sender included, receives
//
//	{"kind": "message", "name": "alice", "text": "hello", "time": "2026-01-02T15:04:05Z"}
//
// and, whenever someone joins or leaves,
//
//	{"kind": "presence", "online": 2}
//
// The server encodes each message once and hands the same bytes to every
// client; broadcasts are serialized, so every client sees the messages in
// the same order. A client that sends binary gets 1003, one that sends
// something else than the JSON above gets 1008, one that sends more than
// 4 KiB gets 1009. On SIGINT or SIGTERM the server stops accepting and
// closes every connection with 1001 (going away).
package main

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/examples/internal/graceful"
)

//go:embed static
var static embed.FS

// Limits on what a client may send.
const (
	maxMessageBytes = 4 << 10 // one chat message in JSON; past it: 1009
	maxNameRunes    = 32
	maxTextRunes    = 1000
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()

	// SIGINT (Ctrl-C) and SIGTERM (docker stop, systemd, kill) end ctx.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr); err != nil {
		log.Fatal(err)
	}
}

// run serves the chat on addr until ctx ends, then shuts down: it stops
// accepting, closes every client with 1001 (going away) and waits, at most
// graceful.Timeout, for the close handshakes.
func run(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	log.Printf("chat: open http://%s/", ln.Addr())
	c := newChat()
	return graceful.Serve(ctx, "chat", ln, c.routes(), c.closeAll)
}

// chat is the server: its page, its /ws endpoint and the connected
// clients.
type chat struct {
	// mu guards clients and serializes broadcasts, so every client sees
	// the same order, and a presence count is never overtaken by an
	// older one.
	mu      sync.Mutex
	clients map[*websocket.Conn]struct{} // every connected client, until its Serve returns
	accept  websocket.AcceptOptions
	now     func() time.Time // the clock stamped on messages; tests fix it
}

func newChat() *chat {
	c := &chat{clients: make(map[*websocket.Conn]struct{}), now: time.Now}
	c.accept = websocket.AcceptOptions{
		// The page is served from this origin, which the default Origin
		// policy allows; pages of other sites are refused.
		Options: websocket.Options{
			MaxMessageSize: maxMessageBytes,
			// Finds browsers that vanished without a close (a laptop lid
			// shut): no pong within 30 s ends the connection.
			PingInterval: 30 * time.Second,
			// Each client has a queue of its own, so a broadcast never
			// waits for a slow one; a client that falls 64 messages
			// behind is closed with 1013 (try again later) and its page
			// reconnects. WriteTimeout bounds a write to a dead peer.
			SendQueueSize: 64,
			SlowPolicy:    websocket.PolicyClose,
			WriteTimeout:  5 * time.Second,
			OnMessage:     c.onMessage,
		},
	}
	return c
}

// routes returns the chat's HTTP handler: the page at / and the WebSocket
// endpoint at /ws.
func (c *chat) routes() http.Handler {
	files, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // static is embedded: it cannot be missing
	}
	fileServer := http.FileServerFS(files)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", c.serveWS)
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		// The page runs only its own script and connects only to its
		// own origin ('self' covers ws: and wss: to the same host), so
		// an injected message could not run or exfiltrate anything even
		// if the page ever rendered one as HTML.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		fileServer.ServeHTTP(w, r)
	})
	return mux
}

// serveWS upgrades the request, puts the client in the room and reads its
// messages until it leaves.
func (c *chat) serveWS(w http.ResponseWriter, r *http.Request) {
	conn, err := websocket.Accept(w, r, &c.accept)
	if err != nil {
		return // Accept has answered with the right HTTP status
	}
	defer conn.CloseNow()
	c.mu.Lock()
	c.clients[conn] = struct{}{}
	c.mu.Unlock()
	c.broadcastPresence()
	// Serve hands each message to onMessage, on this goroutine, and
	// returns once the connection has ended.
	if err := conn.Serve(r.Context()); err != nil && !ordinaryClose(err) {
		log.Printf("chat: %s: %v", r.RemoteAddr, err)
	}
	c.mu.Lock()
	delete(c.clients, conn)
	c.mu.Unlock()
	c.broadcastPresence()
}

// inMessage is what a client sends.
type inMessage struct {
	Name string `json:"name"`
	Text string `json:"text"`
}

// outMessage is what every client receives: a chat message or the number
// of people online.
type outMessage struct {
	Kind   string `json:"kind"` // "message" or "presence"
	Name   string `json:"name,omitempty"`
	Text   string `json:"text,omitempty"`
	Time   string `json:"time,omitempty"` // RFC 3339, UTC
	Online int    `json:"online,omitempty"`
}

// onMessage checks one client message and broadcasts it.
func (c *chat) onMessage(conn *websocket.Conn, typ websocket.MessageType, data []byte) {
	if typ != websocket.TextMessage {
		conn.Close(websocket.StatusUnsupportedData, "text messages only")
		return
	}
	var in inMessage
	if err := json.Unmarshal(data, &in); err != nil {
		conn.Close(websocket.StatusPolicyViolation, "expected {\"name\": ..., \"text\": ...}")
		return
	}
	text := clean(in.Text, maxTextRunes)
	if text == "" {
		return // nothing to say
	}
	name := clean(in.Name, maxNameRunes)
	if name == "" {
		name = "anonymous"
	}
	c.broadcast(outMessage{Kind: "message", Name: name, Text: text, Time: c.now().UTC().Format(time.RFC3339)})
}

func (c *chat) broadcastPresence() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.send(outMessage{Kind: "presence", Online: c.onlineLocked()})
}

// online returns the number of clients connected now.
func (c *chat) online() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.onlineLocked()
}

// onlineLocked is online with c.mu held. A client whose connection has
// ended no longer counts, even before its serveWS has taken it out.
func (c *chat) onlineLocked() int {
	n := 0
	for conn := range c.clients {
		if conn.Err() == nil {
			n++
		}
	}
	return n
}

func (c *chat) broadcast(m outMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.send(m)
}

// send encodes m and hands it to every client's send queue; c.mu is
// held. Enqueue does not wait for the write, so a slow client delays no
// other: its queue fills, and then its SlowPolicy closes it.
func (c *chat) send(m outMessage) {
	data, err := json.Marshal(m)
	if err != nil {
		panic(err) // strings and ints always encode
	}
	for conn := range c.clients {
		conn.Enqueue(websocket.TextMessage, data) // an error has ended conn: its Serve returns
	}
}

// closeAll closes every client's connection with 1001 (going away), all at
// once, and waits for the close handshakes, at most until ctx ends; then it
// closes the rest at once.
func (c *chat) closeAll(ctx context.Context) error {
	c.mu.Lock()
	conns := make([]*websocket.Conn, 0, len(c.clients))
	for conn := range c.clients {
		conns = append(conns, conn)
	}
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, conn := range conns {
		wg.Go(func() { conn.Close(websocket.StatusGoingAway, "server shutting down") })
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		for _, conn := range conns {
			conn.CloseNow()
		}
		<-done
		return ctx.Err()
	}
}

// clean trims s, turns control characters (newlines included) into
// spaces, and cuts it to at most n runes. json.Unmarshal has already
// replaced invalid UTF-8 with U+FFFD.
func clean(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > n {
		i := 0
		for range n {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
		}
		s = strings.TrimSpace(s[:i])
	}
	return s
}

// ordinaryClose reports whether err is how a client normally leaves: a
// close handshake with 1000, or 1001 from a browser leaving the page.
func ordinaryClose(err error) bool {
	var ce *websocket.CloseError
	return errors.As(err, &ce) && ce.Err == nil &&
		(ce.Code == websocket.StatusNormalClosure || ce.Code == websocket.StatusGoingAway)
}
