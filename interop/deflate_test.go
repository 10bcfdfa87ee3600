package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"strings"
	"testing"

	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/internal/defaults"
)

// permessage-deflate (RFC 7692) against real peers. Every case runs the
// "deflate" scenario through a tap (wiretap_test.go), and checks:
//   - both sides got every message intact (the usual verdicts);
//   - the response's Sec-WebSocket-Extensions is the one the case expects,
//     parameter by parameter, and the peer reports the same string (our
//     side reports Compressed; the tap reads the headers off the wire);
//   - on the wire, each direction decompresses, with compress/flate and
//     independently of both sides, to the scenario's messages; no
//     back-reference reaches farther than the sender's agreed window
//     (deflatewalk_test.go: the peers' zlib would not notice); our
//     messages carry RSV1 exactly as our threshold says, the peer's
//     compressible ones carry it; compressible text shrinks, random bytes
//     do not grow past stored blocks' overhead; and a message sent twice in
//     a row costs a few bytes the second time with context takeover, as
//     much as the first time without;
//   - our side's Stats count far fewer bytes than the payloads.

// deflateScenario returns the messages of the "deflate" scenario, in order;
// peers/scenario.mjs and peers/scenario.py build the same ones.
func deflateScenario() []message {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	repeat := []byte(record(9000)) // an id no other message has, so the first copy is new
	return []message{
		{"json-4KiB", websocket.TextMessage, []byte(jsonText(40))},
		{"repeat-1", websocket.TextMessage, repeat},
		{"repeat-2", websocket.TextMessage, repeat},
		{"binary", websocket.BinaryMessage, all},
		{"random", websocket.BinaryMessage, randomBytes(64<<10, randomSeed)},
		{"empty", websocket.TextMessage, []byte{}},
		{"json-1MiB", websocket.TextMessage, []byte(jsonText(8250))},
	}
}

// record is the i-th JSON-ish record; every fifth has a note with 2-, 3-
// and 4-byte UTF-8.
func record(i int) string {
	note := ""
	if i%5 == 0 {
		note = `,"note":"café ✓ 🚀"`
	}
	return fmt.Sprintf(`{"id":%d,"user":"user-%d","email":"user-%d@example.com",`+
		`"active":%t,"score":%d,"tags":["alpha","beta","gamma"]%s}`,
		i, i, i, i%3 == 0, i*7919%10007, note)
}

// jsonText returns records 0 .. n-1 as a JSON array.
func jsonText(n int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(record(i))
	}
	b.WriteByte(']')
	return b.String()
}

const randomSeed = 2463534242

