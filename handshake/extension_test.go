package handshake

import (
	"errors"
	"reflect"
	"testing"
)

// formatExtensions returns exts as the value of a Sec-WebSocket-Extensions
// field.
func formatExtensions(exts []Extension) string {
	return string(appendExtensions(nil, exts))
}

func TestParseExtensions(t *testing.T) {
	pmd := func(params ...Param) Extension { return Extension{Name: "permessage-deflate", Params: params} }
	flag := func(name string) Param { return Param{Name: name} }
	val := func(name, v string) Param { return Param{Name: name, Value: v, HasValue: true} }
	tests := []struct {
		name   string
		values []string
		want   []Extension
	}{
		{"none", nil, nil},
		{"empty value", []string{""}, nil},
		{"only empty elements", []string{" , ,"}, nil},
		{"bare name", []string{"permessage-deflate"}, []Extension{pmd()}},
		{"Chromium's offer", []string{"permessage-deflate; client_max_window_bits"},
			[]Extension{pmd(flag("client_max_window_bits"))}},
		{"several parameters, token values", []string{"permessage-deflate; server_max_window_bits=10; client_no_context_takeover"},
			[]Extension{pmd(val("server_max_window_bits", "10"), flag("client_no_context_takeover"))}},
		{"no whitespace", []string{"permessage-deflate;client_max_window_bits=15,x-y"},
			[]Extension{pmd(val("client_max_window_bits", "15")), {Name: "x-y"}}},
		{"whitespace everywhere", []string{" \tpermessage-deflate \t; \tclient_max_window_bits \t= \t15 \t, \tx-y\t "},
			[]Extension{pmd(val("client_max_window_bits", "15")), {Name: "x-y"}}},
		{"quoted value", []string{`permessage-deflate; server_max_window_bits="10"`},
			[]Extension{pmd(val("server_max_window_bits", "10"))}},
		{"quoted value with escapes", []string{`x; a="\1\0"`},
			[]Extension{{Name: "x", Params: []Param{val("a", "10")}}}},
		{"fallback offers in order", []string{"permessage-deflate; client_max_window_bits=10, permessage-deflate"},
			[]Extension{pmd(val("client_max_window_bits", "10")), pmd()}},
		{"several field lines", []string{"a", "b; c", "d"},
			[]Extension{{Name: "a"}, {Name: "b", Params: []Param{flag("c")}}, {Name: "d"}}},
		{"empty elements between", []string{",a,,b,"}, []Extension{{Name: "a"}, {Name: "b"}}},
		{"repeated parameter kept", []string{"x; a=1; a=2"},
			[]Extension{{Name: "x", Params: []Param{val("a", "1"), val("a", "2")}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseExtensions(tt.values)
			if err != nil {
				t.Fatalf("parseExtensions(%q): %v", tt.values, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("parseExtensions(%q) = %+v, want %+v", tt.values, got, tt.want)
			}
			// Round trip through the canonical form.
			again, err := parseExtensions([]string{formatExtensions(got)})
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("round trip via %q = %+v, %v", formatExtensions(got), again, err)
			}
		})
	}
}

func TestParseExtensionsMalformed(t *testing.T) {
	for _, v := range []string{
		";",
		"a;",
		"a; ",
		"a;;b",
		"a b",
		"a,b c",
		"a; b=",
		"a; b= ;c",
		"a; =1",
		"a; b==1",
		`a; b="`,
		`a; b="1`,
		`a; b="1\`,
		`a; b=""`,       // quoted value must be a token, and "" is not
		`a; b="1 2"`,    // not a token once unquoted
		`a; b="1,2"`,    // a comma inside quotes does not split, and is not a token
		`a; b="a\"b"`,   // a quote is not a token character
		"a; b=\"\x01\"", // control character
		`a; b=1"2"`,
		`"a"`,
		"a; b=1 2",
		"a\x00",
		"caf\xe9",
		"a=1",
		"a/b",
	} {
		exts, err := parseExtensions([]string{v})
		if err == nil {
			t.Errorf("parseExtensions(%q) = %+v, want an error", v, exts)
			continue
		}
		if !errors.Is(err, errExtensionSyntax) {
			t.Errorf("parseExtensions(%q) error %v does not wrap errExtensionSyntax", v, err)
		}
	}
	// An error in any field line fails the whole list.
	if _, err := parseExtensions([]string{"a", "b;"}); err == nil {
		t.Error(`parseExtensions("a", "b;") succeeded`)
	}
}

func TestFormatExtensions(t *testing.T) {
	tests := []struct {
		exts []Extension
		want string
	}{
		{nil, ""},
		{[]Extension{{Name: "permessage-deflate"}}, "permessage-deflate"},
		{[]Extension{{Name: "permessage-deflate", Params: []Param{
			{Name: "client_max_window_bits"},
			{Name: "server_max_window_bits", Value: "10", HasValue: true},
		}}, {Name: "x"}}, "permessage-deflate; client_max_window_bits; server_max_window_bits=10, x"},
		// Values that are not tokens are quoted, with escapes.
		{[]Extension{{Name: "x", Params: []Param{{Name: "a", Value: `1 "2" \3`, HasValue: true}}}}, `x; a="1 \"2\" \\3"`},
		{[]Extension{{Name: "x", Params: []Param{{Name: "a", HasValue: true}}}}, `x; a=""`},
	}
	for _, tt := range tests {
		if got := formatExtensions(tt.exts); got != tt.want {
			t.Errorf("formatExtensions(%+v) = %q, want %q", tt.exts, got, tt.want)
		}
	}
	e := Extension{Name: "permessage-deflate", Params: []Param{{Name: "client_max_window_bits"}}}
	if got, want := e.String(), "permessage-deflate; client_max_window_bits"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestExtensionErrorMessage(t *testing.T) {
	_, err := parseExtensions([]string{"a; b c"})
	want := `websocket: handshake: malformed extension list: expected ',' or ';' at offset 5 in "a; b c"`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}
