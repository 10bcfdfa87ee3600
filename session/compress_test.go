package session

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/testutil"
)

// compressedPair is pair with permessage-deflate agreed as given.
func compressedPair(t testing.TB, client, server *Compression, clientOpts, serverOpts *Options) (*Session, *Session) {
	a, b := testutil.LoopbackPair(t)
	cfg := &conn.Config{AllowedRsv: frame.Rsv1}
	cc, sc := conn.New(a, conn.Client, cfg), conn.New(b, conn.Server, cfg)
	cc.Open(nil)
	sc.Open(nil)
	co, so := Options{}, Options{}
	if clientOpts != nil {
		co = *clientOpts
	}
	if serverOpts != nil {
		so = *serverOpts
	}
	co.Compression, so.Compression = client, server
	cs, ss := New(cc, &co), New(sc, &so)
	t.Cleanup(func() { cs.CloseNow(); ss.CloseNow() })
	return cs, ss
}

// TestCompressedFragments: a compressed message split into many frames
// (RSV1 on the first only, which the receiving decoder enforces) arrives
// whole, with and without context takeover, through ReadMessage and
// NextReader alike.
func TestCompressedFragments(t *testing.T) {
	for _, takeover := range []bool{true, false} {
		t.Run(fmt.Sprintf("takeover=%v", takeover), func(t *testing.T) {
			comp := &Compression{Threshold: -1, WriteNoContextTakeover: !takeover, ReadNoContextTakeover: !takeover}
			client, server := compressedPair(t, comp, comp, &Options{FragmentSize: 100}, nil)
			msg := []byte(strings.Repeat("fragmented and compressed; ", 2000))
			for i := range 3 {
				go client.WriteMessage(bg, frame.OpText, msg)
				var got []byte
				if i == 1 {
					typ, r, err := server.NextReader(bg)
					if err != nil || typ != frame.OpText {
						t.Fatal(typ, err)
					}
					var b bytes.Buffer
					if _, err := b.ReadFrom(r); err != nil {
						t.Fatal(err)
					}
					got = b.Bytes()
				} else {
					_, data, err := server.ReadMessage(bg)
					if err != nil {
						t.Fatal(err)
					}
					got = data
				}
				if !bytes.Equal(got, msg) {
					t.Fatalf("message %d: %d bytes, want %d", i, len(got), len(msg))
				}
			}
			st := server.Conn().Stats()
			if st.FramesIn < 4 || st.BytesIn > uint64(3*len(msg)/10) {
				t.Errorf("%d frames, %d bytes in for 3 x %d bytes: want several frames, compressed", st.FramesIn, st.BytesIn, len(msg))
			}
		})
	}
}

// TestCompressedInvalidUTF8: a compressed text message that inflates to
// invalid UTF-8 fails the session with 1007.
func TestCompressedInvalidUTF8(t *testing.T) {
	comp := &Compression{Threshold: -1}
	client, server := compressedPair(t, comp, comp, nil, nil)
	go client.WriteMessage(bg, frame.OpText, append(bytes.Repeat([]byte("ok "), 100), 0xff, 0xfe))
	_, _, err := server.ReadMessage(bg)
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != frame.StatusInvalidFramePayloadData {
		t.Fatalf("ReadMessage: %v, want 1007", err)
	}
}

// TestCompressedCorrupt: RSV1 set on bytes that are not DEFLATE fails the
// session with 1007.
func TestCompressedCorrupt(t *testing.T) {
	comp := &Compression{}
	client, server := compressedPair(t, comp, comp, nil, nil)
	// Block type 3 is reserved in RFC 1951.
	go client.Conn().WriteFrame(frame.OpBinary, true, frame.Rsv1, []byte{0xff, 0xff, 0xff})
	_, _, err := server.ReadMessage(bg)
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != frame.StatusInvalidFramePayloadData {
		t.Fatalf("ReadMessage: %v, want 1007", err)
	}
}

// BenchmarkCompressionMemory reports the heap a connection holds, idle,
// after one compressed message each way, at 1,000 connections (both ends
// of each pair are counted: 2,000 sessions). Run it with
// go test -run '^$' -bench CompressionMemory -benchtime 1x ./session
func BenchmarkCompressionMemory(b *testing.B) {
	msg := []byte(strings.Repeat(`{"event":"tick","symbol":"ABC","price":12.5},`, 200))
	for _, tc := range []struct {
		name string
		comp *Compression
	}{
		{"uncompressed", nil},
		{"no-takeover", &Compression{WriteNoContextTakeover: true, ReadNoContextTakeover: true}},
		{"takeover-15", &Compression{}},
		{"takeover-10", &Compression{WriteWindowBits: 10, ReadWindowBits: 10}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			const n = 1000
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				sessions := make([]*Session, 0, 2*n)
				for range n {
					c, s := compressedPair(b, tc.comp, tc.comp, nil, nil)
					go c.WriteMessage(bg, frame.OpText, msg)
					if _, _, err := s.ReadMessage(bg); err != nil {
						b.Fatal(err)
					}
					go s.WriteMessage(bg, frame.OpText, msg)
					if _, _, err := c.ReadMessage(bg); err != nil {
						b.Fatal(err)
					}
					sessions = append(sessions, c, s)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/float64(len(sessions)), "heap-B/session")
				runtime.KeepAlive(sessions)
				for _, s := range sessions {
					s.CloseNow()
				}
			}
		})
	}
}
