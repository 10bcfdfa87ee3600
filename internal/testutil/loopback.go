package testutil

import (
	"net"
	"testing"
	"time"
)

// loopbackTimeout bounds the listen-dial-accept dance of LoopbackPair; on
// loopback it takes microseconds unless something is badly wrong.
const loopbackTimeout = 10 * time.Second

// LoopbackPair returns the two ends of a real TCP connection on 127.0.0.1,
// for tests that need kernel behaviour (partial reads, socket buffers,
// RST on close) rather than [Pipe]. Both ends are closed when the test
// finishes. Call it from the test's goroutine: it calls t.Fatal on error.
func LoopbackPair(t testing.TB) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testutil: listen on loopback: %v", err)
	}
	defer ln.Close()
	if err := ln.(*net.TCPListener).SetDeadline(time.Now().Add(loopbackTimeout)); err != nil {
		t.Fatalf("testutil: %v", err)
	}

	type accepted struct {
		c   net.Conn
		err error
	}
	result := make(chan accepted, 1)
	go func() {
		c, err := ln.Accept()
		result <- accepted{c, err}
	}()

	d := net.Dialer{Timeout: loopbackTimeout}
	client, err = d.Dial("tcp", ln.Addr().String())
	if err != nil {
		ln.Close() // unblocks Accept, so the goroutine ends before we fail
		if a := <-result; a.c != nil {
			a.c.Close()
		}
		t.Fatalf("testutil: dial loopback: %v", err)
	}
	a := <-result
	if a.err != nil {
		client.Close()
		t.Fatalf("testutil: accept on loopback: %v", a.err)
	}
	server = a.c
	t.Cleanup(func() {
		client.Close()
		server.Close()
	})
	return client, server
}
