//go:build js && wasm

// Command wasm is the browser side of interop's TestBrowserClient: a Go
// program built for GOOS=js GOARCH=wasm that runs in headless Chromium
// (index.html loads it with Go's wasm_exec.js), dials the test's server
// at ws://<page host>/ws?case=NAME with the library's browser build, and
// checks what it sees. It ends by setting window.interopResult to
// {failures: [...], extensions: "..."}, the verdict chromium.mjs waits
// for; each failure is logged to the page's console too.
//
// The cases, one connection each (the test's server plays the other side):
//
//	echo        subprotocol, compression, addresses; a read with an expired
//	            context keeps the connection; text and binary through
//	            ReadMessage, AppendMessage, NextReader, NextWriter, Enqueue;
//	            client Close 1000 "done", which the server checks
//	serverclose the server closes with 4001 "bye": the read, Err and
//	            OnClose (once) say so
//	toobig      a message past MaxMessageSize ends the connection, 1009
//	flood       1100 unread messages overflow the read queue, 1008
//	reconnect   a ReconnectingClient redials after the server closes
//	nosuch      a refused handshake (404) fails Dial with a 1006 CloseError;
//	            a bad URL, a cancelled context and HandshakeTimeout (/stall)
//	backpressure a server that reads nothing makes WriteMessage wait for the
//	            browser's buffer, until its context ends; Enqueue never waits;
//	            the server reads once told so on backpressure-release
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall/js"
	"time"

	"github.com/rfc6455/websocket"
)

// checker collects failures.
type checker struct {
	name     string
	failures *[]string
}

func (c checker) fail(format string, args ...any) {
	msg := c.name + ": " + fmt.Sprintf(format, args...)
	js.Global().Get("console").Call("error", msg)
	*c.failures = append(*c.failures, msg)
}

// wantClose checks that err is a *CloseError with code and reason.
func (c checker) wantClose(what string, err error, code websocket.StatusCode, reason string) {
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		c.fail("%s: %v, want a CloseError %d %q", what, err, code, reason)
		return
	}
	if ce.Code != code || ce.Reason != reason {
		c.fail("%s: closed with %d %q, want %d %q", what, ce.Code, ce.Reason, code, reason)
	}
}

// waitDone waits (bounded) for the connection to end.
func (c checker) waitDone(conn *websocket.Conn) {
	select {
	case <-conn.Done():
	case <-time.After(5 * time.Second):
		c.fail("Done not closed 5 s after the connection ended")
	}
}

func main() {
	var failures []string
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	base := "ws://" + js.Global().Get("location").Get("host").String() + "/ws?case="

	extensions := echo(ctx, base+"echo", checker{"echo", &failures})
	serverClose(ctx, base+"serverclose", checker{"serverclose", &failures})
	tooBig(ctx, base+"toobig", checker{"toobig", &failures})
	flood(ctx, base+"flood", checker{"flood", &failures})
	reconnect(ctx, base+"reconnect", checker{"reconnect", &failures})
	dialFail(ctx, base+"nosuch", checker{"dialfail", &failures})
	backpressure(ctx, base+"backpressure", checker{"backpressure", &failures})

	list := make([]any, len(failures))
	for i, f := range failures {
		list[i] = f
	}
	js.Global().Get("console").Call("log", fmt.Sprintf("wasm client: %d failure(s)", len(failures)))
	js.Global().Set("interopResult", map[string]any{"failures": list, "extensions": extensions})
}

