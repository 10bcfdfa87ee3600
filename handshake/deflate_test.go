package handshake

import (
	"bufio"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// The tests below spell offers and responses as the values of
// Sec-WebSocket-Extensions fields. Abbreviations in test names:
//
//	snct  server_no_context_takeover     cnct  client_no_context_takeover
//	smwb  server_max_window_bits         cmwb  client_max_window_bits

// mustExtensions parses field values that the test knows are well formed.
func mustExtensions(t testing.TB, values ...string) []Extension {
	t.Helper()
	exts, err := parseExtensions(values)
	if err != nil {
		t.Fatalf("parseExtensions(%q): %v", values, err)
	}
	return exts
}

// mustExtension parses a field value holding exactly one extension.
func mustExtension(t testing.TB, value string) Extension {
	t.Helper()
	exts := mustExtensions(t, value)
	if len(exts) != 1 {
		t.Fatalf("%q holds %d extensions, want 1", value, len(exts))
	}
	return exts[0]
}

// checkDeflateError fails t unless err is a *deflateError about param whose
// reason starts with reason.
func checkDeflateError(t *testing.T, err error, param, reason string) {
	t.Helper()
	var de *deflateError
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is not a *deflateError", err, err)
	}
	if de.Param != param || !strings.HasPrefix(de.Reason, reason) {
		t.Fatalf("error %q: got Param %q, Reason %q; want Param %q, Reason starting %q",
			err, de.Param, de.Reason, param, reason)
	}
}