// randomBytes returns n bytes of xorshift32 (13, 17, 5) from seed, the low
// byte of each state: incompressible, and easy to write in every language.
func randomBytes(n int, seed uint32) []byte {
	b := make([]byte, n)
	x := seed
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// compressible tells the scenario's compressible messages by name.
func compressible(name string) bool {
	return strings.HasPrefix(name, "json") || strings.HasPrefix(name, "repeat")
}

func TestDeflateScenarioShape(t *testing.T) {
	msgs := deflateScenario()
	byName := map[string]message{}
	for _, m := range msgs {
		byName[m.name] = m
	}
	// repeat-2 must be able to point back at repeat-1 whole even with a
	// 9-bit window, where zlib reaches back at most 512-262 = 250 bytes;
	// and it must reach the default threshold (128), so that our side
	// compresses it in the Chromium case.
	if n := len(byName["repeat-1"].data); n < 128 || n > 250 {
		t.Errorf("repeat message is %d bytes, want 128..250", n)
	}
	if n := len(byName["json-1MiB"].data); n < 1<<20-64<<10 || n > 1<<20+64<<10 {
		t.Errorf("json-1MiB is %d bytes, want about 1 MiB", n)
	}
	if msgs[len(msgs)-1].name != "json-1MiB" {
		t.Errorf("the last message (the fragmented one) is %s", msgs[len(msgs)-1].name)
	}
}

// deflateOptions are our side's options in the compression pairs.
func deflateOptions(c websocket.CompressionOptions) websocket.Options {
	o := options()
	o.Compression = &c
	return o
}

// A deflateCase is one compression pairing.
type deflateCase struct {
	name string
	ours websocket.CompressionOptions
	// peer holds the peer's own options, as its script takes them: ws's
	// perMessageDeflate, or the keyword arguments of websockets'
	// Client/ServerPerMessageDeflateFactory.
	peer map[string]any
	// offer and answer are the Sec-WebSocket-Extensions the client must
	// send and the server must answer with (compared parameter by
	// parameter, in any order).
	offer, answer string
}

// The pairings with Node's ws, our server and ws client. ws's threshold 0
// has it compress every message. Window bits stay at 9 and above: zlib
// cannot compress with 8.
var wsClientCases = []deflateCase{
	{
		name:   "takeover",
		ours:   websocket.CompressionOptions{Threshold: -1},
		peer:   map[string]any{"threshold": 0},
		offer:  "permessage-deflate; client_max_window_bits",
		answer: "permessage-deflate",
	},
	{
		name:   "no-takeover-peer-asks",
		ours:   websocket.CompressionOptions{Threshold: -1},
		peer:   map[string]any{"threshold": 0, "serverNoContextTakeover": true, "clientNoContextTakeover": true},
		offer:  "permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits",
		answer: "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
	},
	{
		name:   "no-takeover-we-impose",
		ours:   websocket.CompressionOptions{Threshold: -1, ServerNoContextTakeover: true, ClientNoContextTakeover: true},
		peer:   map[string]any{"threshold": 0},
		offer:  "permessage-deflate; client_max_window_bits",
		answer: "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
	},
	{
		name:   "window-bits-peer-asks",
		ours:   websocket.CompressionOptions{Threshold: -1},
		peer:   map[string]any{"threshold": 0, "serverMaxWindowBits": 10, "clientMaxWindowBits": 9},
		offer:  "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9",
		answer: "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9",
	},
	{
		name:   "window-bits-we-impose",
		ours:   websocket.CompressionOptions{Threshold: -1, ServerMaxWindowBits: 9, ClientMaxWindowBits: 10},
		peer:   map[string]any{"threshold": 0},
		offer:  "permessage-deflate; client_max_window_bits",
		answer: "permessage-deflate; server_max_window_bits=9; client_max_window_bits=10",
	},
}

// The pairings with Node's ws, ws server and our client.
var wsServerCases = []deflateCase{
	{
		name:   "takeover",
		ours:   websocket.CompressionOptions{Threshold: -1},
		peer:   map[string]any{"threshold": 0},
		offer:  "permessage-deflate; client_max_window_bits",
		answer: "permessage-deflate",
	},
	{
		name:   "no-takeover-peer-imposes",
		ours:   websocket.CompressionOptions{Threshold: -1},
		peer:   map[string]any{"threshold": 0, "serverNoContextTakeover": true, "clientNoContextTakeover": true},
		offer:  "permessage-deflate; client_max_window_bits",
		answer: "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
	},
	{
		name:   "no-takeover-we-ask",
		ours:   websocket.CompressionOptions{Threshold: -1, ServerNoContextTakeover: true, ClientNoContextTakeover: true},
		peer:   map[string]any{"threshold": 0},
		offer:  "permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits",
		answer: "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
	},
	{
		name:   "window-bits-peer-imposes",
		ours:   websocket.CompressionOptions{Threshold: -1},
		peer:   map[string]any{"threshold": 0, "serverMaxWindowBits": 10, "clientMaxWindowBits": 9},
		offer:  "permessage-deflate; client_max_window_bits",
		answer: "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9",
	},
	{
		name:   "window-bits-we-ask",
		ours:   websocket.CompressionOptions{Threshold: -1, ServerMaxWindowBits: 9, ClientMaxWindowBits: 10},
		peer:   map[string]any{"threshold": 0},
		offer:  "permessage-deflate; server_max_window_bits=9; client_max_window_bits=10",
		answer: "permessage-deflate; server_max_window_bits=9; client_max_window_bits=10",
	},
}

// The pairings with Python's websockets, our server and websockets client.
// websockets compresses every message.
var pyClientCases = []deflateCase{
	{
		name:   "takeover",
		ours:   websocket.CompressionOptions{Threshold: -1},
		peer:   map[string]any{},
		offer:  "permessage-deflate; client_max_window_bits",
		answer: "permessage-deflate",
	},
	{
		name:   "no-takeover",
		ours:   websocket.CompressionOptions{Threshold: -1},
		peer:   map[string]any{"server_no_context_takeover": true, "client_no_context_takeover": true},
		offer:  "permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits",
		answer: "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
	},
	{
		name:   "window-bits-9",
		ours:   websocket.CompressionOptions{Threshold: -1},
		peer:   map[string]any{"server_max_window_bits": 9, "client_max_window_bits": 9},
		offer:  "permessage-deflate; server_max_window_bits=9; client_max_window_bits=9",
		answer: "permessage-deflate; server_max_window_bits=9; client_max_window_bits=9",
	},
}

// The pairings with Python's websockets, websockets server and our client.
var pyServerCases = []deflateCase{
	{
		name:   "takeover",
		ours:   websocket.CompressionOptions{Threshold: -1},
		peer:   map[string]any{},
		offer:  "permessage-deflate; client_max_window_bits",
		answer: "permessage-deflate",
	},
	{
		name:   "no-takeover",
		ours:   websocket.CompressionOptions{Threshold: -1},
		peer:   map[string]any{"server_no_context_takeover": true, "client_no_context_takeover": true},
		offer:  "permessage-deflate; client_max_window_bits",
		answer: "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
	},
	{
		name:   "window-bits-9",
		ours:   websocket.CompressionOptions{Threshold: -1},
		peer:   map[string]any{"server_max_window_bits": 9, "client_max_window_bits": 9},
		offer:  "permessage-deflate; client_max_window_bits",
		answer: "permessage-deflate; server_max_window_bits=9; client_max_window_bits=9",
	},
}

// peerConfig is the JSON argument the peer scripts take; key is
// "perMessageDeflate" for ws and "deflate" for websockets.
func peerConfig(t *testing.T, key string, opts map[string]any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"scenario": "deflate", key: opts})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The pairings with Chromium, our server (through Accept). Chromium always
// offers "permessage-deflate; client_max_window_bits".
var chromiumCases = []deflateCase{
	{
		name:   "defaults", // our defaults: Compression{}, threshold 128
		offer:  "permessage-deflate; client_max_window_bits",
		answer: "permessage-deflate",
	},
	{
		name: "we-impose-all",
		ours: websocket.CompressionOptions{
			ServerNoContextTakeover: true, ClientNoContextTakeover: true,
			ServerMaxWindowBits: 9, ClientMaxWindowBits: 9,
		},
		offer:  "permessage-deflate; client_max_window_bits",
		answer: "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=9",
	},
}

