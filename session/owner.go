package session

import (
	"github.com/rfc6455/websocket/conn"
)

// Init makes s, which must be a zero Session, a session over c, as New
// does, for a Session that is part of a larger value: the root package's
// Conn embeds one, so that a connection costs one allocation rather than
// two. owner is that larger value; Owner returns it, so that callbacks
// handed a *Session (Options.OnMessage, OnClose, ManagerOptions.OnAdd)
// find it without a map or a closure per session.
//
// s must not be copied after Init: its timers and compressor refer to it.
func Init(s *Session, c *conn.Conn, opts *Options, owner any) {
	s.c, s.id, s.owner = c, lastID.Add(1), owner
	if opts == nil || !opts.complete() {
		opts = opts.WithDefaults()
	}
	s.opts = opts
	if c := s.opts.Compression; c != nil {
		s.comp = newCompression(c)
		s.comp.src.s = s
	}
	s.initQueue()
	s.startHeartbeat()
}

// Owner returns the owner given to Init, or nil for a session made by New.
func (s *Session) Owner() any { return s.owner }
