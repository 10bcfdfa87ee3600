//go:build !js

package websocket

import (
	"context"
	"crypto/tls"
	"errors"
	"log"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rfc6455/websocket/internal/bufpool"
	"github.com/rfc6455/websocket/internal/defaults"
	"github.com/rfc6455/websocket/internal/netpoll"
	"github.com/rfc6455/websocket/internal/stack"
	"github.com/rfc6455/websocket/pool"
	"github.com/rfc6455/websocket/session"
)

// ErrServerClosed is returned by a Server's Serve methods after Shutdown.
var ErrServerClosed = errors.New("websocket: server closed")

// A Handler serves one WebSocket connection. When it returns, the server
// closes the connection with 1000 (normal closure) if it is still open.
type Handler func(c *Conn, r *Request)

// Server accepts WebSocket connections on raw sockets, without net/http:
// it upgrades every connection (at any path), registers it in its session
// manager, and serves it in a goroutine of its own. Use Accept instead to
// serve WebSocket from a net/http server among other routes.
type Server struct {
	// Addr is the TCP address ListenAndServe listens on, ":http" if empty.
	Addr string

	// Handler serves each connection. Default (nil): push style, the
	// server reads each connection with Conn.Serve and hands every message
	// to Options.OnMessage.
	Handler Handler

	// Workers, if set, runs Options.OnMessage on this worker pool instead
	// of on each connection's reading goroutine, keyed by connection: a
	// connection's messages are handled in order, one at a time, while
	// different connections' run in parallel. Each message is copied into
	// a pooled buffer first, so the reader goes on reading; a full pool
	// holds the reader back. The caller starts the pool and shuts it down
	// after the server. Default nil.
	Workers *pool.Workers

	// OnConnect, if set, is called with each upgraded connection once
	// the server has registered it (Range, Len and Broadcast see it),
	// before any of its messages is read and before Handler. In
	// IOEventLoop mode it runs on the loop and must not block. (Before
	// the upgrade, Options.OnRequest sees the request and may refuse it.)
	OnConnect func(c *Conn)

	// Hooks are called on the connections' rare events (opened, closed,
	// refused, a dropped message, a pong timeout), for metrics; Stats
	// holds the same counts and more. Default: none.
	Hooks ServerHooks

	// Options configure the handshake and every connection.
	Options AcceptOptions

	// MaxConnections bounds the connections served at once, handshakes
	// included; past it clients get 503 before the upgrade. Default
	// 10,000. Negative: no limit.
	MaxConnections int

	// TLSConfig is used by ListenAndServeTLS. Default: certificates from
	// the files given to it.
	TLSConfig *tls.Config

	// ErrorLog logs accept errors; default the log package's logger.
	ErrorLog *log.Logger

	// IO is how connections wait for bytes: IOGoroutine (the default) or
	// IOEventLoop, whose idle connections hold no goroutine and no buffer
	// (see IOEventLoop for what it needs and changes).
	IO IOMode

	// Loops is the number of event loops in IOEventLoop mode. Default
	// runtime.GOMAXPROCS(0).
	Loops int

	// LoopAffinity pins each event loop to a CPU of its own (see
	// netpoll.Loops.Affinity). Default false.
	LoopAffinity bool

	mu        sync.Mutex
	listeners map[net.Listener]*netpoll.Listening // the Listening in IOEventLoop mode
	handlers  sync.WaitGroup
	opts      *AcceptOptions // Options with OnMessage routed through Workers, resolved
	sessions  *session.Manager
	active    atomic.Int64
	closed    atomic.Bool
	counters  serverCounters
	ctx       context.Context // cancelled by Shutdown: ends handshakes in progress
	cancel    context.CancelFunc

	loops       *netpoll.Loops // IOEventLoop
	noLoops     bool           // event loops are not available here
	handshaking map[*loopConn]struct{}
}

// ListenAndServe listens on s.Addr and serves until Shutdown. Its
// connections have TCP keep-alive as net.Listen's do (probes after 15 s
// of silence), in both I/O modes.
func (s *Server) ListenAndServe() error {
	if s.closed.Load() {
		return ErrServerClosed
	}
	addr := s.Addr
	if addr == "" {
		addr = ":http"
	}
	l, err := listen(addr)
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
	l, err := listen(addr)
	if err != nil {
		return err
	}
	return s.Serve(tls.NewListener(l, cfg))
}

