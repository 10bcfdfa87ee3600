package websocket_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/rfc6455/websocket"
)

// jsonish returns n bytes of repetitive JSON-like text, seeded.
func jsonish(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	for b.Len() < n {
		fmt.Fprintf(&b, `{"id":%d,"user":"user%d","tags":["a","b%d"],"ok":%t},`, r.IntN(1000), r.IntN(50), r.IntN(9), r.IntN(2) == 0)
	}
	return b.Bytes()[:n]
}

// TestCompressionEcho: every combination of the four RFC 7692 parameters
// and both context-takeover settings, offered by a client and accepted by
// a server configured differently, carries messages of every shape both
// ways, compressed on the wire.
func TestCompressionEcho(t *testing.T) {
	type cfg = websocket.CompressionOptions
	cases := []struct {
		name           string
		client, server cfg
	}{
		{"defaults", cfg{}, cfg{}},
		{"no takeover both, asked by client", cfg{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, cfg{}},
		{"no takeover both, imposed by server", cfg{}, cfg{ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
		{"small windows asked by client", cfg{ServerMaxWindowBits: 9, ClientMaxWindowBits: 8}, cfg{}},
		{"small windows imposed by server", cfg{}, cfg{ServerMaxWindowBits: 10, ClientMaxWindowBits: 11}},
		{"window 8 without takeover", cfg{ServerMaxWindowBits: 8, ServerNoContextTakeover: true}, cfg{ClientMaxWindowBits: 8, ClientNoContextTakeover: true}},
		{"level 9", cfg{Level: 9}, cfg{Level: 9}},
	}
	msgs := [][]byte{
		[]byte("small"),
		{},
		jsonish(200, 1),
		jsonish(70_000, 2),
		bytes.Repeat([]byte("abc"), 100_000),
		jsonish(400_000, 3),
	}
	random := make([]byte, 100_000)
	for i := range random {
		random[i] = byte(rand.N(256))
	}
	msgs = append(msgs, random)

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			server := tc.server
			opts := &websocket.AcceptOptions{Options: websocket.Options{Compression: &server}}
			srv, _ := acceptServer(t, opts, func(c *websocket.Conn, _ *http.Request) {
				if !c.Compressed() {
					t.Error("server: compression not negotiated")
				}
				echoHandler(c, nil)
			})
			client := tc.client
			c, err := websocket.Dial(testCtx(t), wsURL(srv, "/"), &websocket.DialOptions{Options: websocket.Options{Compression: &client}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			if !c.Compressed() {
				t.Fatal("client: compression not negotiated")
			}
			var allow int          // bytes the messages may take on the wire
			for round := range 2 { // the second round runs on the history of the first
				for i, m := range msgs {
					if tc.client.Level == 9 && len(m) > 100_000 {
						continue // level 9 is slow, more so under -race
					}
					typ := websocket.BinaryMessage
					if i != len(msgs)-1 {
						typ = websocket.TextMessage
					}
					if err := c.WriteMessage(testCtx(t), typ, m); err != nil {
						t.Fatal(err)
					}
					gt, got, err := c.ReadMessage(testCtx(t))
					if err != nil {
						t.Fatalf("round %d message %d: %v", round, i, err)
					}
					if gt != typ || !bytes.Equal(got, m) {
						t.Fatalf("round %d message %d: got %v %d bytes, want %v %d bytes", round, i, gt, len(got), typ, len(m))
					}
					if typ == websocket.BinaryMessage { // random bytes: stored
						allow += len(m) + len(m)/100 + 64
					} else {
						allow += len(m)/3 + 64
					}
				}
			}
			st := c.Stats()
			if st.BytesOut > uint64(allow) || st.BytesIn > uint64(allow) {
				t.Errorf("messages took %d bytes out and %d in, over the %d they compress to", st.BytesOut, st.BytesIn, allow)
			}
		})
	}
}

// TestCompressionNotAccepted: a client offering compression to a server
// that does not do it talks uncompressed; and the other way round.
func TestCompressionNotAccepted(t *testing.T) {
	for _, offer := range []bool{true, false} {
		var opts *websocket.AcceptOptions
		var dopts *websocket.DialOptions
		if offer {
			dopts = &websocket.DialOptions{Options: websocket.Options{Compression: &websocket.CompressionOptions{}}}
		} else {
			opts = &websocket.AcceptOptions{Options: websocket.Options{Compression: &websocket.CompressionOptions{}}}
		}
		srv, _ := acceptServer(t, opts, nil)
		c, err := websocket.Dial(testCtx(t), wsURL(srv, "/"), dopts)
		if err != nil {
			t.Fatal(err)
		}
		if c.Compressed() {
			t.Errorf("offer=%v: compression negotiated", offer)
		}
		m := jsonish(10_000, 5)
		if err := c.WriteMessage(testCtx(t), websocket.TextMessage, m); err != nil {
			t.Fatal(err)
		}
		if _, got, err := c.ReadMessage(testCtx(t)); err != nil || !bytes.Equal(got, m) {
			t.Fatalf("offer=%v: echo %d bytes, %v", offer, len(got), err)
		}
		if st := c.Stats(); st.BytesOut < uint64(len(m)) {
			t.Errorf("offer=%v: %d bytes on the wire for %d: compressed without agreement", offer, st.BytesOut, len(m))
		}
		c.CloseNow()
	}
}

// compressedPair dials a compressing echo server with client options co.
func compressedPair(t *testing.T, server, client *websocket.CompressionOptions, maxMsg int64) (*websocket.Conn, <-chan error) {
	t.Helper()
	opts := &websocket.AcceptOptions{Options: websocket.Options{Compression: server, MaxMessageSize: maxMsg}}
	ended := make(chan error, 1)
	srv, _ := acceptServer(t, opts, func(c *websocket.Conn, _ *http.Request) {
		var err error
		for err == nil {
			var typ websocket.MessageType
			var data []byte
			if typ, data, err = c.ReadMessage(testCtx(t)); err == nil {
				err = c.WriteMessage(testCtx(t), typ, data)
			}
		}
		ended <- err
	})
	c, err := websocket.Dial(testCtx(t), wsURL(srv, "/"), &websocket.DialOptions{Options: websocket.Options{Compression: client, MaxMessageSize: maxMsg}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c, ended
}

// TestCompressionThresholdAndOptOut: messages under the threshold, and
// every message while SetCompression(false), go uncompressed.
func TestCompressionThresholdAndOptOut(t *testing.T) {
	c, _ := compressedPair(t, &websocket.CompressionOptions{}, &websocket.CompressionOptions{Threshold: 1000}, 0)
	wire := func(m []byte) uint64 {
		t.Helper()
		before := c.Stats().BytesOut
		if err := c.WriteMessage(testCtx(t), websocket.TextMessage, m); err != nil {
			t.Fatal(err)
		}
		if _, got, err := c.ReadMessage(testCtx(t)); err != nil || !bytes.Equal(got, m) {
			t.Fatalf("echo: %d bytes, %v", len(got), err)
		}
		return c.Stats().BytesOut - before
	}
	small := []byte(strings.Repeat("a", 999))
	if n := wire(small); n != 999+8 { // 8: a masked frame's header with a 16-bit length
		t.Errorf("a 999-byte message under the 1000-byte threshold took %d bytes", n)
	}
	big := []byte(strings.Repeat("a", 1000))
	if n := wire(big); n > 100 {
		t.Errorf("a 1000-byte message at the threshold took %d bytes: not compressed", n)
	}
	c.SetCompression(false)
	if n := wire(big); n != 1000+8 {
		t.Errorf("with compression off a 1000-byte message took %d bytes", n)
	}
	c.SetCompression(true)
	if n := wire(big); n > 100 {
		t.Errorf("compression back on: %d bytes", n)
	}
}

// TestCompressionLimitIsDecompressedSize: a message that is small on the
// wire but inflates past the limit fails with 1009, and the server does not
// inflate all of it.
func TestCompressionLimitIsDecompressedSize(t *testing.T) {
	const limit = 1 << 20
	c, ended := compressedPair(t, &websocket.CompressionOptions{}, &websocket.CompressionOptions{}, limit)
	// Within the limit: fine.
	ok := make([]byte, limit)
	if err := c.WriteMessage(testCtx(t), websocket.BinaryMessage, ok); err != nil {
		t.Fatal(err)
	}
	if _, got, err := c.ReadMessage(testCtx(t)); err != nil || len(got) != limit {
		t.Fatalf("a message of exactly the limit: %d bytes, %v", len(got), err)
	}
	// 64 MiB of zeros compress to about 64 KiB: a bomb.
	before := c.Stats().BytesOut
	if err := c.WriteMessage(testCtx(t), websocket.BinaryMessage, make([]byte, 64<<20)); err != nil {
		t.Fatal(err)
	}
	if n := c.Stats().BytesOut - before; n > 1<<20 {
		t.Fatalf("the bomb took %d bytes on the wire", n)
	}
	_, _, err := c.ReadMessage(testCtx(t))
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusMessageTooBig {
		t.Fatalf("client read: %v, want a close with 1009", err)
	}
	serr := <-ended
	if !errors.As(serr, &ce) || ce.Code != websocket.StatusMessageTooBig {
		t.Errorf("server read: %v, want a 1009 failure", serr)
	}
}

// TestCompressionStreams: NextWriter compresses as it goes and NextReader
// inflates as it goes, over messages larger than a fragment.
func TestCompressionStreams(t *testing.T) {
	c, _ := compressedPair(t, &websocket.CompressionOptions{}, &websocket.CompressionOptions{}, 8<<20)
	msg := jsonish(5<<20, 6)
	w, err := c.NextWriter(testCtx(t), websocket.TextMessage)
	if err != nil {
		t.Fatal(err)
	}
	for p := msg; len(p) > 0; {
		n := min(len(p), 12345)
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	typ, r, err := c.NextReader(testCtx(t))
	if err != nil || typ != websocket.TextMessage {
		t.Fatalf("NextReader: %v %v", typ, err)
	}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("streamed echo: %d bytes, %v; want %d", len(got), err, len(msg))
	}
	if st := c.Stats(); st.BytesOut > uint64(len(msg))/3 {
		t.Errorf("NextWriter sent %d bytes for %d: not compressed", st.BytesOut, len(msg))
	}
}
