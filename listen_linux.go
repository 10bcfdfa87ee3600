package websocket

import (
	"context"
	"net"
	"syscall"
)

// listen is net.Listen("tcp", addr) with the TCP keep-alive settings the
// net package gives every accepted connection (probes after 15 s idle,
// every 15 s, 9 of them) set once on the listening socket, which Linux
// copies into every socket it accepts: four system calls per connection
// fewer, and the same for the event loops' sockets, which the net package
// never sees. They are set before the socket listens, so no connection
// can be accepted without them.
func listen(addr string) (net.Listener, error) {
	var serr error
	lc := net.ListenConfig{
		KeepAlive: -1,
		Control: func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) {
				for _, o := range keepAlive {
					if serr = syscall.SetsockoptInt(int(fd), o.level, o.opt, o.value); serr != nil {
						return
					}
				}
			})
		},
	}
	l, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, err
	}
	if serr != nil {
		// Leave keep-alive to the net package, per connection.
		l.Close()
		return net.Listen("tcp", addr)
	}
	return l, nil
}

// keepAlive is the net package's default keep-alive configuration
// (net.KeepAliveConfig with zero fields) as socket options.
var keepAlive = []struct{ level, opt, value int }{
	{syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1},
	{syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE, 15},
	{syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL, 15},
	{syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT, 9},
}