func TestDeflateAccept(t *testing.T) {
	tests := []struct {
		name     string
		config   DeflateConfig
		offers   []string // Sec-WebSocket-Extensions field values, one per field line
		accepted int      // index of the accepted offer among all the extensions; -1: none
		resp     string   // the response's extension, "" when declined
		agreed   DeflateParams
	}{
		{
			name:   "Chromium's offer",
			offers: []string{"permessage-deflate; client_max_window_bits"},
			resp:   "permessage-deflate",
		},
		{
			name:   "Firefox's offer",
			offers: []string{"permessage-deflate"},
			resp:   "permessage-deflate",
		},
		{
			name:   "server limits the client's window when allowed",
			config: DeflateConfig{ClientMaxWindowBits: 10},
			offers: []string{"permessage-deflate; client_max_window_bits"},
			resp:   "permessage-deflate; client_max_window_bits=10",
			agreed: DeflateParams{ClientMaxWindowBits: 10},
		},
		{
			name:   "server cannot limit the client's window without cmwb in the offer",
			config: DeflateConfig{ClientMaxWindowBits: 10},
			offers: []string{"permessage-deflate"},
			resp:   "permessage-deflate",
		},
		{
			name:   "server adds everything it may unasked",
			config: DeflateConfig{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 12},
			offers: []string{"permessage-deflate"},
			resp:   "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12",
			agreed: DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 12},
		},
		{
			name:   "server's 15-bit window is not announced",
			config: DeflateConfig{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15},
			offers: []string{"permessage-deflate; client_max_window_bits"},
			resp:   "permessage-deflate",
		},
		{
			name:   "smwb offered, echoed",
			offers: []string{"permessage-deflate; server_max_window_bits=10"},
			resp:   "permessage-deflate; server_max_window_bits=10",
			agreed: DeflateParams{ServerMaxWindowBits: 10},
		},
		{
			name:   "smwb=15 offered, echoed",
			offers: []string{"permessage-deflate; server_max_window_bits=15"},
			resp:   "permessage-deflate; server_max_window_bits=15",
			agreed: DeflateParams{ServerMaxWindowBits: 15},
		},
		{
			name:   "smwb offered, server picks smaller",
			config: DeflateConfig{ServerMaxWindowBits: 9},
			offers: []string{"permessage-deflate; server_max_window_bits=10"},
			resp:   "permessage-deflate; server_max_window_bits=9",
			agreed: DeflateParams{ServerMaxWindowBits: 9},
		},
		{
			name:   "smwb offered, server's limit larger",
			config: DeflateConfig{ServerMaxWindowBits: 12},
			offers: []string{"permessage-deflate; server_max_window_bits=10"},
			resp:   "permessage-deflate; server_max_window_bits=10",
			agreed: DeflateParams{ServerMaxWindowBits: 10},
		},
		{
			name:   "smwb=8 offered",
			offers: []string{"permessage-deflate; server_max_window_bits=8"},
			resp:   "permessage-deflate; server_max_window_bits=8",
			agreed: DeflateParams{ServerMaxWindowBits: 8},
		},
		{
			name:   "cmwb with value offered, echoed",
			offers: []string{"permessage-deflate; client_max_window_bits=10"},
			resp:   "permessage-deflate; client_max_window_bits=10",
			agreed: DeflateParams{ClientMaxWindowBits: 10},
		},
		{
			name:   "cmwb with value offered, server asks smaller",
			config: DeflateConfig{ClientMaxWindowBits: 9},
			offers: []string{"permessage-deflate; client_max_window_bits=10"},
			resp:   "permessage-deflate; client_max_window_bits=9",
			agreed: DeflateParams{ClientMaxWindowBits: 9},
		},
		{
			name:   "cmwb with value offered, server's limit larger",
			config: DeflateConfig{ClientMaxWindowBits: 12},
			offers: []string{"permessage-deflate; client_max_window_bits=10"},
			resp:   "permessage-deflate; client_max_window_bits=10",
			agreed: DeflateParams{ClientMaxWindowBits: 10},
		},
		{
			name:   "snct offered, echoed",
			offers: []string{"permessage-deflate; server_no_context_takeover"},
			resp:   "permessage-deflate; server_no_context_takeover",
			agreed: DeflateParams{ServerNoContextTakeover: true},
		},
		{
			name:   "cnct offered, echoed to bind it",
			offers: []string{"permessage-deflate; client_no_context_takeover"},
			resp:   "permessage-deflate; client_no_context_takeover",
			agreed: DeflateParams{ClientNoContextTakeover: true},
		},
		{
			name:   "all four parameters, answered in canonical order",
			offers: []string{"permessage-deflate; client_max_window_bits=8; server_max_window_bits=9; client_no_context_takeover; server_no_context_takeover"},
			resp:   "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=8",
			agreed: DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 9, ClientMaxWindowBits: 8},
		},
		{
			name:   "quoted-string values",
			offers: []string{`permessage-deflate; server_max_window_bits="10"; client_max_window_bits="11"`},
			resp:   "permessage-deflate; server_max_window_bits=10; client_max_window_bits=11",
			agreed: DeflateParams{ServerMaxWindowBits: 10, ClientMaxWindowBits: 11},
		},
		{
			name:   "no whitespace, tabs",
			offers: []string{"permessage-deflate;server_max_window_bits=10;\tclient_max_window_bits"},
			resp:   "permessage-deflate; server_max_window_bits=10",
			agreed: DeflateParams{ServerMaxWindowBits: 10},
		},
		{
			name:     "first of two acceptable offers wins (RFC 7692 §7.1.3's fallback)",
			offers:   []string{"permessage-deflate; server_max_window_bits=10, permessage-deflate"},
			accepted: 0,
			resp:     "permessage-deflate; server_max_window_bits=10",
			agreed:   DeflateParams{ServerMaxWindowBits: 10},
		},
		{
			name:     "malformed offer declined, next one taken",
			offers:   []string{"permessage-deflate; server_max_window_bits=16, permessage-deflate; client_max_window_bits"},
			accepted: 1,
			resp:     "permessage-deflate",
		},
		{
			name:     "other extensions skipped",
			offers:   []string{"x-webkit-deflate-frame, permessage-deflate; client_no_context_takeover"},
			accepted: 1,
			resp:     "permessage-deflate; client_no_context_takeover",
			agreed:   DeflateParams{ClientNoContextTakeover: true},
		},
		{
			name: "offers across several field lines",
			offers: []string{
				"x-foo; a=1",
				"permessage-deflate; foo, permessage-deflate; server_no_context_takeover; server_no_context_takeover",
				"permessage-deflate; server_no_context_takeover",
				"permessage-deflate",
			},
			accepted: 3,
			resp:     "permessage-deflate; server_no_context_takeover",
			agreed:   DeflateParams{ServerNoContextTakeover: true},
		},
		{
			name:     "every offer malformed",
			offers:   []string{"permessage-deflate; server_max_window_bits, permessage-deflate; client_max_window_bits=08"},
			accepted: -1,
		},
		{
			name:     "no permessage-deflate offer",
			offers:   []string{"x-foo, permessage-deflate-x"},
			accepted: -1,
		},
		{
			name:     "names are case-sensitive",
			offers:   []string{"Permessage-Deflate"},
			accepted: -1,
		},
		{
			name:     "no offers at all",
			accepted: -1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offers := mustExtensions(t, tt.offers...)
			agreed, resp, ok := tt.config.Accept(offers)
			if tt.accepted < 0 {
				if ok || !reflect.DeepEqual(resp, Extension{}) || agreed != (DeflateParams{}) {
					t.Fatalf("Accept = %+v, %q, %v; want a decline", agreed, resp, ok)
				}
				return
			}
			if !ok {
				t.Fatalf("Accept declined; want %q", tt.resp)
			}
			if got := formatExtensions([]Extension{resp}); got != tt.resp {
				t.Errorf("response %q, want %q", got, tt.resp)
			}
			if agreed != tt.agreed {
				t.Errorf("server agreed %+v, want %+v", agreed, tt.agreed)
			}
			// The client, given the response as it travels, must agree on
			// the same parameters.
			client, err := DeflateConfig{}.Agreed(offers[tt.accepted], mustExtension(t, tt.resp))
			if err != nil {
				t.Fatalf("Agreed(%q, %q): %v", offers[tt.accepted], tt.resp, err)
			}
			if client != tt.agreed {
				t.Errorf("client agreed %+v, want %+v", client, tt.agreed)
			}
		})
	}
}

