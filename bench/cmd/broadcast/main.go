// Command broadcast measures session.Manager.Broadcast: one message sent
// to many sessions, with the clients in a second process
// (../broadcast-clients) so that the figures are the server's alone.
//
// Usage, from the bench folder:
//
//	go build -o /tmp/broadcast-clients ./cmd/broadcast-clients
//	go run ./cmd/broadcast -clients /tmp/broadcast-clients -n 10000 -size 1024
//
// The server accepts -n raw TCP connections (no opening handshake: the
// benchmark is about the broadcast) and makes each a server session with
// a send queue. Then, for each method, it sends -rounds broadcasts of one
// -size message, one at a time: each round starts when the clients report
// that every connection has the last one. Per round it measures the time
// the sending call takes, the time until every client has every byte, and
// the allocations of the server process from the call until delivery.
//
// The methods:
//
//	prepared  Manager.Broadcast: framed once (conn.Prepare), queued to
//	          every session, written by each session's writer goroutine
//	enqueue   Session.Enqueue for each session: queued, but framed by each
//	          session's writer goroutine
//	naive     Session.WriteMessage for each session, one after the other,
//	          from the broadcasting goroutine
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/session"
)

func main() {
	n := flag.Int("n", 10000, "sessions")
	size := flag.Int("size", 1024, "message size in bytes")
	rounds := flag.Int("rounds", 30, "broadcasts per method")
	queue := flag.Int("queue", 64, "SendQueueSize of every session")
	methods := flag.String("methods", "prepared,enqueue,naive", "methods to measure, in order")
	clients := flag.String("clients", "broadcast-clients", "the broadcast-clients binary")
	flag.Parse()
	log.SetPrefix("broadcast: ")
	log.SetFlags(0)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	frameSize := frame.Header{Length: int64(*size)}.Size() + *size
	cmd := exec.Command(*clients, "-addr", ln.Addr().String(), "-n", fmt.Sprint(*n), "-frame", fmt.Sprint(frameSize))
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()

	m := session.NewManager(nil)
	opts := &session.Options{SendQueueSize: *queue, SlowPolicy: session.PolicyBlock}
	for i := range *n {
		nc, err := ln.Accept()
		if err != nil {
			log.Fatalf("accept %d: %v", i, err)
		}
		c := conn.New(nc, conn.Server, nil)
		c.Open(nil)
		m.Add(session.New(c, opts))
	}
	ln.Close()
	lines := bufio.NewScanner(stdout)
	expect := func(want string) {
		if !lines.Scan() || lines.Text() != want {
			log.Fatalf("clients said %q (%v), want %q", lines.Text(), lines.Err(), want)
		}
	}
	expect("ready")

	msg := make([]byte, *size)
	sessions := make([]*session.Session, 0, *n)
	m.Range(func(s *session.Session) bool { sessions = append(sessions, s); return true })
	send := map[string]func(){
		"prepared": func() {
			if r := m.Broadcast(frame.OpBinary, msg); r.Sent != *n {
				log.Fatalf("Broadcast: %+v", r)
			}
		},
		"enqueue": func() {
			for _, s := range sessions {
				if err := s.Enqueue(frame.OpBinary, msg); err != nil {
					log.Fatal(err)
				}
			}
		},
		"naive": func() {
			for _, s := range sessions {
				if err := s.WriteMessage(context.Background(), frame.OpBinary, msg); err != nil {
					log.Fatal(err)
				}
			}
		},
	}

	fmt.Printf("%d sessions, %d-byte messages (%d-byte frames), %d rounds per method, GOMAXPROCS %d, %s\n",
		*n, *size, frameSize, *rounds, runtime.GOMAXPROCS(0), loadAvg())
	fmt.Printf("%-9s %12s %12s %12s %12s %10s %10s\n", "method", "call p50", "call p90", "deliver p50", "deliver p90", "allocs/op", "B/op")
	round := 0
	for _, name := range strings.Split(*methods, ",") {
		fn := send[name]
		if fn == nil {
			log.Fatalf("unknown method %q", name)
		}
		var calls, delivers []time.Duration
		var mallocs, bytes uint64
		var before, after runtime.MemStats
		for r := -2; r < *rounds; r++ { // two rounds of warm-up
			runtime.ReadMemStats(&before)
			start := time.Now()
			fn()
			call := time.Since(start)
			expect(fmt.Sprintf("done %d", round))
			deliver := time.Since(start)
			runtime.ReadMemStats(&after)
			round++
			if r < 0 {
				continue
			}
			calls = append(calls, call)
			delivers = append(delivers, deliver)
			mallocs += after.Mallocs - before.Mallocs
			bytes += after.TotalAlloc - before.TotalAlloc
		}
		fmt.Printf("%-9s %12v %12v %12v %12v %10d %10d\n", name,
			pct(calls, 50), pct(calls, 90), pct(delivers, 50), pct(delivers, 90),
			mallocs/uint64(*rounds), bytes/uint64(*rounds))
	}
}

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[(len(s)-1)*p/100].Round(10 * time.Microsecond)
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load average unknown"
	}
	f := strings.Fields(string(b))
	return "load average " + f[0]
}