func TestDeflateServerChromium(t *testing.T) {
	forModes(t, func(t *testing.T, mode websocket.IOMode) {
		for _, dc := range chromiumCases {
			t.Run(dc.name, func(t *testing.T) {
				chromium := needChromium(t)
				node := needNode(t, "chromium via playwright-core", "playwright-core")
				ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
				defer cancel()
				addr, results := acceptServerWith(ctx, t, mode, deflateOptions(dc.ours), deflateScenario(), "browser.mjs", "scenario.mjs")
				tp := startTap(t, addr)
				// The page comes through the tap too, so the WebSocket
				// stays same-origin.
				p := startPeer(ctx, t, "chromium", node, "chromium.mjs", "http://"+tp.addr()+"/?scenario=deflate", chromium)
				p.verdict(ctx, t)
				c := serverConn(ctx, t, results)
				checkDeflate(t, dc, true, c, p, tp)
			})
		}
	})
}

func TestDeflateServerNodeWS(t *testing.T) {
	forModes(t, func(t *testing.T, mode websocket.IOMode) {
		for _, dc := range wsClientCases {
			t.Run(dc.name, func(t *testing.T) {
				node := needNode(t, "node ws client", "ws")
				ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
				defer cancel()
				u, results := rawServerWith(ctx, t, mode, deflateOptions(dc.ours), deflateScenario())
				tp := startTap(t, hostOf(t, u))
				p := startPeer(ctx, t, "node ws client", node, "ws_client.mjs",
					"ws://"+tp.addr()+"/interop", peerConfig(t, "perMessageDeflate", dc.peer))
				p.verdict(ctx, t)
				c := serverConn(ctx, t, results)
				checkDeflate(t, dc, true, c, p, tp)
			})
		}
	})
}

