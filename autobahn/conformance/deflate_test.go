package conformance

import (
	"slices"
	"strings"
	"testing"
)

func TestParseExtensions(t *testing.T) {
	tests := []struct {
		in   []string
		want string // canonical form, elements joined by " , "
		err  bool
	}{
		{in: []string{""}, want: ""},
		{in: []string{"permessage-deflate"}, want: "permessage-deflate"},
		{in: []string{"permessage-deflate;client_max_window_bits ; server_max_window_bits = 10"},
			want: "permessage-deflate; client_max_window_bits; server_max_window_bits=10"},
		{in: []string{`permessage-deflate; server_max_window_bits="10"`}, want: "permessage-deflate; server_max_window_bits=10"},
		{in: []string{"a, b; x", "c"}, want: "a , b; x , c"},
		{in: []string{" , a ,, b ,"}, want: "a , b"},
		{in: []string{`x; y="a\"b"`}, err: true}, // unescaped value is not a token
		{in: []string{`x; y="abc`}, err: true},
		{in: []string{"x; =1"}, err: true},
		{in: []string{"x; y="}, err: true},
		{in: []string{"x y"}, err: true},
		{in: []string{"; x"}, err: true},
		{in: []string{"x;"}, err: true},
	}
	for _, tt := range tests {
		exts, err := parseExtensions(tt.in...)
		if tt.err {
			if err == nil {
				t.Errorf("parseExtensions(%q) = %v, want an error", tt.in, exts)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseExtensions(%q): %v", tt.in, err)
			continue
		}
		var s []string
		for _, e := range exts {
			s = append(s, e.String())
		}
		if got := strings.Join(s, " , "); got != tt.want {
			t.Errorf("parseExtensions(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseDeflate(t *testing.T) {
	tests := []struct {
		in       string
		response bool
		want     pmdParams
		err      bool
	}{
		{in: "permessage-deflate", want: pmdParams{}},
		{in: "permessage-deflate; client_max_window_bits", want: pmdParams{clientMaxWindowBitsOffered: true}},
		{in: "permessage-deflate; client_max_window_bits=10", want: pmdParams{clientMaxWindowBitsOffered: true, clientMaxWindowBits: 10}},
		{in: "permessage-deflate; client_max_window_bits", response: true, err: true},
		{in: "permessage-deflate; client_max_window_bits=8", response: true, want: pmdParams{clientMaxWindowBits: 8}},
		{in: "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=15",
			want: pmdParams{serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 15}},
		{in: "permessage-deflate; server_max_window_bits", err: true},
		{in: "permessage-deflate; server_max_window_bits=7", err: true},
		{in: "permessage-deflate; server_max_window_bits=16", err: true},
		{in: "permessage-deflate; server_max_window_bits=09", err: true},
		{in: "permessage-deflate; server_max_window_bits=+9", err: true},
		{in: "permessage-deflate; server_no_context_takeover=1", err: true},
		{in: "permessage-deflate; server_no_context_takeover; server_no_context_takeover", err: true},
		{in: "permessage-deflate; mem_level=8", err: true},
	}
	for _, tt := range tests {
		exts, err := parseExtensions(tt.in)
		if err != nil || len(exts) != 1 {
			t.Fatalf("%q: %v", tt.in, err)
		}
		got, err := parseDeflate(exts[0], tt.response)
		switch {
		case tt.err && err == nil:
			t.Errorf("%q (response %v): got %+v, want an error", tt.in, tt.response, got)
		case !tt.err && err != nil:
			t.Errorf("%q (response %v): %v", tt.in, tt.response, err)
		case !tt.err && got != tt.want:
			t.Errorf("%q (response %v): got %+v, want %+v", tt.in, tt.response, got, tt.want)
		}
	}
}

// The offers of every compression case as they go on the wire, and how a
// server that accepts exactly what was asked of it is judged.
func TestCaseOffers(t *testing.T) {
	const def = "permessage-deflate; client_no_context_takeover; client_max_window_bits"
	want := map[string]string{
		"12.1": def, "12.5": def,
		"13.1": def,
		"13.2": def + "; server_no_context_takeover",
		"13.3": def + "; server_max_window_bits=9",
		"13.4": def + "; server_max_window_bits=15",
		"13.5": def + "; server_no_context_takeover; server_max_window_bits=9",
		"13.6": def + "; server_no_context_takeover; server_max_window_bits=15",
		"13.7": def + "; server_no_context_takeover; server_max_window_bits=9, " + def + "; server_no_context_takeover, " + def,
	}
	for _, c := range Cases() {
		sub := c.ID[:strings.LastIndexByte(c.ID, '.')]
		if w, ok := want[sub]; ok && c.Extensions != w {
			t.Errorf("%s offers %q, want %q", c.ID, c.Extensions, w)
		}
	}
}

func TestCheckResponse(t *testing.T) {
	offer := func(s string) []pmdParams {
		o, err := parseOffers([]string{s})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	const def = "permessage-deflate; client_no_context_takeover; client_max_window_bits"
	tests := []struct {
		offer, resp string
		want        *DeflateParams // nil with ok: declined
		ok          bool
	}{
		{def, "", nil, true},
		{def, "permessage-deflate", &DeflateParams{false, false, 15, 15}, true},
		{def, "Permessage-Deflate; client_max_window_bits=9; server_no_context_takeover; server_max_window_bits=10",
			&DeflateParams{true, false, 10, 9}, true},
		{def, "permessage-deflate; client_no_context_takeover", &DeflateParams{false, true, 15, 15}, true},
		{def + "; server_no_context_takeover", "permessage-deflate", nil, false},
		{def + "; server_max_window_bits=9", "permessage-deflate", nil, false},
		{def + "; server_max_window_bits=9", "permessage-deflate; server_max_window_bits=10", nil, false},
		{def + "; server_max_window_bits=9", "permessage-deflate; server_max_window_bits=8", &DeflateParams{false, false, 8, 15}, true},
		{"permessage-deflate", "permessage-deflate; client_max_window_bits=15", nil, false},
		{"permessage-deflate; client_max_window_bits=10", "permessage-deflate; client_max_window_bits=11", nil, false},
		{def, "permessage-deflate; client_max_window_bits", nil, false},
		{def, "permessage-deflate; foo", nil, false},
		{def, "x-webkit-deflate-frame", nil, false},
		{def, "permessage-deflate, permessage-deflate", nil, false},
		{def, "permessage-deflate; server_max_window_bits=1a", nil, false},
		// Several offers: the response may answer any of them.
		{def + "; server_no_context_takeover; server_max_window_bits=9, " + def, "permessage-deflate", &DeflateParams{false, false, 15, 15}, true},
		{def + "; server_max_window_bits=9, " + def + "; server_no_context_takeover", "permessage-deflate; server_max_window_bits=12", nil, false},
	}
	for _, tt := range tests {
		got, err := checkResponse(offer(tt.offer), tt.resp)
		switch {
		case tt.ok && err != nil:
			t.Errorf("offer %q, response %q: %v", tt.offer, tt.resp, err)
		case !tt.ok && err == nil:
			t.Errorf("offer %q, response %q: accepted as %+v", tt.offer, tt.resp, got)
		case tt.ok && (got == nil) != (tt.want == nil), tt.ok && got != nil && *got != *tt.want:
			t.Errorf("offer %q, response %q: agreed %+v, want %+v", tt.offer, tt.resp, got, tt.want)
		}
	}
}

// How the runner, as server, answers typical client offers in each
// subgroup of 13, following the suite's accept rules.
func TestAcceptRules(t *testing.T) {
	specs := map[string]*deflateSpec{}
	for _, c := range Cases() {
		if c.deflate != nil {
			specs[c.ID[:strings.LastIndexByte(c.ID, '.')]] = c.deflate
		}
	}
	const (
		browser = "permessage-deflate; client_max_window_bits" // what Chromium and Firefox offer
		bare    = "permessage-deflate"
		hinted  = "permessage-deflate; client_max_window_bits=10; server_no_context_takeover"
	)
	tests := []struct {
		sub, offer, want string // want "": declined
	}{
		{"12.3", browser, "permessage-deflate"},
		{"13.1", bare, "permessage-deflate"},
		{"13.2", browser, "permessage-deflate; client_no_context_takeover"},
		{"13.2", bare, "permessage-deflate; client_no_context_takeover"},
		{"13.3", browser, "permessage-deflate; client_max_window_bits=9"},
		{"13.3", bare, ""},
		{"13.4", browser, "permessage-deflate; client_max_window_bits=15"},
		{"13.4", hinted, "permessage-deflate; server_no_context_takeover; client_max_window_bits=10"},
		{"13.5", browser, "permessage-deflate; client_no_context_takeover; client_max_window_bits=9"},
		{"13.5", bare, ""},
		{"13.6", hinted, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits=10"},
		{"13.7", browser, "permessage-deflate; client_no_context_takeover; client_max_window_bits=9"},
		{"13.7", bare, "permessage-deflate; client_no_context_takeover"},
		{"13.7", bare + ", " + browser, "permessage-deflate; client_no_context_takeover; client_max_window_bits=9"},
		{"13.1", "x-foo; bar, " + browser, "permessage-deflate"},
		{"13.1", "x-foo", ""},
	}
	for _, tt := range tests {
		spec := specs[tt.sub]
		offers, err := parseOffers([]string{tt.offer})
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if r, ok := spec.answer(offers); ok {
			got = r.responseString()
			// Whatever the runner answers must be legal for the offer.
			if _, err := checkResponse(offers, got); err != nil {
				t.Errorf("%s: answer %q to %q is not legal: %v", tt.sub, got, tt.offer, err)
			}
		}
		if got != tt.want {
			t.Errorf("%s, offer %q: answer %q, want %q", tt.sub, tt.offer, got, tt.want)
		}
	}
	if _, err := parseOffers([]string{"permessage-deflate; client_max_window_bits=16"}); err == nil {
		t.Error("a malformed offer was accepted")
	}
}

// FuzzParseExtensions: whatever parses, formats to a canonical string that
// parses back to the same extensions; and any permessage-deflate offer that
// the runner answers gets an answer that is legal for it.
func FuzzParseExtensions(f *testing.F) {
	for _, s := range []string{"permessage-deflate; client_max_window_bits", `a; b="c", d`, "permessage-deflate; server_max_window_bits=9, permessage-deflate",
		"permessage-deflate; client_no_context_takeover; client_max_window_bits=12; server_no_context_takeover"} {
		f.Add(s)
	}
	rules := []acceptRule{{}, {clientNoContextTakeover: true}, {clientMaxWindowBits: 9}, {clientNoContextTakeover: true, clientMaxWindowBits: 15}}
	f.Fuzz(func(t *testing.T, s string) {
		exts, err := parseExtensions(s)
		if err != nil {
			return
		}
		var parts []string
		for _, e := range exts {
			parts = append(parts, e.String())
		}
		canon := strings.Join(parts, ", ")
		again, err := parseExtensions(canon)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", canon, s, err)
		}
		if !slices.EqualFunc(exts, again, func(a, b extension) bool {
			return a.name == b.name && slices.Equal(a.params, b.params)
		}) {
			t.Fatalf("%q -> %q -> %v", s, canon, again)
		}
		offers, err := parseOffers([]string{s})
		if err != nil {
			return
		}
		for _, r := range rules {
			resp, ok := r.accept(offers)
			if !ok {
				continue
			}
			if _, err := checkResponse(offers, resp.responseString()); err != nil {
				t.Fatalf("rule %+v answers %q with %q: %v", r, s, resp.responseString(), err)
			}
		}
	})
}
