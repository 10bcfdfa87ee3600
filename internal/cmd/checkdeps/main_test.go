package main

import (
	"slices"
	"strings"
	"testing"
)

const mod = "github.com/rfc6455/websocket"

// pkg builds a Package from short paths: "." is the root package, the
// module's folders (knownOurs) and internal/... are the module's, anything
// else (std, third party) is taken as it is.
func pkg(path string, imports, testImports []string) Package {
	abs := func(p string) string {
		switch {
		case p == ".":
			return mod
		case knownOurs(p) || strings.HasPrefix(p, "internal/"):
			return mod + "/" + p
		}
		return p
	}
	p := Package{ImportPath: abs(path)}
	for _, i := range imports {
		p.Imports = append(p.Imports, abs(i))
	}
	for _, i := range testImports {
		p.XTestImports = append(p.XTestImports, abs(i))
	}
	return p
}

// knownOurs lists the module's top-level folders, to tell "pool" (ours)
// from "io" (the standard library's) in the tables below.
func knownOurs(p string) bool {
	top, _, _ := strings.Cut(p, "/")
	return slices.Contains([]string{"frame", "handshake", "endpoint", "pool", "conn", "session", "autobahn", "fuzz", "examples", "newthing"}, top)
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		pkg  Package
		want []string // substrings of the violations, one per violation
	}{
		{"leaf with std imports", pkg("frame", []string{"encoding/binary", "errors"}, []string{"testing", "frame"}), nil},
		{"leaf importing a sibling", pkg("frame", []string{"pool"}, nil), []string{"frame: imports pool, against the data flow; it may import: none"}},
		{"the worker pool over the affinity leaf", pkg("pool", []string{"internal/affinity"}, []string{"internal/testutil"}), nil},
		{"the worker pool importing conn", pkg("pool", []string{"conn"}, nil), []string{"pool: imports conn"}},
		{"handshake on the defaults", pkg("handshake", []string{"internal/defaults", "net/http"}, nil), nil},
		{"handshake importing frame", pkg("handshake", []string{"frame"}, nil), []string{"handshake: imports frame, against the data flow; it may import: internal/defaults"}},
		{"the defaults importing a leaf", pkg("internal/defaults", []string{"frame"}, nil), []string{"internal/defaults: imports frame"}},
		{"the poller on the defaults", pkg("internal/netpoll", []string{"internal/defaults"}, nil), nil},
		{"the poller and session share a sentinel", pkg("internal/netpoll", []string{"internal/errs"}, nil), nil},
		{"the shared sentinels importing the poller", pkg("internal/errs", []string{"internal/netpoll"}, nil), []string{"internal/errs: imports internal/netpoll"}},
		{"conn with its allowed imports", pkg("conn", []string{"frame", "internal/bufpool", "internal/defaults", "net"}, []string{"internal/testutil", "conn"}), nil},
		{"conn importing session", pkg("conn", []string{"session"}, nil), []string{"conn: imports session, against the data flow; it may import: frame, internal/bufpool, internal/defaults, internal/linger, internal/testutil"}},
		{"conn importing the worker pool", pkg("conn", []string{"pool"}, nil), []string{"conn: imports pool"}},
		{"conn importing the poller", pkg("conn", []string{"internal/netpoll"}, nil), []string{"conn: imports internal/netpoll"}},
		{"the poller over its leaves", pkg("internal/netpoll", []string{"internal/netpoll/sys", "internal/bufpool", "internal/affinity"}, nil), nil},
		{"the poller importing the worker pool", pkg("internal/netpoll", []string{"pool"}, nil), []string{"internal/netpoll: imports pool"}},
		{"the poller importing conn", pkg("internal/netpoll", []string{"conn"}, nil), []string{"internal/netpoll: imports conn"}},
		{"the leaf importing the poller", pkg("internal/netpoll/sys", []string{"internal/netpoll"}, nil), []string{"internal/netpoll/sys: imports internal/netpoll"}},
		{"conn importing the root", pkg("conn", []string{"."}, nil), []string{"conn: imports the root package"}},
		{"conn tests importing handshake", pkg("conn", nil, []string{"handshake"}), []string{"conn (tests): imports handshake"}},
		{"session below the root", pkg("session", []string{"conn", "frame", "internal/bufpool", "internal/utf8"}, nil), nil},
		{"session importing the worker pool", pkg("session", []string{"pool"}, nil), []string{"session: imports pool"}},
		{"session importing handshake", pkg("session", []string{"handshake"}, nil), []string{"session: imports handshake"}},
		{"root imports everything", pkg(".", []string{"conn", "session", "handshake", "endpoint", "frame", "pool", "internal/utf8"}, nil), nil},
		{"testutil outside tests", pkg("session", []string{"internal/testutil"}, nil), []string{"session: imports internal/testutil, which is for _test files only"}},
		{"testutil outside tests, even for the root", pkg(".", []string{"internal/testutil"}, nil), []string{"the root package: imports internal/testutil"}},
		{"an example on the front door and its shutdown", pkg("examples/echo", []string{".", "examples/internal/graceful"}, []string{"examples/internal/exampletest", "internal/testutil"}), nil},
		{"an example reaching into session", pkg("examples/echo", []string{"session"}, nil), []string{"examples/echo: imports session"}},
		{"the examples' test helpers outside tests", pkg("examples/echo", []string{"examples/internal/exampletest"}, nil), []string{"examples/echo: imports examples/internal/exampletest, which is for _test files only"}},
		{"the examples' helpers on the root", pkg("examples/internal/exampletest", []string{"."}, nil), nil},
		{"the examples' helpers reaching into conn", pkg("examples/internal/graceful", []string{"conn"}, nil), []string{"examples/internal/graceful: imports conn"}},
		{"autobahn uses the public API", pkg("autobahn", []string{".", "frame", "handshake", "internal/utf8", "autobahn/report"}, nil), nil},
		{"autobahn subpackage", pkg("autobahn/report", []string{"frame"}, nil), nil},
		{"autobahn reaching into conn", pkg("autobahn/testee", []string{"conn"}, nil), []string{"autobahn/testee: imports conn"}},
		{"fuzz imports anything", pkg("fuzz", nil, []string{"frame", "handshake", "conn", "session", "."}), nil},
		{"other internal on frame", pkg("internal/deflate", []string{"frame"}, nil), nil},
		{"other internal on session", pkg("internal/deflate", []string{"session"}, nil), []string{"internal/deflate: imports session"}},
		{"tool", pkg("internal/cmd/gen", []string{"frame", "handshake"}, nil), nil},
		{"the soak on the defaults", pkg("internal/cmd/soak", []string{"internal/defaults", "frame"}, nil), nil},
		{"the soak using the front door", pkg("internal/cmd/soak", []string{"."}, nil), []string{"internal/cmd/soak: imports the root package"}},
		{"unknown top-level package", pkg("newthing", nil, nil), []string{"newthing: no import rule covers this package"}},
		{"unknown subpackage", pkg("conn/sub", nil, nil), []string{"conn/sub: no import rule covers this package"}},
		{"third party", pkg("frame", []string{"github.com/gorilla/websocket"}, nil), []string{"frame: imports github.com/gorilla/websocket: the module may use the standard library only"}},
		{"go-cmp in tests", pkg("frame", nil, []string{"github.com/google/go-cmp/cmp", "github.com/google/go-cmp/cmp/cmpopts"}), nil},
		{"go-cmp outside tests", pkg("frame", []string{"github.com/google/go-cmp/cmp"}, nil), []string{"frame: imports github.com/google/go-cmp/cmp: the module may use the standard library only"}},
		{"other third party in tests", pkg("frame", nil, []string{"golang.org/x/net/nettest"}), []string{"frame (tests): imports golang.org/x/net/nettest: tests may use"}},
		{"cgo", pkg("frame", []string{"C"}, nil), []string{"frame: imports C"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := check(mod, []Package{tt.pkg})
			if len(got) != len(tt.want) {
				t.Fatalf("violations:\n%s\nwant %d containing %q", strings.Join(got, "\n"), len(tt.want), tt.want)
			}
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("violation %q does not contain %q", got[i], tt.want[i])
				}
			}
		})
	}
}

