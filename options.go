//go:build !js

package websocket

import (
	"net"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/handshake"
	"github.com/rfc6455/websocket/internal/defaults"
	"github.com/rfc6455/websocket/session"
)

// Options are the settings shared by both roles. The zero value gives the
// defaults documented on each field.
type Options struct {
	// ReadBufferSize is the size of the buffer frames are read into, held
	// while the connection is open (except by an idle connection on an
	// event loop). WriteBufferSize is the size of the buffer frames are
	// encoded into, pooled and held only while writing. Default 4096 each.
	ReadBufferSize, WriteBufferSize int

	// MaxMessageSize is the largest message accepted, after
	// decompression; a larger one fails the connection with 1009 as soon
	// as its size is known, before its payload is read (a compressed one
	// once its output passes the limit). Default 1 MiB, a production
	// default: application messages are bytes to kilobytes, larger data
	// is better sent in pieces, and the limit is how much of a server's
	// memory budget (AcceptOptions.Budget) one message may take. Raise it
	// for an application that sends large messages (the Autobahn
	// testsuite needs 16 MiB, and its testees set 32 MiB). Negative means
	// no limit, which lets any peer exhaust memory (a Budget still bounds
	// a server's connections together).
	MaxMessageSize int64

	// MaxFrameSize is the largest frame payload accepted; a larger frame
	// fails the connection with 1009 before its payload is read. Default:
	// MaxMessageSize. Lower it to refuse peers that send a message in one
	// huge frame while allowing large fragmented messages.
	MaxFrameSize int64

	// FragmentSize is the largest frame an outgoing message is sent in;
	// longer messages are split. Default 1 MiB. Smaller frames let pings
	// through sooner during a long message; each frame costs 2 to 14 bytes.
	FragmentSize int

	// WriteTimeout bounds each write to the socket; a write that takes
	// longer fails the connection. Default 0: none, beyond the contexts
	// of the writing calls.
	WriteTimeout time.Duration

	// PingInterval, if positive, sends a ping that often; the pong must
	// arrive within PongTimeout (default PingInterval) or the connection
	// ends with ErrPongTimeout. Default 0: no heartbeat.
	//
	// A running reader (Serve, a ReadMessage loop, a push-style Server)
	// sees the pongs. A connection that nobody reads, such as a client
	// that only writes, keeps its heartbeat too: while no reader runs,
	// the heartbeat reads the control frames itself (pongs, the peer's
	// pings and its close frame), and gives way to a reader as soon as
	// one starts. That costs such a connection a goroutine parked in the
	// read and two deadline changes every half PingInterval (nothing on
	// an event loop, which always reads). The heartbeat never reads a
	// message: one that arrives and is left unread hides what comes after
	// it, and the connection ends with an ErrPongTimeout that says so.
	// Bytes arriving after a ping count as an answer, so a long message
	// that delays the pong does not end the connection.
	PingInterval, PongTimeout time.Duration

	// IdleTimeout, if positive, closes the connection (1000, "idle
	// timeout") once no byte has gone either way for that long. Default 0:
	// never.
	IdleTimeout time.Duration

	// CloseTimeout bounds the close handshake: how long Close waits for the
	// peer's close frame, and a client for the server to close TCP
	// afterwards. Default 5 s.
	CloseTimeout time.Duration

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

	// OnMessage receives each message in push style (Conn.Serve, and a
	// Server without a Handler). data is valid only during the call. It
	// runs on the connection's reader, so a connection's messages arrive
	// one at a time and in order; on an event loop it must not block.
	OnMessage func(c *Conn, typ MessageType, data []byte)

	// OnClose, if set, is called once when the connection has ended, with
	// how (a *CloseError: the peer's code, or 1006 with the cause).
	OnClose func(c *Conn, err error)

	// OnPing and OnPong, if set, see the payload of each ping and pong
	// received, during the read that found them (the ping is answered
	// after OnPing returns). They must not block.
	OnPing, OnPong func(c *Conn, payload []byte)

	// OnStateChange, if set, is told when the connection starts closing
	// (from conn.Connected to conn.Closing: a close frame was sent or
	// received) and when it is closed (to conn.Closed), from the goroutine
	// that caused the change. It must not block. Setting it costs each
	// connection one small allocation.
	OnStateChange func(c *Conn, from, to conn.State)

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
	value    any                      // what AcceptOptions.OnRequest returned
}

// config is the front door's options resolved, for one Server or for one
// call of Accept, Upgrade or Dial: every default filled in and every
// callback adapted, once, into what each layer is configured with.
type config struct {
	handshakeTimeout time.Duration
	maxHeaderBytes   int

	// conn configures each connection's frame transport; open adds what
	// the handshake agreed on (the RSV bit of compression).
	conn conn.Config

	// session configures each connection's session, complete (see
	// session.Options.WithDefaults). Connections that agreed on no
	// subprotocol and no compression share it; the others get a copy.
	session session.Options

	compression   *CompressionOptions
	onStateChange func(c *Conn, from, to conn.State)
	server        bool // the role
	shared        bool // a Server's: session is never modified
}

