// Command prometheus is an echo server whose counters Prometheus scrapes:
// a websocket.Server serves ws://ADDR/echo, and /metrics on the metrics
// address exports its Stats with github.com/prometheus/client_golang.
//
//	go run . -addr 127.0.0.1:8080 -metrics 127.0.0.1:9090
//	curl -s 127.0.0.1:9090/metrics | grep ^websocket_
//
// The counters are read from Server.Stats when Prometheus scrapes (a
// collector), so no message pays for a metric; the histogram of connection
// lifetimes is fed by a hook (Server.Hooks.OnClose), once per connection.
// It is a module of its own, so that the library's go.mod stays empty.
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rfc6455/websocket"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address of the WebSocket server")
	metricsAddr := flag.String("metrics", "127.0.0.1:9090", "address of /metrics")
	flag.Parse()

	srv, reg := newServer()
	ws, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	ml, err := net.Listen("tcp", *metricsAddr)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	metrics := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := metrics.Serve(ml); err != http.ErrServerClosed {
			log.Fatal(err)
		}
	}()

	// On SIGINT or SIGTERM: 1001 (going away) to every client, then exit.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	shutDown := make(chan struct{})
	go func() {
		defer close(shutDown)
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
		metrics.Shutdown(shut)
	}()
	log.Printf("prometheus: serving ws://%s/echo, metrics on http://%s/metrics", ws.Addr(), ml.Addr())
	if err := srv.Serve(ws); err != websocket.ErrServerClosed {
		log.Fatal(err)
	}
	// Serve returns as soon as Shutdown has closed the listener: wait for
	// the close handshakes before exiting, or the clients get no 1001.
	<-shutDown
}

// newServer returns the echo server and a registry holding its metrics.
func newServer() (*websocket.Server, *prometheus.Registry) {
	srv := &websocket.Server{}
	srv.Options.OnMessage = func(c *websocket.Conn, typ websocket.MessageType, data []byte) {
		c.WriteMessage(context.Background(), typ, data)
	}
	// Only /echo exists: other paths get 404 before the upgrade.
	srv.Options.OnRequest = func(r *websocket.Request) (any, error) {
		if r.RequestURI != "/echo" {
			return nil, &websocket.HandshakeError{StatusCode: http.StatusNotFound, Reason: "no such endpoint"}
		}
		return nil, nil
	}

	lifetimes := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "websocket_connection_duration_seconds",
		Help:    "How long WebSocket connections stayed open.",
		Buckets: prometheus.ExponentialBuckets(0.01, 10, 7), // 10 ms to 10^4 s
	})
	srv.Hooks.OnClose = func(c *websocket.Conn, _ websocket.StatusCode) {
		lifetimes.Observe(c.Stats().Uptime.Seconds())
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(statsCollector{srv}, lifetimes)
	return srv, reg
}

// The metrics statsCollector exports, from websocket.ServerStats.
var (
	openDesc     = desc("websocket_connections_open", "WebSocket connections open now.")
	acceptedDesc = desc("websocket_handshakes_accepted_total", "Opening handshakes answered with 101.")
	refusedDesc  = desc("websocket_handshakes_refused_total", "Opening handshakes refused, by HTTP status.", "status")
	failedDesc   = desc("websocket_handshakes_failed_total", "Opening handshakes that ended without an answer.")
	closedDesc   = desc("websocket_connections_closed_total", "Connections that ended, by close code.", "code")
	messagesDesc = desc("websocket_messages_total", "Data messages, by direction (in, out).", "direction")
	bytesDesc    = desc("websocket_bytes_total", "Bytes on the wire after the handshake, by direction.", "direction")
	droppedDesc  = desc("websocket_messages_dropped_total", "Messages the send queues dropped.")
	pongDesc     = desc("websocket_pong_timeouts_total", "Connections ended by a missing pong.")
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// statsCollector reads the server's Stats once per scrape.
type statsCollector struct{ srv *websocket.Server }

func (statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{openDesc, acceptedDesc, refusedDesc, failedDesc,
		closedDesc, messagesDesc, bytesDesc, droppedDesc, pongDesc} {
		ch <- d
	}
}

func (c statsCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.srv.Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	ch <- prometheus.MustNewConstMetric(openDesc, prometheus.GaugeValue, float64(st.Open))
	counter(acceptedDesc, st.Accepted)
	for status, n := range st.Refused {
		counter(refusedDesc, n, strconv.Itoa(status))
	}
	counter(failedDesc, st.Failed)
	for code, n := range st.Closed {
		counter(closedDesc, n, strconv.Itoa(int(code)))
	}
	counter(messagesDesc, st.MessagesIn, "in")
	counter(messagesDesc, st.MessagesOut, "out")
	counter(bytesDesc, st.BytesIn, "in")
	counter(bytesDesc, st.BytesOut, "out")
	counter(droppedDesc, st.Dropped)
	counter(pongDesc, st.PongTimeouts)
}
