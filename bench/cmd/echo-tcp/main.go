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
//
// With -splice=false each connection copies through a 4 KiB buffer of its
// own instead: io.Copy between two TCP sockets splices through a pipe, two
// file descriptors per connection for as long as it is open, so 10,000
// connections would need 30,000 descriptors, past the machine's limit of
// 20,000 per process. The driver passes it for its 10,000-connection
// scenarios.
package main

import (
	"flag"
	"io"
	"log"
	"net"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9007", "address to listen on")
	splice := flag.Bool("splice", true, "copy with io.Copy (splice(2) through a pipe per connection); false: a 4 KiB buffer per connection")
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
			if *splice {
				io.Copy(conn, conn)
				return
			}
			// Hide ReadFrom and WriteTo, so that io.CopyBuffer uses buf.
			buf := make([]byte, 4096)
			io.CopyBuffer(struct{ io.Writer }{conn}, struct{ io.Reader }{conn}, buf)
		}()
	}
}
