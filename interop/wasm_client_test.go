package interop

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
)

// Our browser build, our server. TestWasmClientChromium builds the program
// in wasm/ for GOOS=js GOARCH=wasm, serves it with Go's wasm_exec.js and
// wasm/index.html beside our server (Accept), and has headless Chromium run
// it (chromium.mjs): the program checks the client's side of each case and
// reports through the page, and the handlers below check the server's.

// A wasmCase is our server's side of a case of wasm/main.go, served at
// /ws?case=NAME: it gets the case's nth connection (from 1) and returns
// its failures, or nil for a connection whose case is judged on another.
type wasmCase func(ctx context.Context, c *websocket.Conn, n int32) []string

// newWasmCases returns the cases of one test.
func newWasmCases() map[string]wasmCase {
	release := make(chan struct{})
	var once sync.Once
	return map[string]wasmCase{
		"echo":        wasmEcho,
		"serverclose": wasmServerClose,
		"toobig":      wasmTooBig,
		"flood":       wasmFlood,
		"reconnect":   wasmReconnect,
		"backpressure": func(ctx context.Context, c *websocket.Conn, _ int32) []string {
			select { // read nothing until the client's writes have waited
			case <-release:
			case <-ctx.Done():
				return []string{"the client never said its writes had waited"}
			}
			return wasmDrain(ctx, c)
		},
		"backpressure-release": func(ctx context.Context, c *websocket.Conn, _ int32) []string {
			once.Do(func() { close(release) })
			_, _, err := c.ReadMessage(ctx)
			return append([]string{}, wantClose("the client's close", err, websocket.StatusNormalClosure, "")...)
		},
	}
}

func TestWasmClientChromium(t *testing.T) {
	chromium := needChromium(t)
	node := needNode(t, "chromium via playwright-core", "playwright-core")
	program, wasmExec := buildWasmClient(t)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()

	cases := newWasmCases()
	results := make(map[string]chan []string)
	conns := make(map[string]*atomic.Int32)
	for name := range cases {
		results[name] = make(chan []string, 1)
		conns[name] = new(atomic.Int32)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("case")
		run, ok := cases[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		opts := &websocket.AcceptOptions{}
		if name == "echo" {
			opts.Subprotocols = []string{"chat.v1"}
			opts.Compression = &websocket.CompressionOptions{}
		}
		c, err := websocket.Accept(w, r, opts) // the page is same-origin
		if err != nil {
			deliverTo(results[name], []string{"accept: " + err.Error()})
			return
		}
		defer c.CloseNow()
		if failures := run(ctx, c, conns[name].Add(1)); failures != nil {
			deliverTo(results[name], failures)
		}
	})
	mux.HandleFunc("/stall", func(w http.ResponseWriter, r *http.Request) {
		select { // never answers: the client's HandshakeTimeout gives up
		case <-r.Context().Done():
		case <-ctx.Done():
		}
	})
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join("wasm", "index.html"))
	})
	mux.HandleFunc("/wasm_exec.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, wasmExec)
	})
	mux.HandleFunc("/client.wasm", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, program) // application/wasm, by the extension
	})
	mux.HandleFunc("/favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	p := startPeer(ctx, t, "chromium", node, "chromium.mjs", srv.URL+"/", chromium)
	p.verdict(ctx, t)
	for name := range cases {
		select {
		case f := <-results[name]:
			report(t, "our server, case "+name, f)
		case <-ctx.Done():
			t.Errorf("our server, case %s: no result: %v", name, ctx.Err())
		}
	}
}

// buildWasmClient builds wasm/ for the browser and returns the program's
// path and that of the toolchain's wasm_exec.js, which must match it.
func buildWasmClient(t *testing.T) (program, wasmExec string) {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		missing(t, "go toolchain", "go on PATH, to build the wasm client")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute) // a cold build cache compiles std for js/wasm
	defer cancel()
	program = filepath.Join(t.TempDir(), "client.wasm")
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", program, ".")
	cmd.Dir = "wasm"
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=js GOARCH=wasm go build ./interop/wasm: %v\n%s", err, out)
	}
	out, err := exec.CommandContext(ctx, goBin, "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	wasmExec = filepath.Join(strings.TrimSpace(string(out)), "lib", "wasm", "wasm_exec.js") // Go 1.24 and later
	if _, err := os.Stat(wasmExec); err != nil {
		t.Fatalf("the toolchain's wasm_exec.js: %v", err)
	}
	return program, wasmExec
}

func deliverTo(ch chan<- []string, failures []string) {
	select {
	case ch <- failures:
	default:
	}
}

