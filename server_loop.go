//go:build !js

package websocket

import (
	"net"
	"strconv"
	"time"

	"github.com/rfc6455/websocket/handshake"
	"github.com/rfc6455/websocket/internal/netpoll"
)

// IOMode is how a Server waits for its connections' bytes.
type IOMode int

const (
	// IOGoroutine serves each connection from goroutines of its own,
	// parked in the runtime's poller while the connection is idle. It
	// works everywhere, with every Server setting.
	IOGoroutine IOMode = iota

	// IOEventLoop serves connections from a fixed set of event loops
	// (Server.Loops, epoll) that own the sockets: an idle connection,
	// upgraded or still in its opening handshake, holds no goroutine and
	// no buffer, only its state. It is for servers holding many mostly
	// idle connections (chat, notifications, IoT).
	//
	// It needs Linux, a plain TCP or Unix listener and push style (no
	// Server.Handler); otherwise the server falls back to IOGoroutine.
	// Options.OnMessage runs on the loop that read the message, unless
	// Server.Workers is set: it must not block, since the loop's other
	// connections wait meanwhile (writes never block a loop: what the
	// socket cannot take waits in the connection's buffer, and the loop
	// stops reading a connection whose peer does not read its replies).
	// Conn.Close sends the close frame and returns; the loop completes
	// the handshake, bounded by Options.CloseTimeout (Conn.Done tells
	// when). The reading methods (ReadMessage, NextReader) return
	// ErrEventLoop.
	IOEventLoop
)

// String returns "goroutine" or "eventloop".
func (m IOMode) String() string {
	switch m {
	case IOGoroutine:
		return "goroutine"
	case IOEventLoop:
		return "eventloop"
	}
	return "iomode(" + strconv.Itoa(int(m)) + ")"
}

// eventLoops returns the server's loops, starting them on first use, or
// nil when the server does not use them for l.
func (s *Server) eventLoops(l net.Listener) *netpoll.Loops {
	if s.IO != IOEventLoop || s.Handler != nil {
		return nil
	}
	switch l.(type) {
	case *net.TCPListener, *net.UnixListener:
	default:
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loops == nil && !s.noLoops {
		ls := &netpoll.Loops{N: s.Loops, Affinity: s.LoopAffinity}
		if err := ls.Start(); err != nil {
			s.noLoops = true // not Linux: goroutines
			return nil
		}
		s.loops = ls
	}
	return s.loops
}

// serveLoops is Serve in IOEventLoop mode: the loops accept the
// connections themselves, and Serve waits for Shutdown or a failed
// listener.
func (s *Server) serveLoops(l net.Listener, ls *netpoll.Loops) error {
	ln, err := ls.Listen(l, s.acceptOnLoop, func(err error) {
		s.logf("websocket: accept error: %v; retrying", err)
	})
	if err != nil {
		if s.closed.Load() {
			return ErrServerClosed
		}
		return err
	}
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.listeners[l] = ln // for Shutdown
	s.mu.Unlock()
	<-ln.Done()
	if s.closed.Load() {
		return ErrServerClosed
	}
	if err := ln.Err(); err != nil {
		return err
	}
	return ErrServerClosed
}

// acceptOnLoop takes a socket the loop has just accepted: it counts it and
// returns its handler, which reads the opening handshake within
// HandshakeTimeout; nil (close it) once the server is shutting down.
func (s *Server) acceptOnLoop(sk *netpoll.Socket) netpoll.Handler {
	h := &loopConn{srv: s, sk: sk}
	// Add under mu, after checking closed: Shutdown sets closed under mu
	// before it waits, so no Add can race its Wait.
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return nil
	}
	s.handlers.Add(1)
	if s.handshaking == nil {
		s.handshaking = make(map[*loopConn]struct{})
	}
	s.handshaking[h] = struct{}{}
	s.mu.Unlock()
	s.active.Add(1)
	opts := s.options()
	sk.SetReadDeadline(time.Now().Add(opts.resolved.handshakeTimeout))
	return h
}

// loopConn is a connection on an event loop: its opening handshake, then
// its session. The loop calls it.
type loopConn struct {
	srv *Server
	sk  *netpoll.Socket
	hp  *handshake.RequestParser // the request as it arrives, pooled; nil while none has
	c   *Conn                    // the session, once upgraded

	refused bool // the handshake was answered with a refusal
}

