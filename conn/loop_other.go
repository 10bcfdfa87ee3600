//go:build !linux

package conn

import (
	"errors"
	"net"
	"time"
)

// Loops is a fixed set of event loops that own non-blocking sockets. They
// exist on Linux only: here NewLoops returns an error, and callers keep to
// a goroutine per connection.
type Loops struct {
	N        int
	Affinity bool
}

// Start returns an error: event loops need Linux.
func (ls *Loops) Start() error { return errNoLoops }

// ErrWouldBlock is what reads of a Socket return when it has no bytes ready.
var ErrWouldBlock = errors.New("websocket: no bytes ready")

// ErrListener is returned by Accept for a listener it cannot take sockets from.
var ErrListener = errors.New("websocket: event loops need Linux")

// ErrSlowConsumer is the write error of a socket whose peer let too much wait.
var ErrSlowConsumer = errors.New("websocket: peer does not read: too much waiting to be sent")

var errNoLoops = errors.New("websocket: event loops need Linux (epoll)")

// NewLoops returns an error: event loops need Linux.
func NewLoops(n int) (*Loops, error) { return nil, errNoLoops }

// Close does nothing.
func (ls *Loops) Close() error { return nil }

// Accept returns ErrListener.
func (ls *Loops) Accept(l net.Listener) (*Socket, error) { return nil, ErrListener }

// A Handler receives a Socket's events, on the socket's loop.
type Handler interface {
	Ready()
	Closed()
}

// Socket is a non-blocking socket owned by an event loop; none exist here.
type Socket struct{ net.Conn }

// Start hands the socket to its loop.
func (s *Socket) Start(h Handler) {}

// SetHandler replaces the handler.
func (s *Socket) SetHandler(h Handler) {}

// WaitRoom waits while too much waits to be written.
func (s *Socket) WaitRoom(time.Duration) error { return nil }

// AfterFunc runs f on the socket's loop after d.
func (s *Socket) AfterFunc(d time.Duration, f func()) *LoopTimer {
	return &LoopTimer{time.AfterFunc(d, f)}
}

// LoopTimer is a timer on an event loop.
type LoopTimer struct{ t *time.Timer }

// Reset makes the timer fire after d.
func (t *LoopTimer) Reset(d time.Duration) bool { return t.t.Reset(d) }

// Stop stops the timer.
func (t *LoopTimer) Stop() bool { return t.t.Stop() }

// WriteBuffers writes the buffers in order.
func (s *Socket) WriteBuffers(bufs [][]byte) (int64, error) {
	b := net.Buffers(bufs)
	return b.WriteTo(s.Conn)
}

// WakeAccept does nothing: there are no event loops here.
func WakeAccept(l net.Listener) {}

// Listening is a listener the loops accept from; none exist here.
type Listening struct{}

// Listen returns ErrListener: there are no event loops here.
func (ls *Loops) Listen(l net.Listener, accepted func(*Socket) Handler, temporary func(error)) (*Listening, error) {
	return nil, ErrListener
}

// Done is closed when the Listening has stopped.
func (ln *Listening) Done() <-chan struct{} { return nil }

// Err returns the error that ended the Listening.
func (ln *Listening) Err() error { return nil }

// Close stops accepting.
func (ln *Listening) Close() error { return nil }
