package websocket

import (
	"context"
	"crypto/tls"
	"errors"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxConnections is a Server's connection limit when
// Server.MaxConnections is zero.
const DefaultMaxConnections = 10000

// ErrServerClosed is returned by a Server's Serve methods after Shutdown.
var ErrServerClosed = errors.New("websocket: server closed")

// A Handler serves one WebSocket connection. When it returns, the server
// closes the connection with 1000 (normal closure) if it is still open.
type Handler func(c *Conn, r *Request)

// Server accepts WebSocket connections on raw sockets, without net/http:
// it upgrades every connection (at any path) and runs Handler on it in a
// goroutine of its own. Use Accept instead to serve WebSocket from a
// net/http server among other routes.
type Server struct {
	// Addr is the TCP address ListenAndServe listens on, ":http" if empty.
	Addr string

	// Handler serves each connection. It must be set.
	Handler Handler

	// Options configure the handshake and every connection.
	Options AcceptOptions

	// MaxConnections bounds the connections served at once, handshakes
	// included; past it clients get 503 before the upgrade. Default
	// DefaultMaxConnections (10,000). Negative: no limit.
	MaxConnections int

	// TLSConfig is used by ListenAndServeTLS. Default: certificates from
	// the files given to it.
	TLSConfig *tls.Config

	// ErrorLog logs accept errors; default the log package's logger.
	ErrorLog *log.Logger

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*Conn]struct{}
	handlers  sync.WaitGroup
	active    atomic.Int64
	closed    atomic.Bool
	ctx       context.Context // cancelled by Shutdown: ends handshakes in progress
	cancel    context.CancelFunc
}

// ListenAndServe listens on s.Addr and serves until Shutdown.
func (s *Server) ListenAndServe() error {
	if s.closed.Load() {
		return ErrServerClosed
	}
	addr := s.Addr
	if addr == "" {
		addr = ":http"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(l)
}

// ListenAndServeTLS is ListenAndServe over TLS, with the certificate and key
// in the given PEM files (or s.TLSConfig's certificates if they are empty).
func (s *Server) ListenAndServeTLS(certFile, keyFile string) error {
	cfg := &tls.Config{}
	if s.TLSConfig != nil {
		cfg = s.TLSConfig.Clone()
	}
	if certFile != "" || keyFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return err
		}
		cfg.Certificates = append(cfg.Certificates, cert)
	}
	addr := s.Addr
	if addr == "" {
		addr = ":https"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(tls.NewListener(l, cfg))
}

// Serve accepts connections on l until Shutdown or an accept error that is
// not temporary. It closes l when it returns.
func (s *Server) Serve(l net.Listener) error {
	if s.Handler == nil {
		return errors.New("websocket: Server.Handler is nil")
	}
	if !s.track(l) {
		l.Close()
		return ErrServerClosed
	}
	defer s.untrack(l)
	var backoff time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.closed.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, errTooManyFiles) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.logf("websocket: accept error: %v; retrying in %v", err, backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		s.handlers.Add(1)
		go s.serveConn(nc)
	}
}

func (s *Server) serveConn(nc net.Conn) {
	defer s.handlers.Done()
	n := s.active.Add(1)
	defer s.active.Add(-1)
	opts := &s.Options
	timeout := durationOr(opts.HandshakeTimeout, DefaultHandshakeTimeout)
	maxHeader := opts.MaxHeaderBytes
	if maxHeader <= 0 {
		maxHeader = DefaultMaxHeaderBytes
	}
	if limit := s.maxConnections(); limit > 0 && n > int64(limit) {
		refuse(nc, http.StatusServiceUnavailable, "too many connections", timeout, maxHeader)
		return
	}
	if s.closed.Load() {
		refuse(nc, http.StatusServiceUnavailable, "server shutting down", timeout, maxHeader)
		return
	}
	c, req, err := Upgrade(s.context(), nc, opts)
	if err != nil {
		nc.Close()
		return
	}
	if !s.register(c) {
		c.Close(StatusGoingAway, "server shutting down")
		return
	}
	defer s.unregister(c)
	s.Handler(c, req)
	c.Close(StatusNormalClosure, "")
}

// context returns the server's context, cancelled by Shutdown.
func (s *Server) context() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil {
		s.ctx, s.cancel = context.WithCancel(context.Background())
		if s.closed.Load() {
			s.cancel()
		}
	}
	return s.ctx
}

func (s *Server) maxConnections() int {
	if s.MaxConnections == 0 {
		return DefaultMaxConnections
	}
	return s.MaxConnections
}

// Shutdown stops accepting, sends every open connection a close frame with
// 1001 (going away), and waits for their handlers to return. When ctx ends
// first, it closes the remaining connections at once and returns ctx's
// error without waiting any longer for the handlers.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closed.Store(true)
	s.mu.Lock()
	if s.cancel != nil {
		s.cancel()
	}
	for l := range s.listeners {
		l.Close()
	}
	conns := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()

	var closers sync.WaitGroup
	for _, c := range conns {
		closers.Add(1)
		go func() {
			defer closers.Done()
			c.Close(StatusGoingAway, "server shutting down")
		}()
	}
	done := make(chan struct{})
	go func() {
		s.handlers.Wait()
		closers.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.CloseNow()
		}
		s.mu.Unlock()
		// Do not wait for the handlers: one that ignores its connection,
		// or a client stalling in the opening handshake, would hold
		// Shutdown past ctx. Their connections are closed now, and
		// handshakes in progress were cancelled above.
		return ctx.Err()
	}
}

// Len returns the number of connections open now (upgraded, not closed).
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *Server) track(l net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return false
	}
	if s.listeners == nil {
		s.listeners = make(map[net.Listener]struct{})
	}
	s.listeners[l] = struct{}{}
	return true
}

func (s *Server) untrack(l net.Listener) {
	s.mu.Lock()
	delete(s.listeners, l)
	s.mu.Unlock()
	l.Close()
}

func (s *Server) register(c *Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return false
	}
	if s.conns == nil {
		s.conns = make(map[*Conn]struct{})
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) unregister(c *Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (s *Server) logf(format string, args ...any) {
	if s.ErrorLog != nil {
		s.ErrorLog.Printf(format, args...)
	} else {
		log.Printf(format, args...)
	}
}