func TestParseDeflate(t *testing.T) {
	tests := []struct {
		ext        string
		isResponse bool
		want       DeflateParams
	}{
		{"permessage-deflate", false, DeflateParams{}},
		{"permessage-deflate", true, DeflateParams{}},
		{"permessage-deflate; client_max_window_bits", false, DeflateParams{ClientMaxWindowBitsAllowed: true}},
		{"permessage-deflate; client_max_window_bits=8", false, DeflateParams{ClientMaxWindowBits: 8, ClientMaxWindowBitsAllowed: true}},
		{"permessage-deflate; client_max_window_bits=8", true, DeflateParams{ClientMaxWindowBits: 8}},
		{"permessage-deflate; server_max_window_bits=9", false, DeflateParams{ServerMaxWindowBits: 9}},
		{"permessage-deflate; server_max_window_bits=15", true, DeflateParams{ServerMaxWindowBits: 15}},
		{`permessage-deflate; server_max_window_bits="12"`, true, DeflateParams{ServerMaxWindowBits: 12}},
		{`permessage-deflate; client_max_window_bits="1\3"`, false, DeflateParams{ClientMaxWindowBits: 13, ClientMaxWindowBitsAllowed: true}},
		{"permessage-deflate; server_no_context_takeover", false, DeflateParams{ServerNoContextTakeover: true}},
		{"permessage-deflate; client_no_context_takeover", true, DeflateParams{ClientNoContextTakeover: true}},
		{"permessage-deflate; client_max_window_bits=14; client_no_context_takeover; server_max_window_bits=10; server_no_context_takeover", true,
			DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 10, ClientMaxWindowBits: 14}},
	}
	for _, tt := range tests {
		got, err := parseDeflate(mustExtension(t, tt.ext), tt.isResponse)
		if err != nil {
			t.Errorf("parseDeflate(%q, %v): %v", tt.ext, tt.isResponse, err)
			continue
		}
		if got != tt.want {
			t.Errorf("parseDeflate(%q, %v) = %+v, want %+v", tt.ext, tt.isResponse, got, tt.want)
		}
	}
	// Every window size, in both parameters and both roles.
	for n := 8; n <= 15; n++ {
		for _, isResponse := range []bool{false, true} {
			ext := fmt.Sprintf("permessage-deflate; server_max_window_bits=%d; client_max_window_bits=%d", n, n)
			got, err := parseDeflate(mustExtension(t, ext), isResponse)
			if err != nil || got.ServerMaxWindowBits != n || got.ClientMaxWindowBits != n {
				t.Errorf("parseDeflate(%q, %v) = %+v, %v", ext, isResponse, got, err)
			}
		}
	}
}

