//go:build !linux

package netpoll

import (
	"errors"
	"net"
	"time"
)

// Loops is a fixed set of event loops. They exist on Linux only: here
// Start returns an error, and callers keep to a goroutine per connection.
type Loops struct {
	N        int
	Affinity bool
}

// Start returns an error: event loops need Linux.
func (ls *Loops) Start() error { return errNoLoops }

// ErrListener is returned by Listen for a listener it cannot take sockets from.
var ErrListener = errors.New("websocket: event loops need Linux")

var errNoLoops = errors.New("websocket: event loops need Linux (epoll)")

// Close does nothing.
func (ls *Loops) Close() error { return nil }

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

// ReadLazy reads into b's buffer.
func (s *Socket) ReadLazy(b bufferLender) (int, error) { return s.Read(b.Lend()) }

// Writev writes the buffers in order.
func (s *Socket) Writev(bufs *net.Buffers) (int64, error) { return bufs.WriteTo(s.Conn) }

// WaitRoom waits while too much waits to be written.
func (s *Socket) WaitRoom(time.Duration) error { return nil }

// AfterFunc runs f on the socket's loop after d.
func (s *Socket) AfterFunc(d time.Duration, f func()) timer { return time.AfterFunc(d, f) }

// Abort closes the socket at once.
func (s *Socket) Abort() error { return s.Close() }

// Nonblocking reports true.
func (s *Socket) Nonblocking() bool { return true }

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
