package conformance

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// The compression cases send 1000 messages of up to 128 KiB each; the
// tests cap every case at a few messages (enough for context takeover to
// matter) and, under -race or -short, play a representative subset: every
// payload source, every parameter set, unfragmented and fragmented, small
// and large messages. Without -race and -short every case of groups 12 and
// 13 is played in both roles.
//
// These tests are CPU-bound, so the top-level ones do not run in parallel
// with the rest of the package, whose cases judge timing (250 ms kill
// timers); their subtests run in parallel with each other.

// compressionSubset is one case per subgroup, spread over the size and
// fragmentation rows: 16 bytes to 128 KiB, unfragmented and in frames of
// 256 and 32768 octets.
var compressionSubset = []string{"12.1.1", "12.2.5", "12.3.11", "12.4.6", "12.5.2",
	"13.1.5", "13.2.11", "13.3.6", "13.4.1", "13.5.12", "13.6.3", "13.7.18"}

// compressionPatterns selects the cases the compression tests play.
func compressionPatterns(t *testing.T) []string {
	if testing.Short() || raceEnabled {
		return compressionSubset
	}
	return []string{"12.*", "13.*"}
}

// compressionMessages caps the messages per case in the tests: enough for
// context takeover to carry over several messages.
var compressionMessages = map[bool]int{false: 12, true: 5}[raceEnabled]

func subgroup(id string) string { return id[:strings.LastIndexByte(id, '.')] }