func TestParseDeflateRejects(t *testing.T) {
	const (
		offer    = 1 << iota // rejected as an offer
		response             // rejected as a response
		both     = offer | response
	)
	tests := []struct {
		ext    string
		roles  int
		param  string
		reason string
	}{
		{"x-deflate", both, "", reasonDeflateName},
		{"PERMESSAGE-DEFLATE", both, "", reasonDeflateName},
		{"permessage-deflate; foo", both, "foo", reasonDeflateUnknown},
		{"permessage-deflate; Server_No_Context_Takeover", both, "Server_No_Context_Takeover", reasonDeflateUnknown},
		{"permessage-deflate; x=1; client_max_window_bits", both, "x", reasonDeflateUnknown},
		{"permessage-deflate; server_no_context_takeover; server_no_context_takeover", both, "server_no_context_takeover", reasonDeflateTwice},
		{"permessage-deflate; client_no_context_takeover; client_no_context_takeover", both, "client_no_context_takeover", reasonDeflateTwice},
		{"permessage-deflate; server_max_window_bits=10; server_max_window_bits=10", both, "server_max_window_bits", reasonDeflateTwice},
		{"permessage-deflate; client_max_window_bits=10; client_max_window_bits", both, "client_max_window_bits", reasonDeflateTwice},
		{"permessage-deflate; client_max_window_bits=10; client_max_window_bits=11", both, "client_max_window_bits", reasonDeflateTwice},
		{"permessage-deflate; server_no_context_takeover=1", both, "server_no_context_takeover", reasonDeflateHasValue},
		{`permessage-deflate; client_no_context_takeover="true"`, both, "client_no_context_takeover", reasonDeflateHasValue},
		{"permessage-deflate; server_max_window_bits", both, "server_max_window_bits", reasonDeflateNoValue},
		{"permessage-deflate; client_max_window_bits", response, "client_max_window_bits", reasonDeflateNoValue},
		{"permessage-deflate; server_max_window_bits=7", both, "server_max_window_bits", reasonDeflateBits},
		{"permessage-deflate; server_max_window_bits=16", both, "server_max_window_bits", reasonDeflateBits},
		{"permessage-deflate; server_max_window_bits=0", both, "server_max_window_bits", reasonDeflateBits},
		{"permessage-deflate; server_max_window_bits=08", both, "server_max_window_bits", reasonDeflateBits},
		{"permessage-deflate; server_max_window_bits=010", both, "server_max_window_bits", reasonDeflateBits},
		{"permessage-deflate; server_max_window_bits=+9", both, "server_max_window_bits", reasonDeflateBits},
		{"permessage-deflate; server_max_window_bits=-9", both, "server_max_window_bits", reasonDeflateBits},
		{"permessage-deflate; server_max_window_bits=9.0", both, "server_max_window_bits", reasonDeflateBits},
		{"permessage-deflate; server_max_window_bits=0x9", both, "server_max_window_bits", reasonDeflateBits},
		{"permessage-deflate; server_max_window_bits=1e1", both, "server_max_window_bits", reasonDeflateBits},
		{"permessage-deflate; server_max_window_bits=ten", both, "server_max_window_bits", reasonDeflateBits},
		{"permessage-deflate; client_max_window_bits=100", both, "client_max_window_bits", reasonDeflateBits},
		{"permessage-deflate; client_max_window_bits=20", both, "client_max_window_bits", reasonDeflateBits},
		{`permessage-deflate; client_max_window_bits="08"`, both, "client_max_window_bits", reasonDeflateBits},
		{`permessage-deflate; server_max_window_bits="16"`, both, "server_max_window_bits", reasonDeflateBits},
	}
	for _, tt := range tests {
		e := mustExtension(t, tt.ext)
		for _, role := range []int{offer, response} {
			_, err := parseDeflate(e, role == response)
			if tt.roles&role == 0 {
				if err != nil {
					t.Errorf("parseDeflate(%q, %v): %v; want success", tt.ext, role == response, err)
				}
				continue
			}
			if err == nil {
				t.Errorf("parseDeflate(%q, %v) succeeded; want %s: %s", tt.ext, role == response, tt.param, tt.reason)
				continue
			}
			t.Run("", func(t *testing.T) { checkDeflateError(t, err, tt.param, tt.reason) })
		}
		// A server declines what parseDeflate rejects as an offer, and
		// goes on to the next offer.
		if tt.roles&offer != 0 {
			if _, resp, ok := (DeflateConfig{}).Accept([]Extension{e}); ok {
				t.Errorf("Accept(%q) accepted it with %q", tt.ext, resp)
			}
			if _, resp, ok := (DeflateConfig{}).Accept([]Extension{e, {Name: deflateName}}); !ok || resp.String() != deflateName {
				t.Errorf("Accept(%q, %q) = %q, %v; want the second offer", tt.ext, deflateName, resp, ok)
			}
		}
	}
}

func TestDeflateAgreed(t *testing.T) {
	tests := []struct {
		name   string
		config DeflateConfig
		offer  string
		resp   string
		want   DeflateParams
	}{
		{"bare", DeflateConfig{}, "permessage-deflate", "permessage-deflate", DeflateParams{}},
		{"Chromium-style offer, bare response", DeflateConfig{}, "permessage-deflate; client_max_window_bits", "permessage-deflate", DeflateParams{}},
		{"server adds snct, cnct and smwb unasked", DeflateConfig{}, "permessage-deflate",
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9",
			DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 9}},
		{"server limits the client's window, bare cmwb offered", DeflateConfig{}, "permessage-deflate; client_max_window_bits",
			"permessage-deflate; client_max_window_bits=8", DeflateParams{ClientMaxWindowBits: 8}},
		{"smwb answered equal", DeflateConfig{}, "permessage-deflate; server_max_window_bits=10",
			"permessage-deflate; server_max_window_bits=10", DeflateParams{ServerMaxWindowBits: 10}},
		{"smwb answered smaller", DeflateConfig{}, "permessage-deflate; server_max_window_bits=10",
			"permessage-deflate; server_max_window_bits=8", DeflateParams{ServerMaxWindowBits: 8}},
		{"cmwb answered smaller", DeflateConfig{}, "permessage-deflate; client_max_window_bits=10",
			"permessage-deflate; client_max_window_bits=9", DeflateParams{ClientMaxWindowBits: 9}},
		{"snct echoed", DeflateConfig{}, "permessage-deflate; server_no_context_takeover",
			"permessage-deflate; server_no_context_takeover", DeflateParams{ServerNoContextTakeover: true}},
		{"offer's cnct and cmwb hold without an echo", DeflateConfig{}, "permessage-deflate; client_no_context_takeover; client_max_window_bits=10",
			"permessage-deflate", DeflateParams{ClientNoContextTakeover: true, ClientMaxWindowBits: 10}},
		{"config's client limits hold whatever the offer", DeflateConfig{ClientNoContextTakeover: true, ClientMaxWindowBits: 9},
			"permessage-deflate; client_max_window_bits", "permessage-deflate; client_max_window_bits=12",
			DeflateParams{ClientNoContextTakeover: true, ClientMaxWindowBits: 9}},
		{"the server's smaller client window wins over the config's", DeflateConfig{ClientMaxWindowBits: 12},
			"permessage-deflate; client_max_window_bits", "permessage-deflate; client_max_window_bits=10",
			DeflateParams{ClientMaxWindowBits: 10}},
		{"config's server fields play no part", DeflateConfig{ServerNoContextTakeover: true, ServerMaxWindowBits: 8},
			"permessage-deflate", "permessage-deflate", DeflateParams{}},
		{"quoted values in the response", DeflateConfig{}, "permessage-deflate; client_max_window_bits",
			`permessage-deflate; server_max_window_bits="11"; client_max_window_bits="12"`,
			DeflateParams{ServerMaxWindowBits: 11, ClientMaxWindowBits: 12}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.config.Agreed(mustExtension(t, tt.offer), mustExtension(t, tt.resp))
			if err != nil {
				t.Fatalf("Agreed(%q, %q): %v", tt.offer, tt.resp, err)
			}
			if got != tt.want {
				t.Fatalf("Agreed(%q, %q) = %+v, want %+v", tt.offer, tt.resp, got, tt.want)
			}
		})
	}
}

