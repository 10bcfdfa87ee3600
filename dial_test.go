package websocket_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/endpoint"
	"github.com/rfc6455/websocket/handshake"
)

// TestDialBadURL: anything but ws:// and wss:// is refused before any
// network traffic.
func TestDialBadURL(t *testing.T) {
	dialed := false
	opts := &websocket.DialOptions{NetDialContext: func(context.Context, string, string) (net.Conn, error) {
		dialed = true
		return nil, errors.New("must not dial")
	}}
	for _, u := range []string{"http://127.0.0.1/", "https://127.0.0.1/", "ftp://127.0.0.1/", "localhost:80", "", "//127.0.0.1/ws"} {
		_, err := websocket.Dial(context.Background(), u, opts)
		if !errors.Is(err, websocket.ErrBadURL) {
			t.Errorf("Dial(%q): %v, want ErrBadURL", u, err)
		}
	}
	// Scheme matching is case-insensitive (RFC 3986 §3.1): "WS" is ws.
	if _, err := websocket.Dial(context.Background(), "WS://127.0.0.1/", opts); errors.Is(err, websocket.ErrBadURL) {
		t.Errorf("Dial(WS://...): ErrBadURL, want the scheme accepted")
	}
	dialed = false
	for _, u := range []string{"ws://[::1", "ws://a b/", "ws://%zz/"} {
		if _, err := websocket.Dial(context.Background(), u, opts); !errors.Is(err, websocket.ErrBadURL) {
			t.Errorf("Dial(%q): %v, want an ErrBadURL", u, err)
		}
	}
	// Without NetDialContext the host and port are checked by package
	// endpoint, whose error is the same value.
	for _, u := range []string{"ws://", "ws://127.0.0.1:99999/", "wss://:443/"} {
		if _, err := websocket.Dial(context.Background(), u, nil); !errors.Is(err, websocket.ErrBadURL) || !errors.Is(err, endpoint.ErrBadURL) {
			t.Errorf("Dial(%q): %v, want an ErrBadURL (endpoint's value)", u, err)
		}
	}
	if dialed {
		t.Error("an unparsable URL was dialed")
	}
}

// TestDialRefused: a server that answers 403 gives a *handshake.ResponseError
// carrying what it said.
func TestDialRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Why", "banned")
		http.Error(w, "go away", http.StatusForbidden)
	}))
	defer srv.Close()
	c, err := websocket.Dial(testCtx(t), wsURL(srv, "/"), nil)
	if err == nil {
		c.CloseNow()
		t.Fatal("Dial succeeded against a 403")
	}
	var re *handshake.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("Dial: %T %v, want a *handshake.ResponseError", err, err)
	}
	if re.StatusCode != http.StatusForbidden || re.Header.Get("X-Why") != "banned" || !strings.Contains(string(re.Body), "go away") {
		t.Fatalf("ResponseError: status %d, X-Why %q, body %q", re.StatusCode, re.Header.Get("X-Why"), re.Body)
	}
}

// silentListener accepts connections and never answers; it returns the
// address. Connections are closed at the end of the test.
func silentListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		mu.Lock()
		for _, nc := range conns {
			nc.Close()
		}
		mu.Unlock()
	})
	return l.Addr().String()
}

// TestDialHandshakeTimeout: a server that never answers costs at most
// HandshakeTimeout, and the error says it was the deadline, whether the
// wait was for the HTTP response or for the TLS handshake.
func TestDialHandshakeTimeout(t *testing.T) {
	addr := silentListener(t)
	for _, scheme := range []string{"ws", "wss"} {
		t.Run(scheme, func(t *testing.T) {
			start := time.Now()
			_, err := websocket.Dial(context.Background(), scheme+"://"+addr+"/", &websocket.DialOptions{HandshakeTimeout: 200 * time.Millisecond})
			d := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Dial: %v, want context.DeadlineExceeded", err)
			}
			if d < 150*time.Millisecond || d > 3*time.Second {
				t.Fatalf("Dial returned after %v, want about 200ms", d)
			}
		})
	}
}

