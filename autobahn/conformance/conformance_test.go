package conformance

import (
	"context"
	"fmt"
	"maps"
	"net"
	"path"
	"slices"
	"testing"
	"time"
)

// testRunner returns a runner with shortened timing: one scripted second is
// 750ms. The kill timer of a UTF-8 case then fires 375ms after the message
// went out; at 250ms (125ms) a CI run under -race, with every package's tests
// sharing 2 cores, once saw an echo arrive after it (case 6.6.9, FAILED).
func testRunner(t *testing.T, patterns ...string) *Runner {
	t.Helper()
	cases, err := Select(Cases(), patterns, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatalf("no cases match %v", patterns)
	}
	return &Runner{Cases: cases, TimeUnit: 750 * time.Millisecond, CloseTimeout: time.Second}
}

type verdict struct{ behavior, close Behavior }

func (v verdict) String() string { return fmt.Sprintf("%s/%s", v.behavior, v.close) }

// verdicts maps case number to verdict pair.
func verdicts(rs []*Result) map[string]verdict {
	m := map[string]verdict{}
	for _, r := range rs {
		m[r.ID] = verdict{r.Behavior, r.BehaviorClose}
	}
	return m
}

// normal is the verdict a conformant peer earns on case id.
func normal(id string) verdict {
	switch id {
	case "7.1.6", "7.13.1", "7.13.2":
		return verdict{Informational, Informational}
	}
	return verdict{OK, OK}
}

// checkVerdicts asserts that the cases in want got exactly those verdicts
// and that every other case got its normal verdict.
func checkVerdicts(t *testing.T, rs []*Result, want map[string]verdict) {
	t.Helper()
	got := verdicts(rs)
	for id := range want {
		if _, ok := got[id]; !ok {
			t.Errorf("case %s was expected but did not run", id)
		}
	}
	for _, r := range rs {
		w, ok := want[r.ID]
		if !ok {
			w = normal(r.ID)
		}
		if g := got[r.ID]; g != w {
			t.Errorf("case %s: got %s, want %s (%s; %s; received %v; notes %v)", r.ID, g, w, r.Result, r.ResultClose, r.Received, r.Notes)
		}
	}
}