func TestDeflateAgreedRejects(t *testing.T) {
	tests := []struct {
		name   string
		offer  string
		resp   string
		param  string
		reason string
	}{
		{"cmwb not offered", "permessage-deflate", "permessage-deflate; client_max_window_bits=10",
			"client_max_window_bits", reasonDeflateNotOffered},
		{"cmwb not offered, alongside other parameters", "permessage-deflate; server_no_context_takeover; server_max_window_bits=12",
			"permessage-deflate; server_no_context_takeover; server_max_window_bits=12; client_max_window_bits=15",
			"client_max_window_bits", reasonDeflateNotOffered},
		{"cmwb larger than offered", "permessage-deflate; client_max_window_bits=10", "permessage-deflate; client_max_window_bits=11",
			"client_max_window_bits", reasonDeflateOverOffer},
		{"cmwb without value", "permessage-deflate; client_max_window_bits", "permessage-deflate; client_max_window_bits",
			"client_max_window_bits", reasonDeflateNoValue},
		{"smwb larger than offered", "permessage-deflate; server_max_window_bits=10", "permessage-deflate; server_max_window_bits=11",
			"server_max_window_bits", reasonDeflateOverOffer},
		{"smwb offered, missing", "permessage-deflate; server_max_window_bits=10", "permessage-deflate",
			"server_max_window_bits", reasonDeflateNotHonoured},
		{"snct offered, missing", "permessage-deflate; server_no_context_takeover", "permessage-deflate; client_no_context_takeover",
			"server_no_context_takeover", reasonDeflateNotHonoured},
		{"smwb out of range", "permessage-deflate", "permessage-deflate; server_max_window_bits=16",
			"server_max_window_bits", reasonDeflateBits},
		{"smwb leading zero", "permessage-deflate", "permessage-deflate; server_max_window_bits=09",
			"server_max_window_bits", reasonDeflateBits},
		{"smwb without value", "permessage-deflate", "permessage-deflate; server_max_window_bits",
			"server_max_window_bits", reasonDeflateNoValue},
		{"duplicate", "permessage-deflate", "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
			"server_no_context_takeover", reasonDeflateTwice},
		{"value on a flag", "permessage-deflate", "permessage-deflate; client_no_context_takeover=yes",
			"client_no_context_takeover", reasonDeflateHasValue},
		{"unknown parameter", "permessage-deflate", "permessage-deflate; mem_level=8",
			"mem_level", reasonDeflateUnknown},
		{"another extension", "permessage-deflate", "x-webkit-deflate-frame",
			"", reasonDeflateName},
		{"malformed offer", "permessage-deflate; server_max_window_bits", "permessage-deflate",
			"", reasonDeflateBadOffer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DeflateConfig{}.Agreed(mustExtension(t, tt.offer), mustExtension(t, tt.resp))
			if err == nil {
				t.Fatalf("Agreed(%q, %q) = %+v; want an error", tt.offer, tt.resp, got)
			}
			if got != (DeflateParams{}) {
				t.Errorf("Agreed returned %+v with its error", got)
			}
			checkDeflateError(t, err, tt.param, tt.reason)
		})
	}
}