// Imports and test imports are checked separately: the same import is
// fine in a test and a violation outside one, and the reverse.
func TestCheckSeparatesTestImports(t *testing.T) {
	p := Package{
		ImportPath:  mod + "/conn",
		Imports:     []string{mod + "/internal/testutil"},
		TestImports: []string{mod + "/internal/testutil", "github.com/google/go-cmp/cmp"},
	}
	got := check(mod, []Package{p})
	if len(got) != 1 || !strings.HasPrefix(got[0], "conn: imports internal/testutil") {
		t.Errorf("got %q, want one violation for the non-test import", got)
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, rel string
		want         bool
	}{
		{"conn", "conn", true},
		{"conn", "conn/x", false},
		{"conn", "connx", false},
		{"internal/...", "internal", true},
		{"internal/...", "internal/utf8", true},
		{"internal/...", "internal/cmd/checkdeps", true},
		{"internal/...", "internalx", false},
		{"...", "", true},
		{"...", "a/b", true},
		{"", "", true},
		{"", "frame", false},
	}
	for _, tt := range tests {
		if got := match(tt.pattern, tt.rel); got != tt.want {
			t.Errorf("match(%q, %q) = %v, want %v", tt.pattern, tt.rel, got, tt.want)
		}
	}
}

func TestIsStd(t *testing.T) {
	for path, want := range map[string]bool{
		"net":                          true,
		"net/http":                     true,
		"crypto/internal/fips140":      true,
		"C":                            false,
		"github.com/google/go-cmp":     false,
		"golang.org/x/net":             false,
		"github.com/rfc6455/websocket": false,
	} {
		if got := isStd(path); got != want {
			t.Errorf("isStd(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestDecodePackages(t *testing.T) {
	// go list -json prints concatenated objects, not an array.
	in := `{
	"ImportPath": "github.com/rfc6455/websocket/conn",
	"Imports": ["net", "github.com/rfc6455/websocket/frame"],
	"XTestImports": ["github.com/rfc6455/websocket/conn", "testing"]
}
{
	"ImportPath": "github.com/rfc6455/websocket/frame",
	"Error": {"Err": "syntax error"}
}
`
	pkgs, err := decodePackages(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 2 || pkgs[0].ImportPath != mod+"/conn" || len(pkgs[0].Imports) != 2 || len(pkgs[0].XTestImports) != 2 ||
		pkgs[1].Error == nil || pkgs[1].Error.Err != "syntax error" {
		t.Errorf("decoded %+v", pkgs)
	}
	if _, err := decodePackages(strings.NewReader(`{"ImportPath": `)); err == nil {
		t.Error("truncated input decoded without error")
	}
}

// Every rule's allowed imports name packages that have a rule themselves,
// so the table cannot drift into allowing what it does not describe.
func TestRulesAreConsistent(t *testing.T) {
	for _, r := range rules {
		for _, a := range r.allow {
			if a == "..." {
				continue
			}
			probe := strings.TrimSuffix(a, "/...")
			if _, ok := ruleFor(probe); !ok {
				t.Errorf("rule %q allows %q, which no rule covers", r.pattern, a)
			}
		}
	}
	// Leaves import none of the module's packages but the defaults, which
	// import nothing; the worker pool imports its affinity leaf.
	for _, leaf := range []string{"internal/defaults", "internal/errs", "frame", "handshake", "endpoint", "internal/bufpool", "internal/affinity", "internal/utf8", "internal/testutil"} {
		r, ok := ruleFor(leaf)
		if !ok || len(r.allow) > 1 || len(r.allow) == 1 && (r.allow[0] != "internal/defaults" || strings.HasPrefix(leaf, "internal/")) {
			t.Errorf("%s: rule %+v, want a leaf", leaf, r)
		}
	}
}