func runAgainst(t *testing.T, d defects, patterns ...string) []*Result {
	t.Helper()
	url := startServer(t, d)
	r := testRunner(t, patterns...)
	r.Parallel = 2
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
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

// TestConformantServer: a conformant echo server passes every case of
// groups 1-7 and 10 (and the cheap part of group 9).
func TestConformantServer(t *testing.T) {
	t.Parallel()
	rs := runAgainst(t, defects{}, "1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*", "9.7.1", "9.1.1", "9.3.9", "9.5.6")
	checkVerdicts(t, rs, nil)
}

// invalidUTF8Cases lists the group 6 cases whose message is not valid UTF-8,
// decided independently of the case code by Go's unicode/utf8.
func invalidUTF8Cases(patterns ...string) []string {
	ids := []string{"6.3.1", "6.3.2"}
	for i, g := range utf8Groups() {
		for j, v := range g.vectors {
			id := fmt.Sprintf("6.%d.%d", i+5, j+1)
			for _, p := range patterns {
				if ok, _ := path.Match(p, id); ok && !validUTF8(v.payload) {
					ids = append(ids, id)
				}
			}
		}
	}
	return ids
}

func TestBrokenServers(t *testing.T) {
	t.Parallel()
	all := func(ids []string, v verdict) map[string]verdict {
		m := map[string]verdict{}
		for _, id := range ids {
			m[id] = v
		}
		return m
	}
	merge := func(ms ...map[string]verdict) map[string]verdict {
		out := map[string]verdict{}
		for _, m := range ms {
			maps.Copy(out, m)
		}
		return out
	}
	tests := []struct {
		name     string
		d        defects
		patterns []string
		want     map[string]verdict
	}{
		{
			// Echoes invalid text: the runner has to kill the connection, so
			// the wrong endpoint closed, which is fatal for UTF-8 cases.
			name: "no UTF-8 check", d: defects{noUTF8: true},
			patterns: []string{"6.1.*", "6.2.*", "6.3.*", "6.4.*", "6.5.*", "6.6.*", "6.11.*", "6.12.*", "6.20.*", "6.22.*", "7.5.1"},
			want: merge(all(invalidUTF8Cases("6.3.*", "6.5.*", "6.6.*", "6.11.*", "6.12.*", "6.20.*", "6.22.*"), verdict{Failed, Failed}),
				all([]string{"6.4.1", "6.4.2", "6.4.3", "6.4.4"}, verdict{Failed, Failed}),
				map[string]verdict{"7.5.1": {Failed, WrongCode}}),
		},
		{
			// Fails only once the message is complete: NON-STRICT on 6.4.x.
			name: "UTF-8 checked at message end", d: defects{utf8AtEnd: true}, patterns: []string{"6.2.*", "6.3.*", "6.4.*", "6.12.*"},
			want: all([]string{"6.4.1", "6.4.2", "6.4.3", "6.4.4"}, verdict{NonStrict, OK}),
		},
		{
			name: "wrong close code", d: defects{wrongCode: true},
			patterns: []string{"2.5", "3.1", "4.1.1", "5.1", "6.3.1", "7.3.*", "7.5.1", "7.7.1", "7.9.*"},
			want: merge(all([]string{"2.5", "3.1", "4.1.1", "5.1", "6.3.1"}, verdict{OK, WrongCode}),
				all([]string{"7.3.2", "7.3.6", "7.5.1", "7.9.1", "7.9.2", "7.9.3", "7.9.4", "7.9.5", "7.9.6", "7.9.7", "7.9.8", "7.9.9"}, verdict{Failed, WrongCode})),
		},
		{
			// Pings go unanswered. Cases that end with the close timer get a
			// clean close; those that end with the kill timer get our 1001
			// echoed back, which is not the expected 1000.
			name: "no pong", d: defects{noPong: true}, patterns: []string{"2.1", "2.5", "2.7", "2.9", "2.11", "5.3", "5.6", "5.8", "5.19"},
			want: merge(all([]string{"2.1", "2.9", "2.11", "5.19"}, verdict{Failed, OK}),
				all([]string{"5.6", "5.8"}, verdict{Failed, WrongCode})),
		},
		{
			// RSV bits ignored: frames are echoed and nobody fails the
			// connection but the runner. 3.7's close is taken as a close.
			name: "ignores RSV", d: defects{ignoreRSV: true}, patterns: []string{"3.*"},
			want: merge(all([]string{"3.1", "3.2", "3.3", "3.4", "3.5", "3.6"}, verdict{Failed, Failed}),
				map[string]verdict{"3.7": {OK, WrongCode}}),
		},
		{
			// A server that masks: the runner fails the connection (1002);
			// the server's close reply is masked too, so the runner drops TCP.
			name: "masked server frames", d: defects{wrongMasking: true}, patterns: []string{"1.1.1", "2.1", "5.3"},
			want: all([]string{"1.1.1", "2.1", "5.3"}, verdict{Failed, Unclean}),
		},
		{
			// Drops TCP instead of answering a close frame.
			name: "no close handshake", d: defects{noCloseReply: true}, patterns: []string{"1.1.1", "2.1", "7.3.3", "7.7.1", "7.9.1", "2.5"},
			want: all([]string{"1.1.1", "2.1", "7.3.3", "7.7.1"}, verdict{OK, Unclean}),
		},
		{
			// Completes the handshake but leaves TCP open: the runner (a
			// client) must drop it.
			name: "server keeps TCP open", d: defects{keepTCP: true}, patterns: []string{"1.1.1", "2.5", "7.3.2"},
			want: map[string]verdict{"1.1.1": {OK, Unclean}, "2.5": {OK, FailedByClient}, "7.3.2": {OK, FailedByClient}},
		},
	}
	for _, tt := range tests {
		// Sequential: the timing cases must not compete for 2 cores.
		t.Run(tt.name, func(t *testing.T) {
			checkVerdicts(t, runAgainst(t, tt.d, tt.patterns...), tt.want)
		})
	}
}

// TestClientMode plays the server role against test clients.
func TestClientMode(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		d    defects
		want func(id string) verdict
	}{
		{"conformant", defects{}, normal},
		// Unmasked client frames: the runner fails every connection in which
		// the client sends anything, so no echo is ever accepted.
		{"unmasked", defects{wrongMasking: true}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			r := testRunner(t, "1.1.*", "2.*", "3.2", "5.15", "6.4.*", "6.5.*", "7.1.*", "7.9.1", "9.7.1")
			var got map[string][]*Result
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			served := make(chan error, 1)
			go func() {
				served <- r.Serve(ctx, ln, func(rs map[string][]*Result) error { got = rs; return nil })
			}()
			runTestClient(t, ln.Addr().String(), "test client", tt.d)
			if err := <-served; err != ErrReportsUpdated {
				t.Fatalf("Serve returned %v", err)
			}
			rs := got["test client"]
			if len(rs) != len(r.Cases) {
				t.Fatalf("got %d results, want %d (agents %v)", len(rs), len(r.Cases), slices.Collect(maps.Keys(got)))
			}
			if tt.want != nil {
				checkVerdicts(t, rs, nil)
				return
			}
			v := verdicts(rs)
			for _, id := range []string{"1.1.1", "1.1.8", "2.1", "6.5.1", "9.7.1"} {
				if v[id].behavior != Failed {
					t.Errorf("case %s: got %s, want FAILED for an unmasking client", id, v[id])
				}
			}
			for _, r := range rs {
				if r.ID == "1.1.1" && !slices.Contains(r.Notes, "client sent an unmasked frame") {
					t.Errorf("1.1.1 notes %v do not name the unmasked frame", r.Notes)
				}
			}
		})
	}
}

// TestNoServer: a refused connection is a FAILED case, not a hang.
func TestNoServer(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r := testRunner(t, "1.1.1")
	rs, err := r.RunServerTests(context.Background(), "ws://"+addr)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Behavior != Failed || rs[0].BehaviorClose != Failed {
		t.Fatalf("got %+v", rs)
	}
}