func TestDeflateOffer(t *testing.T) {
	tests := []struct {
		config DeflateConfig
		want   string
	}{
		{DeflateConfig{}, "permessage-deflate; client_max_window_bits"},
		{DeflateConfig{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}, "permessage-deflate; client_max_window_bits"},
		{DeflateConfig{ServerNoContextTakeover: true}, "permessage-deflate; server_no_context_takeover; client_max_window_bits"},
		{DeflateConfig{ClientNoContextTakeover: true}, "permessage-deflate; client_no_context_takeover; client_max_window_bits"},
		{DeflateConfig{ServerMaxWindowBits: 10}, "permessage-deflate; server_max_window_bits=10; client_max_window_bits"},
		{DeflateConfig{ClientMaxWindowBits: 8}, "permessage-deflate; client_max_window_bits=8"},
		{DeflateConfig{true, true, 9, 14},
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=14"},
		// Out-of-range sizes are brought into 8..15.
		{DeflateConfig{ServerMaxWindowBits: 7, ClientMaxWindowBits: 16}, "permessage-deflate; server_max_window_bits=8; client_max_window_bits"},
		{DeflateConfig{ServerMaxWindowBits: 99, ClientMaxWindowBits: -1}, "permessage-deflate; client_max_window_bits=8"},
	}
	for _, tt := range tests {
		got := tt.config.Offer()
		if s := got.String(); s != tt.want {
			t.Errorf("%+v.Offer() = %q, want %q", tt.config, s, tt.want)
		}
		if why := validExtension(got); why != "" {
			t.Errorf("%+v.Offer() cannot be sent: %s", tt.config, why)
		}
		if _, err := parseDeflate(got, false); err != nil {
			t.Errorf("%+v.Offer() = %q is not a valid offer: %v", tt.config, got, err)
		}
	}
}

func TestDeflateParamsHelpers(t *testing.T) {
	var zero DeflateParams
	if zero.WindowBits(true) != 15 || zero.WindowBits(false) != 15 || !zero.ContextTakeover(true) || !zero.ContextTakeover(false) {
		t.Errorf("zero DeflateParams: windows %d/%d, takeover %v/%v; want 15/15, true/true",
			zero.WindowBits(true), zero.WindowBits(false), zero.ContextTakeover(true), zero.ContextTakeover(false))
	}
	if zero.String() != deflateName {
		t.Errorf("zero DeflateParams.String() = %q", zero.String())
	}
	p := DeflateParams{ServerNoContextTakeover: true, ServerMaxWindowBits: 9, ClientMaxWindowBits: 12}
	if p.WindowBits(true) != 9 || p.WindowBits(false) != 12 || p.ContextTakeover(true) || !p.ContextTakeover(false) {
		t.Errorf("%+v: windows %d/%d, takeover %v/%v; want 9/12, false/true",
			p, p.WindowBits(true), p.WindowBits(false), p.ContextTakeover(true), p.ContextTakeover(false))
	}
	p = DeflateParams{ClientNoContextTakeover: true}
	if !p.ContextTakeover(true) || p.ContextTakeover(false) {
		t.Errorf("%+v: takeover %v/%v; want true/false", p, p.ContextTakeover(true), p.ContextTakeover(false))
	}
	// extension and parseDeflate are inverses over valid parameters.
	for _, p := range []DeflateParams{
		{},
		{ClientMaxWindowBitsAllowed: true},
		{ClientMaxWindowBits: 10, ClientMaxWindowBitsAllowed: true},
		{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 8, ClientMaxWindowBits: 15, ClientMaxWindowBitsAllowed: true},
	} {
		got, err := parseDeflate(mustExtension(t, p.String()), false)
		if err != nil || got != p {
			t.Errorf("parseDeflate(%q) = %+v, %v; want %+v", p.String(), got, err, p)
		}
	}
	if s := (DeflateParams{ClientMaxWindowBits: 11}).String(); s != "permessage-deflate; client_max_window_bits=11" {
		t.Errorf("String() = %q", s)
	}
}

// deflateConfigs returns every combination of the four settings, window
// sizes 0 and 8..15.
func deflateConfigs() []DeflateConfig {
	sizes := []int{0, 8, 9, 10, 11, 12, 13, 14, 15}
	var out []DeflateConfig
	for _, snct := range []bool{false, true} {
		for _, cnct := range []bool{false, true} {
			for _, s := range sizes {
				for _, c := range sizes {
					out = append(out, DeflateConfig{snct, cnct, s, c})
				}
			}
		}
	}
	return out
}

// TestDeflateRoundTrip negotiates between every client configuration and
// every server configuration, through the text of the header fields, and
// checks both sides agree on what RFC 7692 says they must.
func TestDeflateRoundTrip(t *testing.T) {
	configs := deflateConfigs()
	// Offers and their wire form depend on the client only.
	offers := make([][]Extension, len(configs))
	for i, cc := range configs {
		offers[i] = mustExtensions(t, formatExtensions([]Extension{cc.Offer()}))
	}
	for _, sc := range configs {
		for i, cc := range configs {
			agreed, resp, ok := sc.Accept(offers[i])
			if !ok {
				t.Fatalf("server %+v declined client %+v's offer %q", sc, cc, offers[i][0])
			}
			wire := formatExtensions([]Extension{resp})
			client, err := cc.Agreed(offers[i][0], mustExtension(t, wire))
			if err != nil {
				t.Fatalf("server %+v, client %+v: offer %q, response %q: %v", sc, cc, offers[i][0], wire, err)
			}
			if client != agreed {
				t.Fatalf("server %+v, client %+v: offer %q, response %q: server agreed %+v, client %+v",
					sc, cc, offers[i][0], wire, agreed, client)
			}
			want := DeflateParams{
				ServerNoContextTakeover: cc.ServerNoContextTakeover || sc.ServerNoContextTakeover,
				ClientNoContextTakeover: cc.ClientNoContextTakeover || sc.ClientNoContextTakeover,
			}
			if got, w := agreed.WindowBits(true), min(windowBits(cc.ServerMaxWindowBits), windowBits(sc.ServerMaxWindowBits)); got != w {
				t.Fatalf("server %+v, client %+v: server window %d, want %d", sc, cc, got, w)
			}
			if got, w := agreed.WindowBits(false), min(windowBits(cc.ClientMaxWindowBits), windowBits(sc.ClientMaxWindowBits)); got != w {
				t.Fatalf("server %+v, client %+v: client window %d, want %d", sc, cc, got, w)
			}
			if agreed.ServerNoContextTakeover != want.ServerNoContextTakeover || agreed.ClientNoContextTakeover != want.ClientNoContextTakeover {
				t.Fatalf("server %+v, client %+v: agreed %+v, want takeover as in %+v", sc, cc, agreed, want)
			}
		}
	}
}

// TestDeflateThroughHandshake runs a negotiation through the handshake's own
// request and response code: the offer goes out with ClientRequest.Append,
// the server reads it with readRequest, answers with AppendResponse, and the
// client checks the answer with ReadResponse and Agreed.
func TestDeflateThroughHandshake(t *testing.T) {
	client := DeflateConfig{ClientNoContextTakeover: true, ServerMaxWindowBits: 12}
	server := DeflateConfig{ServerNoContextTakeover: true, ClientMaxWindowBits: 10}
	offer := client.Offer()
	req := &ClientRequest{
		URL:        mustURL(t, "ws://example.com/chat"),
		Key:        "dGhlIHNhbXBsZSBub25jZQ==",
		Extensions: []Extension{{Name: "x-foo"}, offer},
	}
	wire, err := req.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	const wantOffer = "Sec-WebSocket-Extensions: x-foo, permessage-deflate; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits\r\n"
	if !strings.Contains(string(wire), wantOffer) {
		t.Fatalf("request\n%s\nlacks %q", wire, wantOffer)
	}
	r, err := readRequest(bufio.NewReader(strings.NewReader(string(wire))), 0)
	if err != nil {
		t.Fatal(err)
	}
	agreed, resp, ok := server.Accept(r.Extensions)
	if !ok {
		t.Fatalf("server declined %q", formatExtensions(r.Extensions))
	}
	answer := AppendResponse(nil, req.Key, "", formatExtensions([]Extension{resp}), nil)
	const wantAnswer = "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=10\r\n"
	if !strings.Contains(string(answer), wantAnswer) {
		t.Fatalf("response\n%s\nlacks %q", answer, wantAnswer)
	}
	got, err := ReadResponse(bufio.NewReader(strings.NewReader(string(answer))), 0, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Extensions) != 1 {
		t.Fatalf("response extensions %q", formatExtensions(got.Extensions))
	}
	params, err := client.Agreed(offer, got.Extensions[0])
	if err != nil {
		t.Fatal(err)
	}
	want := DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 12, ClientMaxWindowBits: 10}
	if params != want || agreed != want {
		t.Fatalf("client agreed %+v, server %+v; want %+v", params, agreed, want)
	}
}