// bigMessage is the NextWriter message: large enough that the browser
// compresses it across many frames, patterned so that a shift shows.
func bigMessage() []byte {
	b := make([]byte, 1<<20)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

func echo(ctx context.Context, url string, ch checker) (extensions string) {
	c, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"nope", "chat.v1"}})
	if err != nil {
		ch.fail("dial: %v", err)
		return ""
	}
	defer c.CloseNow()
	if got := c.Subprotocol(); got != "chat.v1" {
		ch.fail("Subprotocol() = %q, want chat.v1", got)
	}
	if !c.Compressed() {
		ch.fail("Compressed() = false: the server accepts permessage-deflate, which Chromium offers")
	}
	if host := js.Global().Get("location").Get("host").String(); c.RemoteAddr().String() != host {
		ch.fail("RemoteAddr() = %q, want %q", c.RemoteAddr(), host)
	}
	if origin := js.Global().Get("location").Get("origin").String(); c.LocalAddr().String() != origin {
		ch.fail("LocalAddr() = %q, want %q", c.LocalAddr(), origin)
	}

	// Reads whose context has ended, before and while waiting: each
	// returns the context's error and the connection stays open.
	expired, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	if _, _, err := c.ReadMessage(expired); !errors.Is(err, context.DeadlineExceeded) {
		ch.fail("read with an expired context: %v, want DeadlineExceeded", err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, _, err := c.ReadMessage(short); !errors.Is(err, context.DeadlineExceeded) {
		ch.fail("read that times out waiting: %v, want DeadlineExceeded", err)
	}
	if err := c.Err(); err != nil {
		ch.fail("Err() after the timed-out reads = %v, want nil", err)
	}

	text := "héllo wörld ✓ 🎉"
	binary := make([]byte, 256)
	for i := range binary {
		binary[i] = byte(i)
	}
	big := bigMessage()
	if err := c.SendText(ctx, "hello"); err != nil {
		ch.fail("SendText: %v", err)
	}
	if err := c.WriteMessage(ctx, websocket.TextMessage, []byte(text)); err != nil {
		ch.fail("WriteMessage text: %v", err)
	}
	if err := c.WriteMessage(ctx, websocket.BinaryMessage, binary); err != nil {
		ch.fail("WriteMessage binary: %v", err)
	}
	w, err := c.NextWriter(ctx, websocket.BinaryMessage)
	if err != nil {
		ch.fail("NextWriter: %v", err)
	} else {
		for p := big; len(p) > 0; p = p[min(len(p), 64<<10):] {
			if _, err := w.Write(p[:min(len(p), 64<<10)]); err != nil {
				ch.fail("NextWriter Write: %v", err)
				break
			}
		}
		if err := w.Close(); err != nil {
			ch.fail("NextWriter Close: %v", err)
		}
	}
	if err := c.Enqueue(websocket.BinaryMessage, nil); err != nil {
		ch.fail("Enqueue an empty message: %v", err)
	}
	if err := c.WriteMessage(ctx, websocket.TextMessage, []byte{0xff}); err == nil {
		ch.fail("WriteMessage of invalid UTF-8 as text: no error")
	}

	// The echoes, through each way of reading.
	typ, data, err := c.ReadMessage(ctx)
	want(ch, "ReadMessage", typ, data, err, websocket.TextMessage, []byte("hello"))
	buf := make([]byte, 0, 64)
	buf = append(buf, "kept:"...)
	typ, data, err = c.AppendMessage(ctx, buf)
	want(ch, "AppendMessage", typ, data, err, websocket.TextMessage, []byte("kept:"+text))
	if err == nil && &data[0] != &buf[0] {
		ch.fail("AppendMessage did not reuse dst, which had room")
	}
	typ, data, err = c.ReadMessage(ctx)
	want(ch, "ReadMessage binary", typ, data, err, websocket.BinaryMessage, binary)
	typ, r, err := c.NextReader(ctx)
	if err != nil {
		ch.fail("NextReader: %v", err)
	} else {
		var got bytes.Buffer
		_, err := io.CopyBuffer(struct{ io.Writer }{&got}, r, make([]byte, 4000)) // Read by Read
		want(ch, "NextReader", typ, got.Bytes(), err, websocket.BinaryMessage, big)
	}
	typ, data, err = c.ReadMessage(ctx)
	want(ch, "ReadMessage empty", typ, data, err, websocket.BinaryMessage, []byte{})

	if s := c.Stats(); s.MessagesIn != 5 || s.MessagesOut != 5 || s.BytesOut != uint64(5+len(text)+len(binary)+len(big)) {
		ch.fail("Stats() = %+v: want 5 messages each way, %d bytes out", s, 5+len(text)+len(binary)+len(big))
	}
	if err := c.Ping(ctx, nil); err == nil {
		ch.fail("Ping: no error; the browser cannot send pings")
	}

	extensions = extensionsOf(c)
	if err := c.Close(websocket.StatusNormalClosure, "done"); err != nil {
		ch.fail("Close: %v", err)
	}
	ch.waitDone(c)
	ch.wantClose("Err() after Close", c.Err(), websocket.StatusNormalClosure, "")
	_, _, err = c.ReadMessage(ctx)
	ch.wantClose("read after Close", err, websocket.StatusNormalClosure, "")
	ch.wantClose("write after Close", c.SendText(ctx, "late"), websocket.StatusNormalClosure, "")
	return extensions
}

// extensionsOf reports what the connection agreed on, for the log.
func extensionsOf(c *websocket.Conn) string {
	if c.Compressed() {
		return "permessage-deflate"
	}
	return ""
}

func want(ch checker, what string, typ websocket.MessageType, data []byte, err error, wantTyp websocket.MessageType, wantData []byte) {
	switch {
	case err != nil:
		ch.fail("%s: %v", what, err)
	case typ != wantTyp:
		ch.fail("%s: type %v, want %v", what, typ, wantTyp)
	case !bytes.Equal(data, wantData):
		ch.fail("%s: %d bytes %.40q, want %d bytes %.40q", what, len(data), data, len(wantData), wantData)
	}
}

func serverClose(ctx context.Context, url string, ch checker) {
	onClose := make(chan error, 2)
	c, err := websocket.Dial(ctx, url, &websocket.DialOptions{Options: websocket.Options{
		OnClose: func(_ *websocket.Conn, err error) { onClose <- err },
	}})
	if err != nil {
		ch.fail("dial: %v", err)
		return
	}
	defer c.CloseNow()
	if err := c.SendText(ctx, "close-me"); err != nil {
		ch.fail("SendText: %v", err)
	}
	_, _, err = c.ReadMessage(ctx)
	ch.wantClose("read", err, 4001, "bye")
	ch.waitDone(c)
	ch.wantClose("Err()", c.Err(), 4001, "bye")
	select {
	case err := <-onClose:
		ch.wantClose("OnClose", err, 4001, "bye")
	case <-time.After(5 * time.Second):
		ch.fail("OnClose not called")
	}
	c.CloseNow()
	select {
	case err := <-onClose:
		ch.fail("OnClose called again, with %v", err)
	case <-time.After(50 * time.Millisecond):
	}
}

func tooBig(ctx context.Context, url string, ch checker) {
	c, err := websocket.Dial(ctx, url, &websocket.DialOptions{Options: websocket.Options{MaxMessageSize: 1024}})
	if err != nil {
		ch.fail("dial: %v", err)
		return
	}
	defer c.CloseNow()
	typ, data, err := c.ReadMessage(ctx)
	want(ch, "the message at the limit", typ, data, err, websocket.BinaryMessage, bytes.Repeat([]byte{'a'}, 1024))
	_, _, err = c.ReadMessage(ctx)
	ch.wantClose("the message past the limit", err, websocket.StatusMessageTooBig, "message too big")
	ch.waitDone(c)
}

func flood(ctx context.Context, url string, ch checker) {
	c, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		ch.fail("dial: %v", err)
		return
	}
	defer c.CloseNow()
	ch.waitDone(c) // reading nothing
	ch.wantClose("Err()", c.Err(), websocket.StatusPolicyViolation, "read queue full")
	// What was queued before the overflow can still be read.
	typ, data, err := c.ReadMessage(ctx)
	want(ch, "the first queued message", typ, data, err, websocket.TextMessage, []byte("0"))
}

