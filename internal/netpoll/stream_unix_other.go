//go:build unix && !linux

package netpoll

import "net"

// streamWriter is empty: elsewhere than Linux, writes go through the net
// package.
type streamWriter struct{}

func (s *Stream) bind() {}

// Writev writes *bufs with net.Buffers (writev where the net package can).
func (s *Stream) Writev(bufs *net.Buffers) (int64, error) { return bufs.WriteTo(s.Conn) }