// wantClose returns a failure unless err is a *CloseError with code and
// reason.
func wantClose(what string, err error, code websocket.StatusCode, reason string) []string {
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		return []string{fmt.Sprintf("%s: %v, want a CloseError %d %q", what, err, code, reason)}
	}
	if ce.Code != code || ce.Reason != reason {
		return []string{fmt.Sprintf("%s: %d %q, want %d %q", what, ce.Code, ce.Reason, code, reason)}
	}
	return nil
}

// wasmEcho echoes every message until the client closes with 1000 "done".
func wasmEcho(ctx context.Context, c *websocket.Conn, _ int32) []string {
	failures := []string{}
	if c.Subprotocol() != "chat.v1" {
		failures = append(failures, fmt.Sprintf("subprotocol %q, want chat.v1", c.Subprotocol()))
	}
	if !c.Compressed() {
		failures = append(failures, "Chromium did not agree on permessage-deflate")
	}
	for {
		typ, data, err := c.ReadMessage(ctx)
		if err != nil {
			return append(failures, wantClose("the client's close", err, websocket.StatusNormalClosure, "done")...)
		}
		if err := c.WriteMessage(ctx, typ, data); err != nil {
			return append(failures, "echo: "+err.Error())
		}
	}
}

// wasmServerClose closes with 4001 "bye" once the client has spoken.
func wasmServerClose(ctx context.Context, c *websocket.Conn, _ int32) []string {
	failures := []string{}
	if _, data, err := c.ReadMessage(ctx); err != nil || string(data) != "close-me" {
		failures = append(failures, fmt.Sprintf("read %q, %v; want close-me", data, err))
	}
	if err := c.Close(4001, "bye"); err != nil {
		failures = append(failures, "Close: "+err.Error())
	}
	var ce *websocket.CloseError
	if !errors.As(c.Err(), &ce) || ce.Code != 4001 {
		failures = append(failures, fmt.Sprintf("the browser's answer: %v, want 4001", c.Err()))
	}
	return failures
}

// wasmTooBig sends a message at the client's MaxMessageSize (1024) and one
// past it: the client closes, with 1000 since a page cannot send 1009.
func wasmTooBig(ctx context.Context, c *websocket.Conn, _ int32) []string {
	for _, n := range []int{1024, 1025} {
		if err := c.WriteMessage(ctx, websocket.BinaryMessage, []byte(strings.Repeat("a", n))); err != nil {
			return []string{fmt.Sprintf("write %d bytes: %v", n, err)}
		}
	}
	_, _, err := c.ReadMessage(ctx)
	return append([]string{}, wantClose("the client's close", err, websocket.StatusNormalClosure, "message too big")...)
}

// wasmFlood sends more messages than the client's read queue holds while
// it reads none.
func wasmFlood(ctx context.Context, c *websocket.Conn, _ int32) []string {
	for i := range 1100 {
		if err := c.SendText(ctx, fmt.Sprint(i)); err != nil {
			break // the client closed: the read below says how
		}
	}
	_, _, err := c.ReadMessage(ctx)
	return append([]string{}, wantClose("the client's close", err, websocket.StatusNormalClosure, "read queue full")...)
}

// wasmReconnect sends one message on each connection and closes the
// first, which the client's ReconnectingClient redials; the second ends
// when the client is closed.
func wasmReconnect(ctx context.Context, c *websocket.Conn, n int32) []string {
	if err := c.SendText(ctx, fmt.Sprint("connection ", n)); err != nil {
		return []string{fmt.Sprintf("connection %d: %v", n, err)}
	}
	if n == 1 {
		c.Close(websocket.StatusGoingAway, "again")
		return nil // the result is the second connection's
	}
	_, _, err := c.ReadMessage(ctx)
	return append([]string{}, wantClose("the client's close", err, websocket.StatusNormalClosure, "")...)
}

// wasmDrain reads what the client wrote while nothing read: 1 MiB binary
// messages, then "last" (its Enqueue), then the text "stop", then its
// close.
func wasmDrain(ctx context.Context, c *websocket.Conn) []string {
	failures := []string{}
	var prev string
	for n := 0; ; n++ {
		typ, data, err := c.ReadMessage(ctx)
		if err != nil {
			return append(failures, fmt.Sprintf("after %d messages: %v", n, err))
		}
		if typ == websocket.TextMessage {
			if string(data) != "stop" || prev != "last" {
				failures = append(failures, fmt.Sprintf("text %q after %q, want stop after last", data, prev))
			}
			break
		}
		if len(data) != 1<<20 && string(data) != "last" {
			failures = append(failures, fmt.Sprintf("message %d: %d bytes", n, len(data)))
		}
		prev = string(data[:min(len(data), 4)])
	}
	_, _, err := c.ReadMessage(ctx)
	return append(failures, wantClose("the client's close", err, websocket.StatusNormalClosure, "")...)
}
