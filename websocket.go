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
// Every limit has a default: messages (32 MiB), the opening handshake's size
// (8 KiB of headers) and time (10 s), the close handshake's time (5 s), and a
// Server's connection count (10,000). Text is checked for valid UTF-8 as it
// arrives, frames are checked against the limits before their payload is
// read, and nothing is allocated from a length the peer declared.
package websocket

import (
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/handshake"
	"github.com/rfc6455/websocket/session"
)

// Conn is a WebSocket connection: a session.Session. See package session
// for its methods and concurrency contract.
type Conn = session.Session

// CloseError reports the close code and reason a connection ended with.
type CloseError = session.CloseError

// MessageType is the type of a data message: TextMessage or BinaryMessage.
type MessageType = session.MessageType

// Message types.
const (
	TextMessage   = session.Text
	BinaryMessage = session.Binary
)

// StatusCode is a close status code (RFC 6455 §7.4).
type StatusCode = frame.StatusCode

// Close status codes.
const (
	StatusNormalClosure           = frame.StatusNormalClosure
	StatusGoingAway               = frame.StatusGoingAway
	StatusProtocolError           = frame.StatusProtocolError
	StatusUnsupportedData         = frame.StatusUnsupportedData
	StatusNoStatusReceived        = frame.StatusNoStatusReceived
	StatusAbnormalClosure         = frame.StatusAbnormalClosure
	StatusInvalidFramePayloadData = frame.StatusInvalidFramePayloadData
	StatusPolicyViolation         = frame.StatusPolicyViolation
	StatusMessageTooBig           = frame.StatusMessageTooBig
	StatusMandatoryExtension      = frame.StatusMandatoryExtension
	StatusInternalError           = frame.StatusInternalError
	StatusServiceRestart          = frame.StatusServiceRestart
	StatusTryAgainLater           = frame.StatusTryAgainLater
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

// Request is the opening handshake request as a server saw it.
type Request = handshake.Request

// Defaults of the handshake limits.
const (
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultMaxHeaderBytes   = 8 << 10
)

// Options are the settings shared by both roles. The zero value gives the
// defaults documented on each field.
type Options struct {
	// ReadBufferSize and WriteBufferSize size the connection's buffers.
	// Default 4096 each; the write buffer is pooled and held only while
	// writing.
	ReadBufferSize, WriteBufferSize int

	// MaxMessageSize is the largest message accepted; a larger one fails
	// the connection with 1009 before its payload is read. Default 32 MiB.
	// Negative means no limit, which lets any peer exhaust memory.
	MaxMessageSize int64

	// FragmentSize is the largest frame an outgoing message is sent in.
	// Default 1 MiB.
	FragmentSize int

	// WriteTimeout bounds each write to the socket. Default 0: none.
	WriteTimeout time.Duration

	// PingInterval, PongTimeout, IdleTimeout and CloseTimeout: see
	// session.Options. Defaults: no heartbeat, no idle timeout, 5 s close
	// handshake.
	PingInterval, PongTimeout, IdleTimeout, CloseTimeout time.Duration

	// SendQueueSize, if positive, gives each connection a bounded queue
	// for Conn.Enqueue and Server.Broadcast, drained by a writer goroutine
	// of its own, so that one slow peer never stalls the sender. A full
	// queue applies SlowPolicy: PolicyBlock waits up to SlowTimeout
	// (default 5 s), PolicyDrop drops the message, PolicyClose closes the
	// connection with SlowCloseCode (default 1013, try again later).
	// Default 0: no queue; Enqueue writes at once.
	SendQueueSize int
	SlowPolicy    SlowPolicy
	SlowTimeout   time.Duration
	SlowCloseCode StatusCode

	// OnMessage, OnClose: push-style callbacks, see session.Options and
	// Conn.Serve.
	OnMessage func(c *Conn, typ MessageType, data []byte)
	OnClose   func(c *Conn, err error)
}

func (o *Options) connConfig() *conn.Config {
	return &conn.Config{
		ReadBufferSize:  o.ReadBufferSize,
		WriteBufferSize: o.WriteBufferSize,
		MaxMessageSize:  o.MaxMessageSize,
		WriteTimeout:    o.WriteTimeout,
	}
}

func (o *Options) sessionOptions(subprotocol string) *session.Options {
	return &session.Options{
		FragmentSize:  o.FragmentSize,
		PingInterval:  o.PingInterval,
		PongTimeout:   o.PongTimeout,
		IdleTimeout:   o.IdleTimeout,
		CloseTimeout:  o.CloseTimeout,
		OnMessage:     o.OnMessage,
		OnClose:       o.OnClose,
		Subprotocol:   subprotocol,
		SendQueueSize: o.SendQueueSize,
		SlowPolicy:    o.SlowPolicy,
		SlowTimeout:   o.SlowTimeout,
		SlowCloseCode: o.SlowCloseCode,
	}
}

func durationOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
