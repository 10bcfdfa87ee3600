// Command bombs measures a Server under a flood of compression bombs, from
// outside: n connections negotiate permessage-deflate and each sends one
// message of about 1 MiB on the wire that inflates to 1 GiB of zeros, all
// at once. The server runs in a child process (this program with -serve),
// with the library's defaults unless told otherwise, and is measured
// through /proc/PID/status: its RSS before, at its peak and after the
// bombers have gone (when it is back within 64 MiB of the baseline, if it
// is within -watch, and at the end of -watch), and how each bomber was
// closed (code, time).
//
//	go run ./internal/cmd/bombs [-n 200] [-io both] [-inflate 1073741824] [-limit 0] [-budget 0] [-watch 60s]
//
// Loopback only; every connection has a deadline, and the child ends with
// the program.
package main

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rfc6455/websocket"
)

func main() {
	n := flag.Int("n", 200, "bombers, all at once")
	ioMode := flag.String("io", "both", "server I/O mode: goroutine, eventloop or both")
	inflate := flag.Int64("inflate", 1<<30, "bytes each bomb inflates to (zeros)")
	limit := flag.Int64("limit", 0, "server MaxMessageSize (0: the library's default)")
	budget := flag.Int64("budget", 0, "server memory budget in bytes (0: the default, negative: none)")
	watch := flag.Duration("watch", 60*time.Second, "how long to watch RSS after the bombers have gone")
	serve := flag.String("serve", "", "run as the server in this I/O mode (used by the program itself)")
	flag.Parse()
	if *serve != "" {
		runServer(*serve, *limit, *budget)
		return
	}
	modes := []string{*ioMode}
	if *ioMode == "both" {
		modes = []string{"goroutine", "eventloop"}
	}
	start := time.Now()
	bomb := makeBomb(*inflate)
	log.Printf("bomb: %d bytes on the wire, inflating to %d (made in %v)", len(bomb), *inflate, time.Since(start).Round(time.Millisecond))
	var rows []result
	for _, mode := range modes {
		r, err := run(mode, *n, bomb, *limit, *budget, *watch)
		if err != nil {
			log.Fatalf("%s: %v", mode, err)
		}
		rows = append(rows, r)
	}
	fmt.Println()
	fmt.Println("| mode | bombers | RSS before | peak | growth | closes | close p50 | close max | RSS when gone | back within 64 MiB | budget peak |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		back := "not within " + watch.String()
		if r.back >= 0 {
			back = "after " + r.back.Round(100*time.Millisecond).String()
		}
		fmt.Printf("| %s | %d | %s | %s | %s | %s | %v | %v | %s | %s (%s at the end) | %s |\n",
			r.mode, r.n, mib(r.base), mib(r.peak), mib(r.peak-r.base), r.codes(),
			r.p(0.5), r.p(1), mib(r.gone), back, mib(r.last), r.server)
	}
}

// result is one mode's figures.
type result struct {
	mode             string
	n                int
	base, peak, gone int64 // RSS: before, peak, when the last bomber left
	last             int64 // RSS at the end of the watch
	back             time.Duration
	closes           []time.Duration // time to the close frame, per bomber that got one
	code             map[int]int     // close code (0: none, -1: error) -> bombers
	server           string          // what the server says of its budget
}

func (r *result) codes() string {
	var keys []int
	for k := range r.code {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		name := strconv.Itoa(k)
		switch k {
		case 0:
			name = "none"
		case -1:
			name = "error"
		}
		parts = append(parts, fmt.Sprintf("%s: %d", name, r.code[k]))
	}
	return strings.Join(parts, ", ")
}

func (r *result) p(q float64) time.Duration {
	if len(r.closes) == 0 {
		return 0
	}
	s := slices.Clone(r.closes)
	slices.Sort(s)
	i := min(len(s)-1, int(q*float64(len(s))))
	return s[i].Round(time.Millisecond)
}

func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }

// makeBomb returns the payload of a permessage-deflate message that
// inflates to n zeros: DEFLATE ending in a sync flush, without its
// 00 00 ff ff (RFC 7692 §7.2.1).
func makeBomb(n int64) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	zeros := make([]byte, 1<<20)
	for left := n; left > 0; left -= int64(len(zeros)) {
		w.Write(zeros[:min(left, int64(len(zeros)))])
	}
	w.Flush()
	return bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// run starts a server in mode and floods it.
