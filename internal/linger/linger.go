// Package linger closes a blocking stream lingering: it ends the write
// side, then reads and discards what the peer still sends, for a bounded
// time, before it closes. Package conn (over any net.Conn) and the
// goroutine mode's sockets (internal/netpoll) share it; the event loops'
// sockets linger on their loop instead.
package linger

import (
	"net"
	"time"

	"github.com/rfc6455/websocket/internal/bufpool"
)

// bufSize is the buffer the discarded bytes are read into.
const bufSize = 4096

// Close closes nc after a linger of at most d: it ends the write side at
// once (a TCP FIN after what was written), and a goroutine of its own
// reads and discards what arrives until the peer ends its side, d passes
// or the read fails, then closes nc. A stream that cannot end its write
// side alone (no CloseWrite) is closed at once, as is any with d <= 0.
// Close itself never waits.
func Close(nc net.Conn, d time.Duration) error {
	cw, ok := nc.(interface{ CloseWrite() error })
	if !ok || d <= 0 {
		return nc.Close()
	}
	if err := cw.CloseWrite(); err != nil {
		nc.Close()
		return err
	}
	if err := nc.SetReadDeadline(time.Now().Add(d)); err != nil {
		return nc.Close()
	}
	go discard(nc)
	return nil
}

// discard reads nc until it fails (its end, the deadline or a reset) and
// closes it.
func discard(nc net.Conn) {
	b := bufpool.Get(bufSize)
	for {
		if _, err := nc.Read(b.B[:cap(b.B)]); err != nil {
			break
		}
	}
	bufpool.Put(b)
	nc.Close()
}