// Ready runs on the loop when the socket has bytes (or its deadline passed).
func (h *loopConn) Ready() {
	if h.c != nil {
		if ended, _ := h.c.s.ServeReady(); ended {
			h.c.Close(StatusNormalClosure, "")
		}
		return
	}
	h.handshake()
}

// Closed runs on the loop once the socket is closed.
func (h *loopConn) Closed() {
	if h.c != nil {
		h.c.CloseNow() // ends the session if only its socket went
	} else {
		h.srv.handshakeDone(h)
		if !h.refused {
			h.srv.counters.failed.Add(1)
		}
	}
	h.dropParser()
	h.srv.active.Add(-1)
	h.srv.handlers.Done()
}

// handshake reads what has arrived of the request head; once it is whole,
// it answers and opens the session. A client that sends the head slowly
// costs the bytes it sent, and no goroutine; one that has sent nothing
// costs no parser and no buffer; the handshake timeout (the read deadline)
// ends it.
func (h *loopConn) handshake() {
	s := h.srv
	opts := s.options()
	if h.hp == nil {
		h.hp = getParser(opts.resolved.maxHeaderBytes)
	}
	for {
		held := h.hp.Buffered()
		done, err := h.hp.Fill(h.sk)
		if done {
			break
		}
		if he, ok := err.(*handshake.Error); ok {
			h.fail(he) // 431
			return
		}
		if err != nil {
			h.sk.Close()
			return
		}
		if h.hp.Buffered() == held {
			// Nothing arrived: the socket would block (a loop socket reads
			// 0, nil then). Wait for the next readable event.
			if held == 0 {
				h.dropParser() // a silent client holds nothing
			}
			return
		}
	}
	// The Request and its strings are the parser's, pointing into its
	// buffer, and go back to the pool with it below: nothing of them is
	// kept (the agreed subprotocol is the server's own string). OnRequest
	// may keep what it sees: it gets a copy.
	req, err := h.hp.Request()
	if opts.OnRequest != nil && err == nil {
		req, err = h.hp.NewRequest()
	}
	var a agreement
	if err == nil {
		a, err = opts.check(req)
	}
	if err == nil {
		if limit := s.maxConnections(); limit > 0 && s.active.Load() > int64(limit) {
			err = errTooManyConnections
		} else if s.closed.Load() {
			err = errShuttingDown
		}
	}
	if err != nil {
		h.fail(refusal(err))
		return
	}
	value, he, err := opts.admit(req)
	if err != nil {
		h.fail(he)
		return
	}
	a.value = value
	if err := opts.writeResponse(h.sk, req, a); err != nil {
		h.sk.Close()
		return
	}
	h.sk.SetReadDeadline(time.Time{})
	s.handshakeDone(h)
	c, err := opts.resolved.open(h.sk, h.hp.Rest(), a) // copies the first frames
	h.dropParser()                                     // req is not to be used after this
	if err != nil {
		return // open aborted the socket
	}
	h.c = c
	if !s.register(c) {
		c.Close(StatusGoingAway, "server shutting down")
		return
	}
	if c.s.Conn().Buffered() > 0 {
		h.Ready() // frames that came with the request
	}
}

// dropParser gives the request parser back, with its buffer.
func (h *loopConn) dropParser() {
	if h.hp != nil {
		putParser(h.hp)
		h.hp = nil
	}
}

// fail answers a refused request and closes the socket.
func (h *loopConn) fail(he *handshake.Error) {
	h.refused = true
	h.srv.refused(he)
	writeRefusal(h.sk, he)
	h.sk.Close()
}

// handshakeDone forgets a connection whose opening handshake has ended.
func (s *Server) handshakeDone(h *loopConn) {
	s.mu.Lock()
	delete(s.handshaking, h)
	s.mu.Unlock()
}

// stopLoops ends the handshakes in progress on the event loops, for
// Shutdown; with all set, it also closes the loops and every socket left.
func (s *Server) stopLoops(all bool) {
	s.mu.Lock()
	for h := range s.handshaking {
		h.sk.Close()
	}
	ls := s.loops
	s.mu.Unlock()
	if all && ls != nil {
		ls.Close()
	}
}
