package websocket

import (
	"testing"
	"time"

	"github.com/rfc6455/websocket/handshake"
	"github.com/rfc6455/websocket/internal/defaults"
)

// TestResolveDefaults: the zero Options resolve to the documented
// defaults, and what a user sets goes through to the layers.
func TestResolveDefaults(t *testing.T) {
	cfg := (&Options{}).resolve(0, 0, true)
	if cfg.handshakeTimeout != defaults.HandshakeTimeout || cfg.maxHeaderBytes != defaults.MaxHeaderBytes {
		t.Errorf("handshake limits %v, %d; want %v, %d", cfg.handshakeTimeout, cfg.maxHeaderBytes, defaults.HandshakeTimeout, defaults.MaxHeaderBytes)
	}
	so := cfg.session
	if so.CloseTimeout != defaults.CloseTimeout || so.FragmentSize != defaults.FragmentSize || so.SlowTimeout != defaults.SlowTimeout || so.SlowCloseCode != StatusTryAgainLater {
		t.Errorf("session defaults %+v", so)
	}
	if !cfg.server {
		t.Error("resolved for the client role")
	}

	o := Options{MaxMessageSize: 1 << 10, MaxFrameSize: 100, ReadBufferSize: 512, WriteTimeout: time.Second, PingInterval: time.Minute, FragmentSize: 99}
	cfg = o.resolve(time.Second, 100, false)
	if cfg.handshakeTimeout != time.Second || cfg.maxHeaderBytes != 100 || cfg.server {
		t.Errorf("handshake limits %v, %d, server %v", cfg.handshakeTimeout, cfg.maxHeaderBytes, cfg.server)
	}
	if c := cfg.conn; c.MaxMessageSize != 1<<10 || c.MaxFrameSize != 100 || c.ReadBufferSize != 512 || c.WriteTimeout != time.Second {
		t.Errorf("conn.Config %+v", c)
	}
	if s := cfg.session; s.PingInterval != time.Minute || s.PongTimeout != time.Minute || s.FragmentSize != 99 {
		t.Errorf("session.Options %+v", s)
	}
}

// TestResolveSharedSession: a Server's connections that agreed on nothing
// share one session.Options; one with a subprotocol or compression gets a
// copy, and the shared one stays as it was.
func TestResolveSharedSession(t *testing.T) {
	cfg := (&Options{Compression: &CompressionOptions{Level: 5}}).resolve(0, 0, true)
	cfg.shared = true
	if a, b := cfg.sessionOptions(agreement{}), cfg.sessionOptions(agreement{}); a != b || a != &cfg.session {
		t.Error("connections that agreed on nothing do not share the session options")
	}
	p := handshake.DeflateParams{}
	so := cfg.sessionOptions(agreement{protocol: "chat", deflate: &p})
	if so == &cfg.session || so.Subprotocol != "chat" || so.Compression == nil || so.Compression.Level != 5 {
		t.Errorf("agreed session options %+v", so)
	}
	if cfg.session.Subprotocol != "" || cfg.session.Compression != nil {
		t.Error("the shared session options were modified")
	}
}