// Serve accepts connections on l until Shutdown or an accept error that is
// not temporary. It closes l when it returns.
func (s *Server) Serve(l net.Listener) error {
	if s.Handler == nil && s.Options.OnMessage == nil {
		return errors.New("websocket: Server needs a Handler or Options.OnMessage")
	}
	if !s.track(l) {
		l.Close()
		return ErrServerClosed
	}
	defer s.untrack(l)
	if ls := s.eventLoops(l); ls != nil {
		return s.serveLoops(l, ls)
	}
	return s.acceptLoop(l)
}

// acceptLoop is Serve's loop in the goroutine mode: it accepts connections
// until Shutdown or an error that is not temporary (after a temporary one,
// such as running out of descriptors, it backs off and tries again),
// counts each connection in s.handlers, and serves it on a goroutine of
// its own. (In the event-loop mode the loops accept: serveLoops.)
func (s *Server) acceptLoop(l net.Listener) error {
	var backoff time.Duration
	for {
		c, err := l.Accept()
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
		// Add under mu, after checking closed: Shutdown sets closed under
		// mu before it waits, so no Add can race its Wait.
		s.mu.Lock()
		if s.closed.Load() {
			s.mu.Unlock()
			c.Close()
			return ErrServerClosed
		}
		s.handlers.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

func (s *Server) serveConn(nc net.Conn) {
	// The handshake takes more stack than a goroutine starts with: grow
	// it now, two frames deep, rather than in the middle of reading.
	stack.Grow()
	n := s.active.Add(1)
	// A connection that ends in its handshake is counted and leaves its
	// slot before its socket is closed: a client that has seen the
	// answer and the close finds the server's counts and limit already
	// past it.
	slot := true
	release := func() {
		if slot {
			slot = false
			s.active.Add(-1)
		}
	}
	detached := false
	defer func() {
		if !detached {
			release()
			s.handlers.Done()
		}
	}()
	opts := s.options()
	timeout, maxHeader := opts.resolved.handshakeTimeout, opts.resolved.maxHeaderBytes
	if limit := s.maxConnections(); limit > 0 && n > int64(limit) {
		refuse(nc, errTooManyConnections, timeout, maxHeader)
		s.refused(errTooManyConnections)
		release()
		nc.Close()
		return
	}
	if s.closed.Load() {
		refuse(nc, errShuttingDown, timeout, maxHeader)
		s.refused(errShuttingDown)
		release()
		nc.Close()
		return
	}
	c, req, he, err := upgrade(s.context(), nc, opts)
	if err != nil {
		if he != nil {
			s.refused(he)
		} else {
			s.counters.failed.Add(1)
		}
		release()
		nc.Close()
		return
	}
	if !s.register(c) {
		c.Close(StatusGoingAway, "server shutting down")
		return
	}
	if s.Handler == nil {
		// Push style: the session serves itself on goroutines that keep
		// small stacks while idle (this one grew in the handshake), and
		// this goroutine ends. Not s.context(): Shutdown ends these
		// sessions with a close handshake (Manager.CloseAll), and a
		// context that can be cancelled costs every idle connection a
		// registration.
		detached = true
		c.s.ServeDetached(context.Background(), func(error) {
			c.Close(StatusNormalClosure, "")
			s.active.Add(-1)
			s.handlers.Done()
		})
		return
	}
	s.Handler(c, req)
	c.Close(StatusNormalClosure, "")
}

// options returns the options connections are opened with: s.Options,
// with OnMessage routed through s.Workers when both are set, and the
// counters' hooks on the end of a connection and a dropped message.
func (s *Server) options() *AcceptOptions {
	ctx := s.context() // Shutdown cancels it: posting stops blocking
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts != nil {
		return s.opts
	}
	opts := s.Options
	if opts.Budget == nil {
		opts.Budget = NewBudget(DefaultBudgetSize(), 0) // the server's own
	}
	if w, f := s.Workers, opts.OnMessage; w != nil && f != nil {
		opts.OnMessage = func(c *Conn, typ MessageType, data []byte) {
			buf := bufpool.Get(len(data))
			buf.B = append(buf.B, data...)
			task := func() {
				defer bufpool.Put(buf)
				f(c, typ, buf.B)
			}
			if err := w.PostKeyed(ctx, c.ID(), task); err != nil {
				bufpool.Put(buf)
			}
		}
	}
	onClose := opts.OnClose
	opts.OnClose = func(c *Conn, err error) {
		s.ended(c, err)
		if onClose != nil {
			onClose(c, err)
		}
	}
	opts.resolved = opts.config()
	opts.resolved.shared = true
	opts.resolved.session.OnDrop = func(ss *session.Session) { s.dropped(ownerOf(ss)) }
	s.opts = &opts
	return s.opts
}

// Budget returns the memory budget the server's connections read their
// messages against: Options.Budget, or the server's own (see
// DefaultBudgetSize). Its Used and Peak tell how much they hold. Like
// Serve, it fixes the server's options: call it once they are set.
func (s *Server) Budget() *Budget { return s.options().Budget }

// manager returns the registry of the server's open connections.
func (s *Server) manager() *session.Manager {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions == nil {
		s.sessions = session.NewManager(nil)
	}
	return s.sessions
}

// Broadcast sends one message to every open connection, framed once: each
// connection writes the same bytes (uncompressed, whatever the connection
// agreed on). With Options.SendQueueSize set, it returns once the message
// is queued everywhere, and each connection's slow-consumer policy applies,
// so that one slow peer delays no other; without a queue each connection
// is written in turn, at most 64 at a time. data is copied.
func (s *Server) Broadcast(typ MessageType, data []byte) BroadcastResult {
	return s.manager().Broadcast(typ, data)
}

// Range calls fn for each connection open when Range was called, in no
// particular order, until fn returns false. It iterates over a snapshot
// and holds no lock while fn runs, so fn may write to and close
// connections; a connection may have ended by the time fn sees it.
func (s *Server) Range(fn func(c *Conn) bool) {
	s.manager().Range(func(ss *session.Session) bool { return fn(ownerOf(ss)) })
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
		return defaults.MaxConnections
	}
	return s.MaxConnections
}

// Shutdown stops accepting, sends every open connection a close frame with
// 1001 (going away), and waits for their handlers to return. When ctx ends
// first, it closes the remaining connections at once and returns ctx's
// error without waiting any longer for the handlers.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed.Store(true)
	if s.cancel != nil {
		s.cancel()
	}
	for l, ln := range s.listeners {
		if ln != nil {
			ln.Close()
		}
		l.Close()
	}
	s.mu.Unlock()
	s.stopLoops(false)

	done := make(chan struct{})
	go func() {
		s.manager().CloseAll(context.Background(), StatusGoingAway, "server shutting down")
		s.handlers.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.stopLoops(true)
		return nil
	case <-ctx.Done():
		// Do not wait for the handlers: one that ignores its connection
		// would hold Shutdown past ctx. Their connections are closed now,
		// and handshakes in progress were cancelled above.
		s.Range(func(c *Conn) bool {
			c.CloseNow()
			return true
		})
		s.stopLoops(true)
		return ctx.Err()
	}
}

// Len returns the number of connections open now (upgraded, not closed).
func (s *Server) Len() int { return s.manager().Len() }

func (s *Server) track(l net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return false
	}
	if s.listeners == nil {
		s.listeners = make(map[net.Listener]*netpoll.Listening)
	}
	s.listeners[l] = nil
	return true
}

func (s *Server) untrack(l net.Listener) {
	s.mu.Lock()
	delete(s.listeners, l)
	s.mu.Unlock()
	l.Close()
}

// register counts c, just upgraded, adds it to the manager unless the
// server is shutting down (the manager drops it when it ends), and tells
// OnConnect.
func (s *Server) register(c *Conn) bool {
	s.opened(c)
	if s.closed.Load() {
		return false
	}
	m := s.manager()
	m.Add(&c.s)
	if s.closed.Load() { // Shutdown may have run CloseAll before Add
		m.Remove(&c.s)
		return false
	}
	if f := s.OnConnect; f != nil {
		f(c)
	}
	return true
}

func (s *Server) logf(format string, args ...any) {
	if s.ErrorLog != nil {
		s.ErrorLog.Printf(format, args...)
	} else {
		log.Printf(format, args...)
	}
}
