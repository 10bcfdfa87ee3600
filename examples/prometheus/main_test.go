package main

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/examples/internal/exampletest"
	"github.com/rfc6455/websocket/handshake"
	"github.com/rfc6455/websocket/internal/testutil"
)

// runMainEnv makes the test binary run main instead of the tests: the
// binary is then the example program (see signal_test.go).
const runMainEnv = "EXAMPLE_PROMETHEUS_RUN_MAIN"

// Every goroutine (the server's, the clients', net/http's) must be gone at
// the end.
func TestMain(m *testing.M) {
	exampletest.RunMain(runMainEnv, main)
	testutil.VerifyNoLeaks(m)
}

// TestMetrics starts the server and its /metrics, connects clients, sends
// messages, is refused once, and checks what a scrape over HTTP says.
func TestMetrics(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	srv, reg := newServer()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	defer func() {
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; err != websocket.ErrServerClosed {
			t.Errorf("Serve: %v", err)
		}
	}()
	metrics := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer metrics.Close()
	url := "ws://" + l.Addr().String()

	// Three clients, five messages each way, then one leaves with 1000
	// and one with 1001; the third stays.
	const clients, msgs, size = 3, 5, 100
	var cs []*websocket.Conn
	for range clients {
		c, err := websocket.Dial(ctx, url+"/echo", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		cs = append(cs, c)
		for range msgs {
			if err := c.SendText(ctx, strings.Repeat("x", size)); err != nil {
				t.Fatal(err)
			}
			if _, data, err := c.ReadMessage(ctx); err != nil || len(data) != size {
				t.Fatalf("echo: %d bytes, %v", len(data), err)
			}
		}
	}
	_, err = websocket.Dial(ctx, url+"/elsewhere", nil)
	var re *handshake.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusNotFound {
		t.Fatalf("Dial to an unknown path: %v, want a 404", err)
	}
	cs[0].Close(websocket.StatusNormalClosure, "")
	cs[1].Close(websocket.StatusGoingAway, "")
	// A client's frame of 100 bytes is 106 on the wire (2 header bytes,
	// 4 mask bytes), the server's 102. Closing, a client sends 6 bytes and
	// gets 4.
	want := map[string]float64{
		"websocket_connections_open":                              1,
		"websocket_handshakes_accepted_total":                     clients,
		`websocket_handshakes_refused_total{status="404"}`:        1,
		"websocket_handshakes_failed_total":                       0,
		`websocket_connections_closed_total{code="1000"}`:         1,
		`websocket_connections_closed_total{code="1001"}`:         1,
		`websocket_messages_total{direction="in"}`:                clients * msgs,
		`websocket_messages_total{direction="out"}`:               clients * msgs,
		`websocket_bytes_total{direction="in"}`:                   clients*msgs*(size+6) + 2*(6+2),
		`websocket_bytes_total{direction="out"}`:                  clients*msgs*(size+2) + 2*(2+2),
		"websocket_messages_dropped_total":                        0,
		"websocket_pong_timeouts_total":                           0,
		"websocket_connection_duration_seconds_count":             2,
		`websocket_connection_duration_seconds_bucket{le="+Inf"}`: 2,
	}
	// The server counts a frame's bytes once its write has returned,
	// which can be a moment after the client has read them: scrape until
	// the counts are all there (or the wait is over), then compare.
	matches := func(m map[string]float64) bool {
		for name, v := range want {
			if m[name] != v {
				return false
			}
		}
		return true
	}
	var m map[string]float64
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		m = scrape(t, metrics.URL)
		if matches(m) || time.Now().After(deadline) {
			break
		}
	}
	for name, v := range want {
		got, ok := m[name]
		if !ok {
			t.Errorf("%s: not scraped", name)
		} else if got != v {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
}

// scrape gets url and returns its samples by name and labels, as written.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m := make(map[string]float64)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", line, err)
		}
		m[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}