// runCompressionServer plays the cases against a test server with defects d.
func runCompressionServer(t *testing.T, d defects, patterns ...string) []*Result {
	t.Helper()
	url := startServer(t, d)
	r := testRunner(t, patterns...)
	r.CompressionMessages = compressionMessages
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rs, err := r.RunServerTests(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != len(r.Cases) {
		t.Fatalf("got %d results for %d cases", len(rs), len(r.Cases))
	}
	return rs
}

// runCompressionClient plays the cases against a test client with defects d.
func runCompressionClient(t *testing.T, d defects, patterns ...string) []*Result {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := testRunner(t, patterns...)
	r.CompressionMessages = compressionMessages
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var got map[string][]*Result
	served := make(chan error, 1)
	go func() {
		served <- r.Serve(ctx, ln, func(rs map[string][]*Result) error { got = rs; return nil })
	}()
	runTestClient(t, ln.Addr().String(), "deflate client", d)
	if err := <-served; err != ErrReportsUpdated {
		t.Fatalf("Serve returned %v", err)
	}
	rs := got["deflate client"]
	if len(rs) != len(r.Cases) {
		t.Fatalf("got %d results, want %d", len(rs), len(r.Cases))
	}
	return rs
}

// The parameters each role agrees on with the test peers: the test server
// accepts exactly what the runner asks of the server side; the test client
// offers "permessage-deflate; client_max_window_bits" and the runner asks
// of the client side what the case's accept rule says.
var (
	agreedWithServer = map[string]DeflateParams{
		"13.2": {ServerNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15},
		"13.3": {ServerMaxWindowBits: 9, ClientMaxWindowBits: 15},
		"13.5": {ServerNoContextTakeover: true, ServerMaxWindowBits: 9, ClientMaxWindowBits: 15},
		"13.6": {ServerNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15},
		"13.7": {ServerNoContextTakeover: true, ServerMaxWindowBits: 9, ClientMaxWindowBits: 15},
	}
	agreedWithClient = map[string]DeflateParams{
		"13.2": {ClientNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15},
		"13.3": {ServerMaxWindowBits: 15, ClientMaxWindowBits: 9},
		"13.5": {ClientNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 9},
		"13.6": {ClientNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15},
		"13.7": {ClientNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 9},
	}
)

func checkAgreed(t *testing.T, rs []*Result, want map[string]DeflateParams) {
	t.Helper()
	for _, r := range rs {
		w, ok := want[subgroup(r.ID)]
		if !ok {
			w = DeflateParams{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}
		}
		switch {
		case r.Compression == nil || r.Compression.Agreed == nil:
			t.Errorf("case %s: no agreed parameters recorded (%+v)", r.ID, r.Compression)
		case *r.Compression.Agreed != w:
			t.Errorf("case %s: agreed %v, want %v (offer %q, response %q)", r.ID, r.Compression.Agreed, w, r.Compression.Offer, r.Compression.Response)
		}
	}
}

// A correct peer passes every compression case, in both roles, with the
// parameters each side asked for.
func TestCompressionConformant(t *testing.T) {
	patterns := compressionPatterns(t)
	t.Run("server", func(t *testing.T) {
		t.Parallel()
		rs := runCompressionServer(t, defects{}, patterns...)
		checkVerdicts(t, rs, nil)
		checkAgreed(t, rs, agreedWithServer)
		for _, r := range rs {
			if !slices.Contains(r.Notes, fmt.Sprintf("message count capped at %d (the suite sends 1000)", compressionMessages)) {
				t.Errorf("case %s: notes %v do not mention the cap", r.ID, r.Notes)
			}
		}
	})
	t.Run("client", func(t *testing.T) {
		t.Parallel()
		rs := runCompressionClient(t, defects{}, patterns...)
		checkVerdicts(t, rs, nil)
		checkAgreed(t, rs, agreedWithClient)
	})
}

// A peer that does not do permessage-deflate gets UNIMPLEMENTED (and a clean
// close); a client whose offer lacks client_max_window_bits cannot be given
// a smaller window, so the subgroups that need one are UNIMPLEMENTED too,
// while 13.7 falls back to its second rule.
func TestCompressionUnimplemented(t *testing.T) {
	unimpl := verdict{Unimplemented, OK}
	t.Run("server declines", func(t *testing.T) {
		t.Parallel()
		rs := runCompressionServer(t, defects{noDeflate: true}, "12.1.1", "13.7.1")
		checkVerdicts(t, rs, map[string]verdict{"12.1.1": unimpl, "13.7.1": unimpl})
		for _, r := range rs {
			if r.Compression == nil || r.Compression.Response != "" || r.Compression.Agreed != nil {
				t.Errorf("case %s: negotiation %+v", r.ID, r.Compression)
			}
		}
	})
	t.Run("client offers nothing", func(t *testing.T) {
		t.Parallel()
		rs := runCompressionClient(t, defects{noDeflate: true}, "12.5.1", "13.2.1")
		checkVerdicts(t, rs, map[string]verdict{"12.5.1": unimpl, "13.2.1": unimpl})
	})
	t.Run("client offers no window parameter", func(t *testing.T) {
		t.Parallel()
		rs := runCompressionClient(t, defects{clientOffer: "permessage-deflate"}, "13.*.2")
		checkVerdicts(t, rs, map[string]verdict{"13.3.2": unimpl, "13.4.2": unimpl, "13.5.2": unimpl, "13.6.2": unimpl})
		for _, r := range rs {
			if r.ID == "13.7.2" && (r.Compression.Agreed == nil || *r.Compression.Agreed != (DeflateParams{ClientNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15})) {
				t.Errorf("13.7.2 agreed %v", r.Compression.Agreed)
			}
		}
	})
}

// Peers that break a rule of RFC 7692 after a valid negotiation.
func TestCompressionBroken(t *testing.T) {
	failed := func(ids ...string) map[string]verdict {
		m := map[string]verdict{}
		for _, id := range ids {
			m[id] = verdict{Failed, OK}
		}
		return m
	}
	tests := []struct {
		name     string
		d        defects
		patterns []string
		want     map[string]verdict
		note     string
	}{
		{
			// Echoes of more than 4 KiB compressed go out in several
			// frames, each with RSV1. The smaller echoes are fine, which
			// shows the runner does not fail on RSV1 as such.
			name: "RSV1 on continuation frames", d: defects{rsvOnCont: true},
			patterns: []string{"12.5.1", "12.5.9", "13.1.10"},
			want:     failed("12.5.9", "13.1.10"),
			note:     "peer set RSV1 on a continuation frame",
		},
		{
			// The agreed window is 9 bits (512 bytes); the echo reaches
			// farther back, in a stream built by hand that compress/flate
			// decodes without complaint. With a 15-bit window the same
			// peer is within its rights.
			name: "back-reference beyond the window", d: defects{farDistance: true},
			patterns: []string{"13.3.5", "13.5.4", "13.4.5"},
			want:     failed("13.3.5", "13.5.4"),
			note:     "exceeds the agreed window of 512 bytes",
		},
	}
	for _, tt := range tests {
		for _, role := range []string{"server", "client"} {
			t.Run(tt.name+"/"+role, func(t *testing.T) {
				var rs []*Result
				if role == "server" {
					rs = runCompressionServer(t, tt.d, tt.patterns...)
				} else {
					rs = runCompressionClient(t, tt.d, tt.patterns...)
				}
				checkVerdicts(t, rs, tt.want)
				for _, r := range rs {
					if _, bad := tt.want[r.ID]; bad && !strings.Contains(r.Result, tt.note) {
						t.Errorf("case %s: result %q does not say %q", r.ID, r.Result, tt.note)
					}
				}
			})
		}
	}
}

// Negotiations the peer gets wrong fail the case before any message.
func TestCompressionBadNegotiation(t *testing.T) {
	t.Run("client offer malformed", func(t *testing.T) {
		t.Parallel()
		rs := runCompressionClient(t, defects{clientOffer: "permessage-deflate; client_max_window_bits=16"}, "13.1.1", "7.1.1")
		v := verdicts(rs)
		for _, r := range rs {
			if r.ID == "13.1.1" && (r.Behavior != Failed || !strings.Contains(r.Result, "client_max_window_bits")) {
				t.Errorf("13.1.1: %s (%s)", v["13.1.1"], r.Result)
			}
		}
		// Without compression the runner ignores the offer.
		if v["7.1.1"] != (verdict{OK, OK}) {
			t.Errorf("7.1.1: %s", v["7.1.1"])
		}
	})
	tests := []struct {
		name, respond string
		id            string
	}{
		{"server drops server_no_context_takeover", "permessage-deflate", "13.2.1"},
		{"server widens server_max_window_bits", "permessage-deflate; server_max_window_bits=10", "13.3.1"},
		{"server answers an unknown parameter", "permessage-deflate; foo=1", "12.1.1"},
		{"server answers an extension not offered", "x-webkit-deflate-frame", "12.1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rs := runCompressionServer(t, defects{respond: tt.respond}, tt.id)
			r := rs[0]
			if r.Behavior != Failed || !strings.HasPrefix(r.Result, "Invalid permessage-deflate negotiation") ||
				r.Compression == nil || r.Compression.Response != tt.respond {
				t.Errorf("%s: %s/%s %q %+v", r.ID, r.Behavior, r.BehaviorClose, r.Result, r.Compression)
			}
		})
	}
}