// FuzzDeflateNegotiation feeds arbitrary Sec-WebSocket-Extensions values to
// a server with an arbitrary configuration and checks that whatever Accept
// answers is a response RFC 7692 allows for the offer it accepted, that the
// client agrees on the same parameters, and that Accept took the first offer
// parseDeflate accepts (and declined only when there was none).
func FuzzDeflateNegotiation(f *testing.F) {
	for _, s := range []string{
		"permessage-deflate",
		"permessage-deflate; client_max_window_bits",
		"permessage-deflate; client_max_window_bits=10; server_max_window_bits=9; server_no_context_takeover; client_no_context_takeover",
		"permessage-deflate; server_max_window_bits=10, permessage-deflate",
		"permessage-deflate; server_max_window_bits=16, permessage-deflate; client_max_window_bits",
		`permessage-deflate; server_max_window_bits="10"`,
		"permessage-deflate; server_max_window_bits=08",
		"permessage-deflate; foo, x-foo, permessage-deflate; client_no_context_takeover",
		"permessage-deflate; server_no_context_takeover; server_no_context_takeover",
		"x-webkit-deflate-frame",
		"",
	} {
		f.Add(s, false, false, uint8(0), uint8(0))
		f.Add(s, true, true, uint8(9), uint8(12))
	}
	f.Fuzz(func(t *testing.T, value string, snct, cnct bool, sbits, cbits uint8) {
		offers, err := parseExtensions(strings.Split(value, "\n"))
		if err != nil {
			return
		}
		c := DeflateConfig{snct, cnct, int(sbits % 17), int(cbits % 17)}
		agreed, resp, ok := c.Accept(offers)

		first := -1
		for i, e := range offers {
			if _, err := parseDeflate(e, false); err == nil {
				first = i
				break
			}
		}
		if first < 0 {
			if ok || !reflect.DeepEqual(resp, Extension{}) || agreed != (DeflateParams{}) {
				t.Fatalf("%+v.Accept(%q) = %+v, %q, %v with no valid offer", c, value, agreed, resp, ok)
			}
			return
		}
		if !ok {
			t.Fatalf("%+v.Accept(%q) declined the valid offer %q", c, value, offers[first])
		}
		if why := validExtension(resp); why != "" {
			t.Fatalf("response %q cannot be sent: %s", resp, why)
		}
		// The response as the client receives it.
		wire := formatExtensions([]Extension{resp})
		got, err := parseExtensions([]string{wire})
		if err != nil || len(got) != 1 {
			t.Fatalf("response %q does not parse back: %v", wire, err)
		}
		p, err := parseDeflate(got[0], true)
		if err != nil {
			t.Fatalf("parseDeflate(response %q): %v", wire, err)
		}
		if p != agreed {
			t.Fatalf("response %q parses to %+v; server agreed %+v", wire, p, agreed)
		}
		client, err := DeflateConfig{}.Agreed(offers[first], got[0])
		if err != nil {
			t.Fatalf("offer %q, response %q: %v", offers[first], wire, err)
		}
		if client != agreed {
			t.Fatalf("offer %q, response %q: client agreed %+v, server %+v", offers[first], wire, client, agreed)
		}
		// What the server itself required is in force.
		if c.ServerNoContextTakeover && agreed.ContextTakeover(true) ||
			c.ClientNoContextTakeover && agreed.ContextTakeover(false) ||
			agreed.WindowBits(true) > windowBits(c.ServerMaxWindowBits) {
			t.Fatalf("config %+v, offer %q: agreed %+v", c, offers[first], agreed)
		}
		if o, _ := parseDeflate(offers[first], false); o.ClientMaxWindowBitsAllowed && agreed.WindowBits(false) > windowBits(c.ClientMaxWindowBits) {
			t.Fatalf("config %+v, offer %q: agreed %+v", c, offers[first], agreed)
		}
	})
}

