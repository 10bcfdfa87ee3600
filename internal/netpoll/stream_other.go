//go:build !unix

package netpoll

import (
	"net"
	"time"
)

// Stream does not exist here: the goroutine mode reads sockets through the
// net package (conn.New's stream), with a read buffer held while waiting.
type Stream struct{ net.Conn }

// NewStream returns false: raw socket reads need a Unix system.
func NewStream(net.Conn) (*Stream, bool) { return nil, false }

// The methods of conn.Transport, never called: no Stream exists here.

func (s *Stream) ReadLazy(b bufferLender) (int, error)      { return s.Read(b.Lend()) }
func (s *Stream) Writev(bufs *net.Buffers) (int64, error)   { return bufs.WriteTo(s.Conn) }
func (s *Stream) WaitRoom(time.Duration) error              { return nil }
func (s *Stream) AfterFunc(d time.Duration, f func()) timer { return time.AfterFunc(d, f) }
func (s *Stream) Abort() error                              { return s.Close() }
func (s *Stream) Nonblocking() bool                         { return false }