// Groups 1-10 never offer compression, and the runner, as server, declines
// a client's offer in them: a testee with compression enabled is judged as
// before (TestClientMode's conformant client offers it on every case).
func TestNoCompressionOutsideGroups12And13(t *testing.T) {
	rs := runCompressionClient(t, defects{}, "1.1.1", "5.1", "9.7.1")
	checkVerdicts(t, rs, nil)
	for _, r := range rs {
		if r.Compression != nil {
			t.Errorf("case %s negotiated %+v", r.ID, r.Compression)
		}
	}
}

// The generated corpora: the suite's sizes and message kinds, text that
// stays valid UTF-8 wherever it is cut, and the same bytes on every run
// and platform (pinned by hash, so that reports of different runs compare).
func TestCorpora(t *testing.T) {
	want := []struct {
		size   int
		binary bool
		sha    string
	}{
		{194056, false, "45c0f03391901037"},
		{263222, true, "4a76d406fc6dd3ff"},
		{222218, true, "2114a3706e8d39b5"},
		{263527, false, "3d1649a5e4899338"},
		{1042328, true, "3643592097a04b79"},
	}
	cs := corpora()
	if len(cs) != len(want) || cs[0] != jsonCorpus() {
		t.Fatalf("%d corpora", len(cs))
	}
	for i, c := range cs {
		d := c.bytes()
		sum := sha256.Sum256(d)
		if len(d) != want[i].size || c.binary != want[i].binary || hex.EncodeToString(sum[:8]) != want[i].sha {
			t.Errorf("corpus %d (%s): %d bytes, binary %v, sha256 %x", i, c.title, len(d), c.binary, sum[:8])
		}
		if !c.binary {
			for j, b := range d {
				if b >= 0x80 {
					t.Fatalf("text corpus %d has a non-ASCII byte at %d", i, j)
				}
			}
		}
		if !bytes.Equal(d, c.bytes()) {
			t.Errorf("corpus %d changes between calls", i)
		}
	}
	// Messages walk the corpus and wrap around its end.
	d := []byte("abcdefghij")
	var got []string
	for pos, i := 0, 0; i < 4; i++ {
		var m []byte
		m, pos = cyclicSlice(d, pos, 4)
		got = append(got, string(m))
	}
	if !slices.Equal(got, []string{"abcd", "efgh", "ijab", "cdef"}) {
		t.Errorf("cyclicSlice: %q", got)
	}
}