// A server accepting a browser's offer, and the client checking the answer.
func ExampleDeflateConfig_Accept() {
	// The server: compress each message on its own, and keep the client's
	// window at 1 KiB when it lets us choose.
	server := DeflateConfig{ServerNoContextTakeover: true, ClientMaxWindowBits: 10}
	offers, _ := parseExtensions([]string{"permessage-deflate; client_max_window_bits"})
	agreed, resp, ok := server.Accept(offers)
	fmt.Println(ok, resp)
	fmt.Println("server window:", agreed.WindowBits(true), "takeover:", agreed.ContextTakeover(true))
	fmt.Println("client window:", agreed.WindowBits(false), "takeover:", agreed.ContextTakeover(false))

	// The client, with the offer it sent and the response it got.
	params, err := DeflateConfig{}.Agreed(offers[0], resp)
	fmt.Println(params == agreed, err)
	// Output:
	// true permessage-deflate; server_no_context_takeover; client_max_window_bits=10
	// server window: 15 takeover: false
	// client window: 10 takeover: true
	// true <nil>
}

// BenchmarkDeflateAccept measures the server's negotiation for a Chromium
// offer, with a configuration that puts two parameters in the response.
func BenchmarkDeflateAccept(b *testing.B) {
	offers := mustExtensions(b, "permessage-deflate; client_max_window_bits")
	c := DeflateConfig{ServerNoContextTakeover: true, ClientMaxWindowBits: 10}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := c.Accept(offers); !ok {
			b.Fatal("declined")
		}
	}
}

// BenchmarkDeflateAgreed measures the client's check of a response with
// every parameter.
func BenchmarkDeflateAgreed(b *testing.B) {
	var c DeflateConfig
	offer := c.Offer()
	resp := mustExtension(b, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=10")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Agreed(offer, resp); err != nil {
			b.Fatal(err)
		}
	}
}
