package websocket

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"github.com/rfc6455/websocket/handshake"
	"github.com/rfc6455/websocket/internal/netpoll"
	"github.com/rfc6455/websocket/pool"
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
	// session.ErrEventLoop.
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
	sk.SetReadDeadline(time.Now().Add(durationOr(opts.HandshakeTimeout, DefaultHandshakeTimeout)))
	return h
}

// loopConn is a connection on an event loop: its opening handshake, then
// its session. The loop calls it.
type loopConn struct {
	srv  *Server
	sk   *netpoll.Socket
	head *pool.Buffer // the request head as it arrives, pooled
	c    *Conn        // the session, once upgraded
}

// Ready runs on the loop when the socket has bytes (or its deadline passed).
func (h *loopConn) Ready() {
	if h.c != nil {
		if ended, _ := h.c.ServeReady(); ended {
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
	}
	h.dropHead()
	h.srv.active.Add(-1)
	h.srv.handlers.Done()
}

// handshake reads what has arrived of the request head; once it is whole,
// it answers and opens the session. A client that sends the head slowly
// costs the bytes it sent, and no goroutine; the handshake timeout (the
// read deadline) ends it.
func (h *loopConn) handshake() {
	s := h.srv
	opts := s.options()
	maxHeader := opts.MaxHeaderBytes
	if maxHeader <= 0 {
		maxHeader = DefaultMaxHeaderBytes
	}
	if h.head == nil {
		h.head = pool.GetBuffer(1024)
	}
	end := -1
	for end < 0 {
		b := h.head.B
		if len(b) == cap(b) {
			b = slices.Grow(b, len(b)) // the pool files it by its new size
		}
		n, err := h.sk.Read(b[len(b):cap(b)])
		if n == 0 && err == nil { // would block
			if len(b) == 0 {
				h.dropHead() // a silent client holds no buffer
			}
			return
		}
		if err != nil {
			h.sk.Close()
			return
		}
		b = b[:len(b)+n]
		h.head.B = b
		if end = headEnd(b); end >= 0 {
			if end > maxHeader {
				end = -1 // as large as ReadRequest refuses
			} else {
				break
			}
		}
		if len(b) > maxHeader {
			h.fail(&handshake.Error{StatusCode: http.StatusRequestHeaderFieldsTooLarge, Reason: "request headers too large"})
			return
		}
	}
	head := h.head.B
	// The Request's strings point into the pooled head, and the Request
	// goes back to its pool below: nothing of it is kept (the agreed
	// subprotocol is the server's own string).
	req := requests.Get().(*handshake.Request)
	defer func() { releaseRequest(req) }()
	err := req.Parse(unsafe.String(&head[0], end))
	var a agreement
	if err == nil {
		a, err = opts.check(req)
	}
	if err == nil {
		if limit := s.maxConnections(); limit > 0 && s.active.Load() > int64(limit) {
			err = &handshake.Error{StatusCode: http.StatusServiceUnavailable, Reason: "too many connections", Header: http.Header{"Retry-After": {"1"}}}
		} else if s.closed.Load() {
			err = &handshake.Error{StatusCode: http.StatusServiceUnavailable, Reason: "server shutting down", Header: http.Header{"Retry-After": {"1"}}}
		}
	}
	if err != nil {
		var he *handshake.Error
		if !errors.As(err, &he) {
			he = &handshake.Error{StatusCode: http.StatusBadRequest, Reason: err.Error()}
		}
		h.fail(he)
		return
	}
	resp := pool.GetBuffer(512)
	resp.B = opts.appendResponse(resp.B, req, a)
	_, err = h.sk.Write(resp.B)
	pool.PutBuffer(resp)
	if err != nil {
		h.sk.Close()
		return
	}
	h.sk.SetReadDeadline(time.Time{})
	s.handshakeDone(h)
	c, err := opts.open(h.sk, head[end:], a) // copies the early frames
	releaseRequest(req)                      // before its strings' bytes are reused
	req = nil
	h.dropHead()
	if err != nil {
		return // open aborted the socket
	}
	h.c = c
	if !s.register(c) {
		c.Close(StatusGoingAway, "server shutting down")
		return
	}
	if c.Conn().Buffered() > 0 {
		h.Ready() // frames that came with the request
	}
}

// requests are the event loops' Requests, reused: their header maps are.
var requests = sync.Pool{New: func() any { return new(handshake.Request) }}

// releaseRequest empties req, whose strings point into a request head about
// to be reused (map keys among them), and puts it back. nil is ignored.
func releaseRequest(req *handshake.Request) {
	if req == nil {
		return
	}
	h := req.Header
	clear(h)
	*req = handshake.Request{Header: h}
	requests.Put(req)
}

// headEnd returns the length of the request head at the start of b, through
// the empty line that ends it, or -1 if b holds no whole head yet. Like
// ReadRequest, it takes a bare LF for a line end.
func headEnd(b []byte) int {
	for start := 0; start < len(b); {
		switch {
		case b[start] == '\n':
			return start + 1
		case b[start] == '\r' && start+1 < len(b) && b[start+1] == '\n':
			return start + 2
		}
		i := bytes.IndexByte(b[start:], '\n')
		if i < 0 {
			return -1
		}
		start += i + 1
	}
	return -1
}

// dropHead gives the request head's buffer back.
func (h *loopConn) dropHead() {
	if h.head != nil {
		h.head.B = h.head.B[:0]
		pool.PutBuffer(h.head)
		h.head = nil
	}
}

// fail answers a refused request and closes the socket.
func (h *loopConn) fail(he *handshake.Error) {
	h.sk.Write(handshake.AppendErrorResponse(nil, he))
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
