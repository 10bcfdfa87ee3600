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

	// Compression, if not nil, offers (client) or accepts (server)
	// permessage-deflate, RFC 7692. Default nil: no compression.
	Compression *CompressionOptions
}

// CompressionOptions configure permessage-deflate (RFC 7692). The zero
// value offers or accepts compression at level 1 with context takeover
// and 32 KiB windows both ways, or whatever less the peer asks for.
//
// Memory: without context takeover a connection holds no compression state
// between messages (compressors and decompressors are pooled). With it, a
// connection keeps its compressor's history and tables (about 3 x 2^bits
// bytes, 96 KiB at 15 bits) once it has sent a compressed message, and
// 2^bits bytes of the peer's history once it has received one. Setting
// ServerNoContextTakeover and ClientNoContextTakeover trades some
// compression ratio for memory on busy servers.
type CompressionOptions struct {
	// Level is the compression level, 1 (fastest, default) to 9 (smallest).
	Level int

	// Threshold is the message size under which messages are sent
	// uncompressed. Default 128 bytes; negative compresses every message.
	// Conn.SetCompression turns compression off and on for the messages
	// that follow.
	Threshold int

	// ServerNoContextTakeover makes the server compress each message on
	// its own (a client asks for it; a server imposes it on itself).
	ServerNoContextTakeover bool

	// ClientNoContextTakeover makes the client compress each message on
	// its own (a server imposes it; a client promises it).
	ClientNoContextTakeover bool

	// ServerMaxWindowBits and ClientMaxWindowBits limit the LZ77 window of
	// the server's and the client's compressor to 2^bits bytes, 8 to 15.
	// Default 0: 15 (32 KiB), or what the peer asks for. Smaller windows
	// cost less memory with context takeover, and compress less.
	ServerMaxWindowBits, ClientMaxWindowBits int
}

func (c *CompressionOptions) deflateConfig() handshake.DeflateConfig {
	return handshake.DeflateConfig{
		ServerNoContextTakeover: c.ServerNoContextTakeover,
		ClientNoContextTakeover: c.ClientNoContextTakeover,
		ServerMaxWindowBits:     c.ServerMaxWindowBits,
		ClientMaxWindowBits:     c.ClientMaxWindowBits,
	}
}

// agreement is what an opening handshake settled besides the key.
type agreement struct {
	protocol string
	deflate  *handshake.DeflateParams // nil: no compression
}

// sessionCompression turns a negotiated permessage-deflate into the
// session's settings, for role (server: true).
func (o *Options) sessionCompression(p *handshake.DeflateParams, server bool) *session.Compression {
	if p == nil {
		return nil
	}
	c := &session.Compression{
		WriteWindowBits:        p.WindowBits(server),
		WriteNoContextTakeover: !p.ContextTakeover(server),
		ReadWindowBits:         p.WindowBits(!server),
		ReadNoContextTakeover:  !p.ContextTakeover(!server),
	}
	if co := o.Compression; co != nil {
		c.Level, c.Threshold = co.Level, co.Threshold
	}
	return c
}

func (o *Options) connConfig(a agreement) *conn.Config {
	cfg := &conn.Config{
		ReadBufferSize:  o.ReadBufferSize,
		WriteBufferSize: o.WriteBufferSize,
		MaxMessageSize:  o.MaxMessageSize,
		WriteTimeout:    o.WriteTimeout,
	}
	if a.deflate != nil {
		cfg.AllowedRsv = frame.Rsv1
	}
	return cfg
}

func (o *Options) sessionOptions(a agreement, server bool) *session.Options {
	return &session.Options{
		Compression:   o.sessionCompression(a.deflate, server),
		FragmentSize:  o.FragmentSize,
		PingInterval:  o.PingInterval,
		PongTimeout:   o.PongTimeout,
		IdleTimeout:   o.IdleTimeout,
		CloseTimeout:  o.CloseTimeout,
		OnMessage:     o.OnMessage,
		OnClose:       o.OnClose,
		Subprotocol:   a.protocol,
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
