// Command echo-tcp is a plain TCP echo server, the baseline of the
// benchmarks: what a WebSocket server would cost if framing, masking and the
// opening handshake were free.
//
//	echo-tcp -addr 127.0.0.1:9007
//
// Every accepted connection gets a goroutine that copies whatever it reads
// back to the sender with io.Copy, with no parsing at all. The load generator
// talks to it with -tcp: it skips the opening handshake and expects its
// masked client frames back byte for byte.
package main

import (
	"flag"
	"io"
	"log"
	"net"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9007", "address to listen on")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("echo-tcp: listening on %s", ln.Addr())
	for {
		conn, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go func() {
			defer conn.Close()
			// Both sides are a *net.TCPConn, so on Linux io.Copy hands
			// the bytes to splice(2) through TCPConn.ReadFrom instead of
			// a user-space buffer: that is what io.Copy does for a user,
			// so it is what the baseline measures.
			io.Copy(conn, conn)
		}()
	}
}