func TestDeflateClientNodeWS(t *testing.T) {
	for _, dc := range wsServerCases {
		t.Run(dc.name, func(t *testing.T) {
			node := needNode(t, "node ws server", "ws")
			ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
			defer cancel()
			p := startPeer(ctx, t, "node ws server", node, "ws_server.mjs", peerConfig(t, "perMessageDeflate", dc.peer))
			dialDeflate(ctx, t, dc, p)
		})
	}
}

func TestDeflateServerPythonWebsockets(t *testing.T) {
	forModes(t, func(t *testing.T, mode websocket.IOMode) {
		for _, dc := range pyClientCases {
			t.Run(dc.name, func(t *testing.T) {
				py := needPython(t, "python websockets client", "websockets")
				ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
				defer cancel()
				addr, results := acceptServerWith(ctx, t, mode, deflateOptions(dc.ours), deflateScenario())
				tp := startTap(t, addr)
				p := startPeer(ctx, t, "python websockets client", py, "websockets_client.py",
					"ws://"+tp.addr()+"/ws", peerConfig(t, "deflate", dc.peer))
				p.verdict(ctx, t)
				c := serverConn(ctx, t, results)
				checkDeflate(t, dc, true, c, p, tp)
			})
		}
	})
}

func TestDeflateClientPythonWebsockets(t *testing.T) {
	for _, dc := range pyServerCases {
		t.Run(dc.name, func(t *testing.T) {
			py := needPython(t, "python websockets server", "websockets")
			ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
			defer cancel()
			p := startPeer(ctx, t, "python websockets server", py, "websockets_server.py", peerConfig(t, "deflate", dc.peer))
			dialDeflate(ctx, t, dc, p)
		})
	}
}

