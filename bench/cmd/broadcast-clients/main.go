// Command broadcast-clients is the client side of the broadcast benchmark
// (see ../broadcast): a second process that opens many TCP connections to
// the benchmark server and counts the bytes each receives, so that the
// server's time and allocations are measured without the clients in the
// same process.
//
// It dials -n connections to -addr, prints "ready", and then, each time
// every connection has received another -frame bytes (one broadcast),
// prints "done". It exits when its standard input closes.
//
// The connections carry WebSocket frames after the opening handshake; the
// benchmark skips the handshake (it measures the broadcast, not the
// upgrade), and the clients count bytes rather than parse frames, so that
// they cost the server's machine as little as possible.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"sync/atomic"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "server address")
	n := flag.Int("n", 10000, "connections")
	frameSize := flag.Int("frame", 1028, "bytes per broadcast and connection (header + payload)")
	flag.Parse()
	log.SetPrefix("broadcast-clients: ")
	log.SetFlags(0)

	conns := make([]net.Conn, *n)
	for i := range conns {
		c, err := net.DialTimeout("tcp", *addr, 10*time.Second)
		if err != nil {
			log.Fatalf("dial %d: %v", i, err)
		}
		conns[i] = c
	}

	// Each connection reports every complete broadcast; the counter for
	// round r reaches n when every connection has round r.
	const maxRounds = 1 << 16
	var counts [maxRounds]atomic.Int32
	out := bufio.NewWriter(os.Stdout)
	done := make(chan int, 64)
	for _, c := range conns {
		go func() {
			buf := make([]byte, 4096)
			var got int64
			round := 0
			for {
				k, err := c.Read(buf)
				if err != nil {
					if err != io.EOF && !errors.Is(err, net.ErrClosed) {
						log.Printf("read: %v", err)
					}
					return
				}
				got += int64(k)
				for got >= int64(*frameSize)*int64(round+1) && round < maxRounds {
					if counts[round].Add(1) == int32(*n) {
						done <- round
					}
					round++
				}
			}
		}()
	}
	go func() {
		for r := range done {
			fmt.Fprintf(out, "done %d\n", r)
			out.Flush()
		}
	}()
	fmt.Fprintln(out, "ready")
	out.Flush()
	io.Copy(io.Discard, os.Stdin) // until the server closes the pipe
	for _, c := range conns {
		c.Close()
	}
}
