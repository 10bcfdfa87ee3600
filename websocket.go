//go:build !js

// Package websocket is a WebSocket (RFC 6455) server and client written from
// the RFC with nothing but the standard library.
//
// This package is the front door: Accept upgrades a net/http request, Upgrade
// upgrades a raw net.Conn (without net/http), Dial connects to a ws:// or
// wss:// URL, and Server listens, limits connections and shuts down
// gracefully. All of them hand back a *Conn, a message-level session (package
// session) over a frame-level transport (package conn).
//
// A server:
//
//	http.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
//		c, err := websocket.Accept(w, r, nil)
//		if err != nil {
//			return // Accept has answered with the right HTTP status
//		}
//		defer c.CloseNow()
//		for {
//			typ, data, err := c.ReadMessage(r.Context())
//			if err != nil {
//				return
//			}
//			if err := c.WriteMessage(r.Context(), typ, data); err != nil {
//				return
//			}
//		}
//	})
//
// A client:
//
//	c, err := websocket.Dial(ctx, "ws://localhost:8080/echo", nil)
//	if err != nil {
//		return err
//	}
//	defer c.Close(websocket.StatusNormalClosure, "")
//	err = c.SendText(ctx, "hello")
//
// # Safe defaults
//
// Every limit has a default: messages (1 MiB), the memory all of a server's
// messages may hold at once (a Budget sized from the machine), the opening
// handshake's size (16 KiB of headers) and time (10 s), the close
// handshake's time (5 s), and a Server's connection count (10,000). Text is checked for valid UTF-8 as it
// arrives, frames are checked against the limits before their payload is
// read, and nothing is allocated from a length the peer declared.
package websocket

import (
	"github.com/rfc6455/websocket/handshake"
	"github.com/rfc6455/websocket/session"
)

// SlowPolicy is what a full send queue does with another message: see
// Options.SendQueueSize.
type SlowPolicy = session.SlowPolicy

// Slow-consumer policies.
const (
	PolicyBlock = session.PolicyBlock
	PolicyDrop  = session.PolicyDrop
	PolicyClose = session.PolicyClose
)

// BroadcastResult counts what Server.Broadcast did with each connection:
// sent (queued, or written), dropped (by PolicyDrop or PolicyBlock's
// timeout) or closed (by PolicyClose, or already ended).
type BroadcastResult = session.BroadcastResult

// Request is the opening handshake request as a server saw it.
type Request = handshake.Request

// HandshakeError is a server's refusal of an opening handshake: the HTTP
// status, a reason sent as the body, and extra header fields. Accept and
// Upgrade return one for a request they refused; AcceptOptions.OnRequest
// returns one to refuse with a status of its own, such as
//
//	&websocket.HandshakeError{StatusCode: http.StatusUnauthorized, Reason: "sign in",
//		Header: http.Header{"Www-Authenticate": {`Bearer realm="chat"`}}}
type HandshakeError = handshake.Error