// hostOf returns the host:port of a ws:// URL.
func hostOf(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// serverConn waits for our handler's result, reports its failures and
// returns its connection (nil if it never had one).
func serverConn(ctx context.Context, t *testing.T, results <-chan serverResult) *websocket.Conn {
	t.Helper()
	select {
	case r := <-results:
		report(t, "our server", r.failures)
		return r.conn
	case <-ctx.Done():
		t.Errorf("our server: no result: %v", ctx.Err())
		return nil
	}
}

// dialDeflate is our client's side against the peer server p, through a
// tap: the scenario, the peer's verdict and the compression checks.
func dialDeflate(ctx context.Context, t *testing.T, dc deflateCase, p *peer) {
	t.Helper()
	tp := startTap(t, p.listenAddr(ctx, t))
	u := "ws://" + tp.addr() + "/interop"
	c, err := websocket.Dial(ctx, u, &websocket.DialOptions{Options: deflateOptions(dc.ours)})
	if err != nil {
		t.Fatalf("dial %s: %v\n%s said:\n%s", u, err, p.name, p.out)
	}
	defer c.CloseNow()
	report(t, "our client", clientScenario(ctx, c, deflateScenario()))
	p.verdict(ctx, t)
	checkDeflate(t, dc, false, c, p, tp)
}

// checkDeflate checks the negotiation and the wire of a finished pair; our
// side was the server if server is true.
func checkDeflate(t *testing.T, dc deflateCase, server bool, c *websocket.Conn, p *peer, tp *tap) {
	t.Helper()
	if c == nil {
		return // our side failed before it had a connection; said so already
	}
	if !c.Compressed() {
		t.Errorf("our side: Compressed() = false, want true")
	}
	tc := tp.wsConn()
	if tc == nil {
		t.Fatalf("the tap saw no WebSocket handshake")
	}
	w, err := tc.read()
	if err != nil {
		t.Fatalf("the tap's capture: %v", err)
	}
	t.Logf("offer:  %s\nanswer: %s", w.offer, w.answer)

	// The negotiation, as the wire shows it and as the peer saw it.
	if !sameExtension(w.offer, dc.offer) {
		t.Errorf("client offered %q, want %q", w.offer, dc.offer)
	}
	if !sameExtension(w.answer, dc.answer) {
		t.Errorf("server answered %q, want %q", w.answer, dc.answer)
	}
	if ext, ok := peerLine(p.out.String(), "EXT "); !ok {
		t.Errorf("%s printed no EXT line", p.name)
	} else if ext != w.answer {
		t.Errorf("%s reports extensions %q; the wire had %q", p.name, ext, w.answer)
	}

	// What the answer puts in force: each side's context takeover. A
	// client that promised client_no_context_takeover keeps its promise
	// even if the answer leaves it out (ours does; our peers never do).
	// Likewise each side's window: the answer's, or 15 bits; a client
	// that offered a smaller client_max_window_bits keeps to it.
	_, params, _ := parseExtension(w.answer)
	_, serverNCT := params["server_no_context_takeover"]
	_, clientNCT := params["client_no_context_takeover"]
	serverBits, clientBits := windowBits(params["server_max_window_bits"]), windowBits(params["client_max_window_bits"])
	if !server {
		clientNCT = clientNCT || dc.ours.ClientNoContextTakeover
		if b := dc.ours.ClientMaxWindowBits; b >= 8 && b < clientBits {
			clientBits = b
		}
	}

	msgs := deflateScenario()
	ourThreshold := dc.ours.Threshold
	if ourThreshold == 0 {
		ourThreshold = defaults.CompressionThreshold
	}
	clientSide := sender{name: p.name, takeover: !clientNCT, windowBits: clientBits}
	serverSide := sender{name: "our server", ours: true, threshold: ourThreshold, takeover: !serverNCT, windowBits: serverBits}
	if !server {
		clientSide = sender{name: "our client", ours: true, threshold: ourThreshold, takeover: !clientNCT, windowBits: clientBits}
		serverSide = sender{name: p.name, takeover: !serverNCT, windowBits: serverBits}
	}
	checkWire(t, clientSide, msgs, w.up)
	checkWire(t, serverSide, msgs, w.down)

	// Our side's own count of wire bytes.
	var plain, random uint64
	for _, m := range msgs {
		if compressible(m.name) {
			plain += uint64(len(m.data))
		} else {
			random += uint64(len(m.data))
		}
	}
	st := c.Stats()
	t.Logf("our side: bytes in %d, out %d; payloads %d each way (%d compressible)",
		st.BytesIn, st.BytesOut, plain+random, plain)
	// Compressible text shrinks at least threefold, the rest at worst
	// stays as it is; handshake and frame headers fit in 4 KiB.
	limit := plain/3 + random + 4096
	if st.BytesIn > limit {
		t.Errorf("our side read %d bytes, want at most %d: the peer's messages were not compressed", st.BytesIn, limit)
	}
	if st.BytesOut > limit {
		t.Errorf("our side wrote %d bytes, want at most %d: our messages were not compressed", st.BytesOut, limit)
	}
}

// A sender is one side as the wire checks see it.
type sender struct {
	name       string
	ours       bool
	threshold  int  // ours: messages shorter go uncompressed; negative: none
	takeover   bool // keeps its compression context between messages
	windowBits int  // its LZ77 window is 2^windowBits bytes
}

// windowBits returns a max_window_bits value as a number, 15 for none.
func windowBits(v string) int {
	var n int
	if _, err := fmt.Sscanf(v, "%d", &n); err != nil || n < 8 || n > 15 {
		return 15
	}
	return n
}

// checkWire checks the messages one side sent, as the tap saw them,
// against want.
func checkWire(t *testing.T, s sender, want []message, got []wireMessage) {
	t.Helper()
	var sum strings.Builder
	farthestAll := 0
	for i, m := range got {
		if i < len(want) {
			fmt.Fprintf(&sum, " %s %d→%d", want[i].name, len(want[i].data), len(m.payload))
		}
		if m.rsv1 {
			sum.WriteString("z")
		}
		if m.frames > 1 {
			fmt.Fprintf(&sum, "/%df", m.frames)
		}
	}
	if len(got) != len(want) {
		t.Logf("%s sent (name payload→wire, z compressed, /frames):%s", s.name, sum.String())
		t.Errorf("%s: the wire has %d messages, want %d", s.name, len(got), len(want))
		return
	}
	// The window: no back-reference beyond 2^windowBits bytes.
	for i, m := range got {
		if !m.rsv1 {
			continue
		}
		d, _, err := farthest(withTail(m.payload))
		if err != nil {
			t.Errorf("%s: %s: walking its DEFLATE codes: %v (first wire bytes % x)", s.name, want[i].name, err, head(m.payload, 32))
			continue
		}
		farthestAll = max(farthestAll, d)
		if d > 1<<s.windowBits {
			t.Errorf("%s: %s refers %d bytes back, beyond its agreed window of 2^%d = %d bytes",
				s.name, want[i].name, d, s.windowBits, 1<<s.windowBits)
		}
	}
	t.Logf("%s sent (name payload→wire, z compressed, /frames):%s; farthest back-reference %d, window %d",
		s.name, sum.String(), farthestAll, 1<<s.windowBits)
	data, err := inflateWire(got, s.takeover)
	if err != nil {
		t.Errorf("%s: compress/flate cannot inflate what went on the wire: %v", s.name, err)
		return
	}
	wire := map[string]int{}
	for i, w := range want {
		m := got[i]
		wire[w.name] = len(m.payload)
		if f := compare(w, websocket.MessageType(m.op), data[i]); f != "" {
			t.Errorf("%s: on the wire, inflated by compress/flate: %s (rsv1 %t, first wire bytes % x)",
				s.name, f, m.rsv1, head(m.payload, 32))
		}
		switch {
		case s.ours:
			if want := s.threshold < 0 || len(w.data) >= s.threshold; m.rsv1 != want {
				t.Errorf("%s: %s (%d bytes) compressed %t, want %t with threshold %d",
					s.name, w.name, len(w.data), m.rsv1, want, s.threshold)
			}
		case compressible(w.name) && !m.rsv1:
			t.Errorf("%s: %s went uncompressed", s.name, w.name)
		}
		if !m.rsv1 {
			continue
		}
		if compressible(w.name) && strings.HasPrefix(w.name, "json") && len(m.payload)*3 > len(w.data) {
			t.Errorf("%s: %s compressed to %d bytes, want under a third of %d", s.name, w.name, len(m.payload), len(w.data))
		}
		// Stored blocks cost 5 bytes per 64 KiB at most; allow for a
		// first attempt at Huffman coding and the final bits.
		if !compressible(w.name) && len(m.payload) > len(w.data)+len(w.data)/64+64 {
			t.Errorf("%s: %s (incompressible, %d bytes) grew to %d on the wire", s.name, w.name, len(w.data), len(m.payload))
		}
	}
	// repeat-2 is repeat-1 again, right after it: with context takeover it
	// is one back-reference; without, it costs what repeat-1 did.
	r1, r2 := got[1], got[2]
	if r1.rsv1 && r2.rsv1 {
		n1, n2 := len(r1.payload), len(r2.payload)
		switch {
		case s.takeover && 2*n2 >= n1:
			t.Errorf("%s: with context takeover the repeated message took %d bytes, the first copy %d; want under half",
				s.name, n2, n1)
		case !s.takeover && 2*n2 < n1:
			t.Errorf("%s: without context takeover the repeated message took only %d bytes, the first copy %d",
				s.name, n2, n1)
		}
	}
}

// parseExtension parses one extension of Sec-WebSocket-Extensions, name
// and parameters (quotes around a value removed), as RFC 6455 §9.1 writes
// them. It is the test's own, so that it does not lean on the library's.
func parseExtension(s string) (name string, params map[string]string, ok bool) {
	if strings.Contains(s, ",") {
		return "", nil, false // more than one: none of our cases has that
	}
	parts := strings.Split(s, ";")
	name = strings.TrimSpace(parts[0])
	params = map[string]string{}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		params[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"`)
	}
	return name, params, name != ""
}

// sameExtension reports whether a and b are the same extension with the
// same parameters, in any order.
func sameExtension(a, b string) bool {
	na, pa, oka := parseExtension(a)
	nb, pb, okb := parseExtension(b)
	return oka && okb && na == nb && maps.Equal(pa, pb)
}

// peerLine returns the rest of the first line of out that starts with
// prefix.
func peerLine(out, prefix string) (string, bool) {
	for l := range strings.Lines(out) {
		if rest, ok := strings.CutPrefix(l, prefix); ok {
			return strings.TrimRight(rest, "\r\n"), true
		}
	}
	return "", false
}
