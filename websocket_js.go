//go:build js && wasm

// Package websocket, built for the browser (GOOS=js GOARCH=wasm), is a
// WebSocket client over the browser's own WebSocket object: Dial opens
// one, and the *Conn it returns reads, writes and closes with the same
// methods, message types, close codes and errors as the native build's.
// The browser speaks the protocol (framing, masking, pings, the close
// handshake, permessage-deflate); this package turns its events into
// blocking, context-bounded calls. There is no server here: Accept,
// Upgrade and Server exist only in the native build.
//
// A page's Go program:
//
//	c, err := websocket.Dial(ctx, "wss://example.com/echo", nil)
//	if err != nil {
//		return err
//	}
//	defer c.Close(websocket.StatusNormalClosure, "")
//	err = c.SendText(ctx, "hello")
//
// Blocking methods (Dial, the reads, Close, a write waiting for the
// browser's buffer to drain) wait for browser events, which arrive only
// while Go yields to the page: call them from a goroutine, never from
// inside a js.FuncOf callback, which would hold the page's event loop.
package websocket