// resolve turns o, with the handshake limits of AcceptOptions or
// DialOptions, into a config for role (server: true). It is the one place
// the front door applies its defaults, all of them from internal/defaults:
// the handshake's here (HandshakeTimeout, MaxHeaderBytes); the session's
// through session.Options.WithDefaults (CloseTimeout, FragmentSize,
// PongTimeout, SlowTimeout, SlowCloseCode); the transport's by conn.New
// (buffer sizes, MaxMessageSize, MaxFrameSize); compression's by the
// session (level, threshold).
func (o *Options) resolve(handshakeTimeout time.Duration, maxHeaderBytes int, server bool) *config {
	cfg := &config{
		handshakeTimeout: durationOr(handshakeTimeout, defaults.HandshakeTimeout),
		maxHeaderBytes:   maxHeaderBytes,
		conn: conn.Config{
			ReadBufferSize:  o.ReadBufferSize,
			WriteBufferSize: o.WriteBufferSize,
			MaxMessageSize:  o.MaxMessageSize,
			MaxFrameSize:    o.MaxFrameSize,
			WriteTimeout:    o.WriteTimeout,
		},
		compression:   o.Compression,
		onStateChange: o.OnStateChange,
		server:        server,
	}
	if cfg.maxHeaderBytes <= 0 {
		cfg.maxHeaderBytes = defaults.MaxHeaderBytes
	}
	so := session.Options{
		FragmentSize:  o.FragmentSize,
		PingInterval:  o.PingInterval,
		PongTimeout:   o.PongTimeout,
		IdleTimeout:   o.IdleTimeout,
		CloseTimeout:  o.CloseTimeout,
		SendQueueSize: o.SendQueueSize,
		SlowPolicy:    o.SlowPolicy,
		SlowTimeout:   o.SlowTimeout,
		SlowCloseCode: o.SlowCloseCode,
	}
	// The session hands callbacks its *Session; the user's get the Conn
	// that embeds it. One adapter per config, none per connection.
	if f := o.OnMessage; f != nil {
		so.OnMessage = func(s *session.Session, typ MessageType, data []byte) { f(ownerOf(s), typ, data) }
	}
	if f := o.OnClose; f != nil {
		so.OnClose = func(s *session.Session, err error) { f(ownerOf(s), err) }
	}
	if f := o.OnPing; f != nil {
		so.OnPing = func(s *session.Session, p []byte) { f(ownerOf(s), p) }
	}
	if f := o.OnPong; f != nil {
		so.OnPong = func(s *session.Session, p []byte) { f(ownerOf(s), p) }
	}
	cfg.session = *so.WithDefaults()
	return cfg
}

// sessionOptions returns the session options of a connection that agreed
// on a: cfg's own, or a copy for a subprotocol or compression when cfg is
// shared.
func (cfg *config) sessionOptions(a agreement) *session.Options {
	if a.protocol == "" && a.deflate == nil {
		return &cfg.session
	}
	so := &cfg.session
	if cfg.shared {
		c := cfg.session
		so = &c
	}
	so.Subprotocol = a.protocol
	so.Compression = cfg.sessionCompression(a.deflate)
	return so
}

// sessionCompression turns a negotiated permessage-deflate into the
// session's settings.
func (cfg *config) sessionCompression(p *handshake.DeflateParams) *session.Compression {
	if p == nil {
		return nil
	}
	server := cfg.server
	c := &session.Compression{
		WriteWindowBits:        p.WindowBits(server),
		WriteNoContextTakeover: !p.ContextTakeover(server),
		ReadWindowBits:         p.WindowBits(!server),
		ReadNoContextTakeover:  !p.ContextTakeover(!server),
	}
	if co := cfg.compression; co != nil {
		c.Level, c.Threshold = co.Level, co.Threshold
	}
	return c
}

// open turns a socket whose opening handshake succeeded, and the bytes
// read past the handshake (the first frames), into a Conn: one allocation
// for the Conn and its session, one for the transport. On failure the
// socket is closed.
func (cfg *config) open(nc net.Conn, early []byte, a agreement) (*Conn, error) {
	c := new(Conn)
	cc := cfg.conn // a copy: AllowedRsv and the hook are this connection's
	if a.deflate != nil {
		cc.AllowedRsv = frame.Rsv1
	}
	if f := cfg.onStateChange; f != nil {
		cc.OnStateChange = func(_ *conn.Conn, from, to conn.State) {
			// Open reports Connecting to Connected before the session
			// exists: the user's Conn begins at Connected.
			if c.s.Owner() != nil {
				f(c, from, to)
			}
		}
	}
	role := conn.Client
	if cfg.server {
		role = conn.Server
	}
	tc := newFrameConn(nc, role, &cc)
	if err := tc.Open(early); err != nil {
		tc.Abort(err)
		return nil, err
	}
	c.value = a.value
	session.Init(&c.s, tc, cfg.sessionOptions(a), c)
	return c, nil
}