// TestDialContextCancelled: cancelling ctx during the handshake ends Dial at
// once, with context.Canceled; a ctx cancelled beforehand never dials.
func TestDialContextCancelled(t *testing.T) {
	addr := silentListener(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := websocket.Dial(ctx, "ws://"+addr+"/", nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Dial: %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Dial returned %v after cancel", d)
	}

	_, err = websocket.Dial(ctx, "ws://"+addr+"/", nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Dial with a cancelled ctx: %v, want context.Canceled", err)
	}
}

// TestDialContextAfterDial: once Dial has returned, its ctx no longer
// matters.
func TestDialContextAfterDial(t *testing.T) {
	srv, _ := acceptServer(t, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	c, err := websocket.Dial(ctx, wsURL(srv, "/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	cancel()
	ctx = testCtx(t)
	if err := c.SendText(ctx, "still here"); err != nil {
		t.Fatal(err)
	}
	if _, data, err := c.ReadMessage(ctx); err != nil || string(data) != "still here" {
		t.Fatalf("ReadMessage: %q %v", data, err)
	}
	c.Close(websocket.StatusNormalClosure, "")
}

// TestDialHeader: DialOptions.Header reaches the server, along with the
// request path and query; a header the handshake owns is an error.
func TestDialHeader(t *testing.T) {
	got := make(chan *http.Request, 1)
	srv, _ := acceptServer(t, nil, func(c *websocket.Conn, r *http.Request) {
		got <- r
		echoHandler(c, nil)
	})
	opts := &websocket.DialOptions{Header: http.Header{
		"Authorization": {"Bearer t0ken"},
		"X-Multi":       {"a", "b"},
	}}
	c, err := websocket.Dial(testCtx(t), wsURL(srv, "/room/7?user=ann"), opts)
	if err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.Header.Get("Authorization") != "Bearer t0ken" || strings.Join(r.Header.Values("X-Multi"), ",") != "a,b" {
		t.Errorf("server saw headers %v", r.Header)
	}
	if r.URL.Path != "/room/7" || r.URL.Query().Get("user") != "ann" {
		t.Errorf("server saw target %q", r.RequestURI)
	}
	c.Close(websocket.StatusNormalClosure, "")

	for _, k := range []string{"Sec-Websocket-Key", "Upgrade", "Host"} {
		opts := &websocket.DialOptions{Header: http.Header{k: {"x"}}}
		if c, err := websocket.Dial(testCtx(t), wsURL(srv, "/"), opts); err == nil {
			c.CloseNow()
			t.Errorf("Dial with Header %s succeeded, want an error", k)
		}
	}
}

// TestDialNetDialContext: the custom dialer gets the host and port from
// the URL (the scheme's default port when there is none), and its errors
// come back from Dial unchanged.
func TestDialNetDialContext(t *testing.T) {
	hostSaw := make(chan string, 1)
	srv, _ := acceptServer(t, nil, func(c *websocket.Conn, r *http.Request) {
		hostSaw <- r.Host
		echoHandler(c, nil)
	})
	real := srv.Listener.Addr().String()
	var asked []string
	errNoRoute := errors.New("no route in this test")
	opts := &websocket.DialOptions{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		asked = append(asked, network+" "+addr)
		if addr != "echo.test:1234" {
			return nil, errNoRoute
		}
		var d net.Dialer
		return d.DialContext(ctx, network, real)
	}}
	c, err := websocket.Dial(testCtx(t), "ws://echo.test:1234/", opts)
	if err != nil {
		t.Fatal(err)
	}
	if h := <-hostSaw; h != "echo.test:1234" {
		t.Errorf("Host %q, want echo.test:1234", h)
	}
	ctx := testCtx(t)
	if err := c.SendText(ctx, "via custom dialer"); err != nil {
		t.Fatal(err)
	}
	if _, data, err := c.ReadMessage(ctx); err != nil || string(data) != "via custom dialer" {
		t.Fatalf("ReadMessage: %q %v", data, err)
	}
	c.Close(websocket.StatusNormalClosure, "")

	for _, u := range []string{"ws://echo.test/", "wss://echo.test/", "ws://[::1]/"} {
		if _, err := websocket.Dial(ctx, u, opts); !errors.Is(err, errNoRoute) {
			t.Errorf("Dial(%q): %v, want the dialer's error", u, err)
		}
	}
	want := []string{"tcp echo.test:1234", "tcp echo.test:80", "tcp echo.test:443", "tcp [::1]:80"}
	if strings.Join(asked, "|") != strings.Join(want, "|") {
		t.Errorf("dialer asked for %q, want %q", asked, want)
	}
}

// TestDialTLS: wss:// to an httptest TLS server, trusting its certificate
// through DialOptions.TLSConfig; without it the certificate is refused.
func TestDialTLS(t *testing.T) {
	var handlers sync.WaitGroup
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Done()
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		echoHandler(c, nil)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused certificate below
	srv.StartTLS()
	defer func() { srv.Close(); waitGroupTimeout(t, &handlers, 5*time.Second) }()
	url := wsURL(srv, "/secure") // wss://127.0.0.1:port/secure

	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	cfg := &tls.Config{RootCAs: roots}
	c, err := websocket.Dial(testCtx(t), url, &websocket.DialOptions{TLSConfig: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ServerName != "" {
		t.Errorf("Dial modified the caller's TLSConfig (ServerName %q)", cfg.ServerName)
	}
	// The server speaks only TLS: the echo crosses it.
	echoOnce(t, c, strings.Repeat("secret ", 1000))
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Errorf("Close: %v", err)
	}

	_, err = websocket.Dial(testCtx(t), url, nil)
	var uae x509.UnknownAuthorityError
	if !errors.As(err, &uae) {
		t.Fatalf("Dial without the root: %v, want x509.UnknownAuthorityError", err)
	}
}

func echoOnce(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	ctx := testCtx(t)
	if err := c.SendText(ctx, msg); err != nil {
		t.Fatalf("SendText: %v", err)
	}
	typ, data, err := c.ReadMessage(ctx)
	if err != nil || typ != websocket.TextMessage || string(data) != msg {
		t.Fatalf("echo: %v %d bytes %v, want text of %d bytes", typ, len(data), err, len(msg))
	}
}

// selfSigned writes a fresh self-signed certificate for 127.0.0.1 and its
// key to dir as PEM files and returns their paths and the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "websocket test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err = x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	write := func(name, typ string, b []byte) {
		if err := os.WriteFile(name, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(certFile, "CERTIFICATE", der)
	write(keyFile, "PRIVATE KEY", keyDER)
	return certFile, keyFile, cert
}

// TestServerListenAndServeTLS: a Server on TLS with certificate files, a
// wss:// client trusting that certificate, an echo, and a clean shutdown.
func TestServerListenAndServeTLS(t *testing.T) {
	certFile, keyFile, cert := selfSigned(t, t.TempDir())

	// ListenAndServeTLS listens on Addr itself: find a free port first.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	srv := &websocket.Server{Addr: addr, Handler: echoHandler}
	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServeTLS(certFile, keyFile) }()

	roots := x509.NewCertPool()
	roots.AddCert(cert)
	opts := &websocket.DialOptions{TLSConfig: &tls.Config{RootCAs: roots}}
	var c *websocket.Conn
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c, err = websocket.Dial(testCtx(t), "wss://"+addr+"/", opts)
		if err == nil {
			break
		}
		select {
		case err := <-served:
			t.Fatalf("ListenAndServeTLS: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("Dial: %v", err)
		}
	}
	echoOnce(t, c, "over TLS")

	// A plain ws:// client on the TLS port fails; the server survives it.
	if c2, err := websocket.Dial(testCtx(t), "ws://"+addr+"/", &websocket.DialOptions{HandshakeTimeout: time.Second}); err == nil {
		c2.CloseNow()
		t.Error("ws:// to a TLS port succeeded")
	}
	echoOnce(t, c, "still over TLS")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go c.Serve(ctx) // answer the server's close frame
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-served; !errors.Is(err, websocket.ErrServerClosed) {
		t.Fatalf("ListenAndServeTLS returned %v, want ErrServerClosed", err)
	}
	<-c.Done()
	var ce *websocket.CloseError
	if !errors.As(c.Err(), &ce) || ce.Code != websocket.StatusGoingAway {
		t.Fatalf("client ended with %v, want 1001", c.Err())
	}

	// Missing files are reported at once.
	srv2 := &websocket.Server{Addr: "127.0.0.1:0", Handler: echoHandler}
	if err := srv2.ListenAndServeTLS(filepath.Join(t.TempDir(), "none.pem"), keyFile); err == nil || errors.Is(err, websocket.ErrServerClosed) {
		t.Fatalf("ListenAndServeTLS with a missing cert: %v", err)
	}
}
