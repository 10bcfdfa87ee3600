package websocket

import (
	"net"
	"syscall"
	"testing"
)

// TestListenKeepAlive checks that the sockets ListenAndServe's listener
// accepts carry the net package's default keep-alive settings, which
// listen sets on the listener only: Linux copies them into each accepted
// socket, and the net package, told not to, sets nothing itself.
func TestListenKeepAlive(t *testing.T) {
	l, err := listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	rc.Control(func(fd uintptr) {
		for _, o := range keepAlive {
			got, err := syscall.GetsockoptInt(int(fd), o.level, o.opt)
			if err != nil || got != o.value {
				t.Errorf("option %d/%d of an accepted socket = %d (%v), want %d", o.level, o.opt, got, err, o.value)
			}
		}
	})
}