func run(mode string, n int, bomb []byte, limit, budget int64, watch time.Duration) (result, error) {
	r := result{mode: mode, n: n, code: map[int]int{}, back: -1}
	cmd := exec.Command(os.Args[0], "-serve", mode, "-limit", strconv.FormatInt(limit, 10), "-budget", strconv.FormatInt(budget, 10))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return r, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return r, err
	}
	if err := cmd.Start(); err != nil {
		return r, err
	}
	defer cmd.Process.Kill()
	out := bufio.NewReader(stdout)
	line, err := out.ReadString('\n')
	if err != nil {
		return r, fmt.Errorf("server address: %v", err)
	}
	addr := strings.TrimSpace(line)
	pid := cmd.Process.Pid
	time.Sleep(time.Second)
	r.base = rss(pid)

	// Sample RSS while the bombs go off.
	stop := make(chan struct{})
	var peakMu sync.Mutex
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				v := rss(pid)
				peakMu.Lock()
				r.peak = max(r.peak, v)
				peakMu.Unlock()
			}
		}
	}()

	// Every bomber shakes hands first, then all send at once.
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := handshake(addr)
		if err != nil {
			return r, err
		}
		conns = append(conns, c)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	begin := time.Now()
	for _, c := range conns {
		wg.Go(func() {
			code, at, err := bombard(c, bomb, begin)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				r.code[-1]++
			default:
				r.code[code]++
				if code != 0 {
					r.closes = append(r.closes, at)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	<-sampled
	gone := time.Now()
	r.gone = rss(pid)
	r.peak = max(r.peak, r.gone)
	for time.Since(gone) < watch {
		time.Sleep(100 * time.Millisecond)
		r.last = rss(pid)
		if r.back < 0 && r.last <= r.base+64<<20 {
			r.back = time.Since(gone)
		}
	}
	stdin.Close() // the server reports and exits
	rest, _ := io.ReadAll(out)
	r.server = strings.TrimSpace(string(rest))
	cmd.Wait()
	log.Printf("%s: %+v", mode, r)
	return r, nil
}

// handshake opens a connection that has agreed on permessage-deflate.
func handshake(addr string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"+
		"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n", addr)
	br := bufio.NewReader(c)
	status, err := br.ReadString('\n')
	if err != nil || !strings.Contains(status, " 101 ") {
		c.Close()
		return nil, fmt.Errorf("handshake: %q %v", status, err)
	}
	deflate := false
	for {
		h, err := br.ReadString('\n')
		if err != nil {
			c.Close()
			return nil, err
		}
		if h == "\r\n" {
			break
		}
		deflate = deflate || strings.Contains(strings.ToLower(h), "permessage-deflate")
	}
	if !deflate || br.Buffered() > 0 {
		c.Close()
		return nil, errors.New("handshake: no permessage-deflate, or early bytes")
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// bombard sends the bomb as one compressed binary frame (masked with a zero
// key, which leaves the payload as it is) and reads until the server's
// close frame: its code and when it came.
func bombard(c net.Conn, bomb []byte, begin time.Time) (code int, at time.Duration, err error) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	hdr := make([]byte, 14)
	hdr[0] = 0x80 | 0x40 | 0x2 // FIN, RSV1, binary
	hdr[1] = 0x80 | 127
	binary.BigEndian.PutUint64(hdr[2:], uint64(len(bomb)))
	// hdr[10:14]: the mask key, zero.
	go func() {
		c.Write(hdr)
		c.Write(bomb) // fails once the server closes: that is fine
	}()
	br := bufio.NewReader(c)
	for {
		var h [2]byte
		if _, err := io.ReadFull(br, h[:]); err != nil {
			return 0, 0, nil // dropped without a close frame
		}
		n := int64(h[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			io.ReadFull(br, b[:])
			n = int64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			io.ReadFull(br, b[:])
			n = int64(binary.BigEndian.Uint64(b[:]))
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(br, p); err != nil {
			return 0, 0, nil
		}
		if h[0]&0x0f == 0x8 {
			at = time.Since(begin)
			if len(p) >= 2 {
				code = int(binary.BigEndian.Uint16(p))
			}
			// Answer the close (masked, zero key) and leave.
			c.Write([]byte{0x88, 0x80, 0, 0, 0, 0})
			return code, at, nil
		}
	}
}

// rss returns the resident set of process pid, in bytes.
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// runServer is the child: an echo Server with compression on loopback,
// its address on stdout, serving until stdin closes; it then reports its
// budget on stdout and exits.
func runServer(mode string, limit, budget int64) {
	srv := &websocket.Server{
		IO: websocket.IOGoroutine,
		Options: websocket.AcceptOptions{
			Options: websocket.Options{
				MaxMessageSize: limit,
				Compression:    &websocket.CompressionOptions{},
				OnMessage: func(c *websocket.Conn, typ websocket.MessageType, data []byte) {
					c.WriteMessage(context.Background(), typ, data)
				},
			},
			InsecureSkipOriginCheck: true,
		},
		MaxConnections: -1,
	}
	if mode == "eventloop" {
		srv.IO = websocket.IOEventLoop
	}
	switch {
	case budget < 0:
		srv.Options.Budget = websocket.NewBudget(0, 0)
	case budget > 0:
		srv.Options.Budget = websocket.NewBudget(budget, 0)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(l.Addr())
	go srv.Serve(l)
	io.Copy(io.Discard, os.Stdin)
	b := srv.Budget()
	fmt.Printf("%s of %s, %s held now\n", mib(b.Peak()), mib(b.Size()), mib(b.Used()))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
}
