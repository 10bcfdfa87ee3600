package testutil

import (
	"errors"
	"net"
	"testing"
	"time"
)

func TestLoopbackPair(t *testing.T) {
	var client, server net.Conn
	t.Run("exchange", func(t *testing.T) {
		client, server = LoopbackPair(t)
		for _, c := range []net.Conn{client, server} {
			if ap, ok := c.RemoteAddr().(*net.TCPAddr); !ok || !ap.IP.IsLoopback() {
				t.Errorf("remote address %v is not TCP loopback", c.RemoteAddr())
			}
		}
		if client.LocalAddr().String() != server.RemoteAddr().String() {
			t.Errorf("client %v is not the server's peer %v", client.LocalAddr(), server.RemoteAddr())
		}
		client.SetDeadline(time.Now().Add(5 * time.Second))
		server.SetDeadline(time.Now().Add(5 * time.Second))
		mustWrite(t, client, "hello")
		mustRead(t, server, "hello")
		mustWrite(t, server, "world")
		mustRead(t, client, "world")
	})
	// Cleanup of the subtest closed both ends.
	for _, c := range []net.Conn{client, server} {
		if c == nil {
			t.Fatal("subtest did not return connections")
		}
		if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Write after the test ended: %v, want net.ErrClosed", err)
		}
	}
}