func reconnect(ctx context.Context, url string, ch checker) {
	got := make(chan string, 4)
	r, err := websocket.NewReconnectingClient(websocket.ReconnectOptions{
		URLs:       []string{url},
		MinBackoff: 50 * time.Millisecond,
		OnMessage: func(_ *websocket.Conn, _ websocket.MessageType, data []byte) {
			got <- string(data)
		},
	})
	if err != nil {
		ch.fail("NewReconnectingClient: %v", err)
		return
	}
	r.Start()
	defer r.Close()
	for _, w := range []string{"connection 1", "connection 2"} {
		select {
		case m := <-got:
			if m != w {
				ch.fail("got %q, want %q", m, w)
			}
		case <-ctx.Done():
			ch.fail("waiting for %q: %v (state %v)", w, ctx.Err(), r.State())
			return
		}
	}
	if err := r.Close(); err != nil {
		ch.fail("Close: %v", err)
	}
	if s := r.State(); s != websocket.ReconnectStopped {
		ch.fail("State() after Close = %v, want stopped", s)
	}
}

func dialFail(ctx context.Context, url string, ch checker) {
	c, err := websocket.Dial(ctx, url, nil)
	if err == nil {
		c.CloseNow()
		ch.fail("Dial of a URL the server answers with 404: no error")
	} else {
		ch.wantClose("Dial refused", err, websocket.StatusAbnormalClosure, "")
	}
	if _, err := websocket.Dial(ctx, "http://example.com/", nil); !errors.Is(err, websocket.ErrBadURL) {
		ch.fail("Dial of an http:// URL: %v, want ErrBadURL", err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := websocket.Dial(done, url, nil); !errors.Is(err, context.Canceled) {
		ch.fail("Dial with a cancelled context: %v, want context.Canceled", err)
	}
	// /stall never answers the handshake: HandshakeTimeout gives up.
	stall := strings.Replace(url, "/ws?case=nosuch", "/stall", 1)
	start := time.Now()
	_, err = websocket.Dial(ctx, stall, &websocket.DialOptions{HandshakeTimeout: 200 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) {
		ch.fail("Dial of a server that never answers: %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		ch.fail("Dial with HandshakeTimeout 200ms took %v", d)
	}
}

func backpressure(ctx context.Context, url string, ch checker) {
	c, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		ch.fail("dial: %v", err)
		return
	}
	defer c.CloseNow()
	msg := make([]byte, 1<<20)
	wctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	sent := 0
	for ; sent < 256; sent++ { // 256 MiB: far more than the browser and TCP buffer
		if err = c.WriteMessage(wctx, websocket.BinaryMessage, msg); err != nil {
			break
		}
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		ch.fail("writing to a server that reads nothing: %v after %d MiB, want DeadlineExceeded", err, sent)
	}
	if err := c.Err(); err != nil {
		ch.fail("Err() after the write's context ended = %v, want nil", err)
	}
	if err := c.Enqueue(websocket.BinaryMessage, []byte("last")); err != nil {
		ch.fail("Enqueue with the browser's buffer full: %v", err)
	}
	// Tell the server, on another connection, to start reading.
	rel, err := websocket.Dial(ctx, url+"-release", nil)
	if err != nil {
		ch.fail("dial the release: %v", err)
		return
	}
	rel.Close(websocket.StatusNormalClosure, "")
	if err := c.SendText(ctx, "stop"); err != nil { // waits for the server to read
		ch.fail("SendText once the server reads: %v", err)
	}
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		ch.fail("Close: %v", err)
	}
	js.Global().Get("console").Call("log", fmt.Sprintf("backpressure: WriteMessage waited after %d MiB", sent))
}
