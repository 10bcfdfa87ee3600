// Command checkdeps enforces the import rules that DESIGN.md (at the module
// root, section "Packages") sets out: data flows one way, socket or stream →
// internal/netpoll → conn → session → the root package → application, so
// nothing imports a package above it, and the module depends on the
// standard library alone. The table in rules is the authority; DESIGN.md
// repeats it, and the two change together.
//
// Run it from anywhere in the module:
//
//	go run ./internal/cmd/checkdeps
//
// It asks `go list -e -json ./...` for every package of the module and
// checks, per package:
//
//   - its own imports (non-test files) against the table in rules: which of
//     the module's packages it may import; internal/testutil is for tests
//     only, whoever the importer;
//   - its test imports (_test files, both in-package and external) against
//     the same table, plus the package itself and internal/testutil;
//   - that imports outside the module are standard library, except
//     github.com/google/go-cmp in test files.
//
// A package that no rule covers is reported too, so that a new package
// forces a decision about where it sits. It prints one line per violation
// and exits with status 1 if there is any, 2 if go list fails.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
)

// A rule says which of the module's packages the packages matching
// pattern may import. Paths are relative to the module root, "" being the
// root package itself; "x/..." matches x and everything below it, "..."
// matches every package.
type rule struct {
	pattern string
	allow   []string
}

// rules is the import table (DESIGN.md, "Packages", shows it with what each
// package owns). The first matching rule applies, so specific patterns come
// before the catch-alls.
var rules = []rule{
	// internal/defaults holds every layer's default values: a leaf below
	// the leaves, which they may import and which imports nothing.
	{"internal/defaults", nil},
	// internal/errs holds the sentinels that layers which cannot import
	// one another both raise (the poller, the worker pool and session): a leaf too.
	{"internal/errs", nil},
	{"frame", nil},
	{"handshake", []string{"internal/defaults"}},
	{"endpoint", []string{"internal/defaults"}},
	// The worker pool pins its workers with the affinity leaf, as the
	// poller pins its loops.
	{"pool", []string{"internal/affinity", "internal/defaults", "internal/errs"}},
	// The byte-buffer pools: plumbing shared by conn, session, the
	// poller and the root.
	{"internal/bufpool", nil},
	// A lingering close over a blocking net.Conn: shared by conn's
	// stream and the poller's, with a pooled buffer to drain into.
	{"internal/linger", []string{"internal/bufpool", "internal/testutil"}},
	{"internal/affinity", nil},
	{"internal/utf8", nil},
	{"internal/testutil", nil},
	// conn is the frame transport over the Transport seam: it never sees
	// the poller that implements one of its transports.
	{"conn", []string{"frame", "internal/bufpool", "internal/defaults", "internal/linger", "internal/testutil"}},
	// The poller is a layer of its own over its raw-syscall leaf: it knows
	// nothing of frames, connections or sessions.
	{"internal/netpoll/sys", nil},
	{"internal/netpoll", []string{"internal/netpoll/sys", "internal/bufpool", "internal/affinity", "internal/defaults", "internal/errs", "internal/linger", "internal/testutil"}},
	{"session", []string{"conn", "frame", "internal/..."}},
	{"", []string{"..."}}, // the root package: anything below it
	{"autobahn/...", []string{"", "frame", "handshake", "internal/...", "autobahn/..."}},
	{"fuzz/...", []string{"..."}},
	// Interop tests talk to real peers through the public API (whose
	// root re-exports the sentinel errors), and read what crossed the
	// wire with frame's parser.
	{"interop/...", []string{"", "frame", "internal/..."}},
	// Examples use the front door: the root package, and frame. What
	// they share (their shutdown; for their tests, running main in a
	// child process) uses the root package at most.
	{"examples/internal/...", []string{""}},
	{"examples/...", []string{"", "frame", "examples/internal/..."}},
	// The soak suite measures the server from outside, as a hostile
	// peer would: raw bytes of its own, never the library's codec or
	// front door (a bug there must not hide by being on both sides);
	// frame and the internal leaves at most, for constants and defaults.
	{"internal/cmd/soak", []string{"frame", "internal/defaults", "internal/errs"}},
	// Development tools are commands: nobody can import them.
	{"internal/cmd/...", []string{"..."}},
	// Other internal packages (deflate, ...) are leaves, or build on frame.
	{"internal/...", []string{"frame"}},
}

// testOnly packages may be imported by _test files only.
var testOnly = []string{"internal/testutil", "examples/internal/exampletest"}

// testDeps are the modules outside the standard library that _test files
// may import.
var testDeps = []string{"github.com/google/go-cmp"}

// Package is the part of `go list -json` output that checkdeps reads.
type Package struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
	Error        *struct{ Err string }
}

func main() {
	mod, pkgs, err := listPackages()
	if err != nil {
		fmt.Fprintf(os.Stderr, "checkdeps: %v\n", err)
		os.Exit(2)
	}
	for _, p := range pkgs {
		if p.Error != nil {
			// Broken packages are go build's and go vet's business; their
			// imports are checked as far as go list could read them.
			fmt.Fprintf(os.Stderr, "checkdeps: warning: %s: %s\n", p.ImportPath, p.Error.Err)
		}
	}
	violations := check(mod, pkgs)
	for _, v := range violations {
		fmt.Fprintf(os.Stderr, "checkdeps: %s\n", v)
	}
	if len(violations) > 0 {
		fmt.Fprintf(os.Stderr, "checkdeps: %d violation(s) of the import rules (see DESIGN.md and internal/cmd/checkdeps)\n", len(violations))
		os.Exit(1)
	}
	fmt.Printf("checkdeps: the %d packages of the module follow the import rules\n", len(pkgs))
}

// listPackages runs go list on the module containing the current
// directory and returns the module path and its packages.
func listPackages() (string, []Package, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Path}} {{.Dir}}").Output()
	if err != nil {
		return "", nil, fmt.Errorf("go list -m: %w", stderrOf(err))
	}
	mod, dir, ok := strings.Cut(strings.TrimSpace(string(out)), " ")
	if !ok || strings.Contains(dir, "\n") {
		return "", nil, fmt.Errorf("go list -m: unexpected output %q (a go.work with several modules?)", out)
	}
	cmd := exec.Command("go", "list", "-e", "-json", "./...")
	cmd.Dir = dir
	out, err = cmd.Output()
	if err != nil {
		return "", nil, fmt.Errorf("go list: %w", stderrOf(err))
	}
	pkgs, err := decodePackages(bytes.NewReader(out))
	return mod, pkgs, err
}

// stderrOf adds the command's stderr to an *exec.ExitError.
func stderrOf(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return fmt.Errorf("%w\n%s", err, bytes.TrimSpace(ee.Stderr))
	}
	return err
}

// decodePackages reads the stream of JSON objects go list -json prints.
func decodePackages(r io.Reader) ([]Package, error) {
	var pkgs []Package
	dec := json.NewDecoder(r)
	for {
		var p Package
		if err := dec.Decode(&p); err == io.EOF {
			return pkgs, nil
		} else if err != nil {
			return nil, fmt.Errorf("decoding go list output: %w", err)
		}
		pkgs = append(pkgs, p)
	}
}

// check returns the violations of the import rules by pkgs, the packages
// of module mod, sorted.
func check(mod string, pkgs []Package) []string {
	var out []string
	for _, p := range pkgs {
		self, ok := relPath(mod, p.ImportPath)
		if !ok {
			continue // not ours; go list ./... does not list these anyway
		}
		name := display(self)
		r, ok := ruleFor(self)
		if !ok {
			out = append(out, fmt.Sprintf("%s: no import rule covers this package; add it to the table in internal/cmd/checkdeps (and DESIGN.md)", name))
			continue
		}
		for _, imp := range p.Imports {
			if msg := checkImport(mod, self, r, imp, false); msg != "" {
				out = append(out, name+": "+msg)
			}
		}
		for _, imp := range unique(p.TestImports, p.XTestImports) {
			if msg := checkImport(mod, self, r, imp, true); msg != "" {
				out = append(out, name+" (tests): "+msg)
			}
		}
	}
	slices.Sort(out)
	return out
}

// checkImport returns why package self, governed by r, may not import imp,
// or "" if it may.
func checkImport(mod, self string, r rule, imp string, inTest bool) string {
	if isStd(imp) {
		return ""
	}
	rel, ours := relPath(mod, imp)
	if !ours {
		if inTest && slices.ContainsFunc(testDeps, func(m string) bool { return within(imp, m) }) {
			return ""
		}
		if inTest {
			return fmt.Sprintf("imports %s: tests may use the standard library and %s only", imp, strings.Join(testDeps, ", "))
		}
		return fmt.Sprintf("imports %s: the module may use the standard library only", imp)
	}
	if slices.Contains(testOnly, rel) {
		if inTest {
			return ""
		}
		return fmt.Sprintf("imports %s, which is for _test files only", display(rel))
	}
	if inTest && rel == self {
		return "" // an external test package importing its package
	}
	for _, a := range r.allow {
		if match(a, rel) {
			return ""
		}
	}
	allowed := "none of the module's packages"
	if len(r.allow) > 0 {
		names := make([]string, len(r.allow))
		for i, a := range r.allow {
			names[i] = display(a)
		}
		allowed = strings.Join(names, ", ")
	}
	return fmt.Sprintf("imports %s, against the data flow; it may import: %s", display(rel), allowed)
}

// ruleFor returns the first rule whose pattern matches rel.
func ruleFor(rel string) (rule, bool) {
	for _, r := range rules {
		if match(r.pattern, rel) {
			return r, true
		}
	}
	return rule{}, false
}

// match reports whether the module-relative path rel matches pattern.
func match(pattern, rel string) bool {
	if pattern == "..." {
		return true
	}
	if prefix, ok := strings.CutSuffix(pattern, "/..."); ok {
		return within(rel, prefix)
	}
	return pattern == rel
}

// within reports whether path is dir or below it.
func within(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, dir+"/")
}

// relPath returns path relative to the module root ("" for the root
// package) and whether path is in the module at all.
func relPath(mod, path string) (string, bool) {
	if path == mod {
		return "", true
	}
	rel, ok := strings.CutPrefix(path, mod+"/")
	return rel, ok
}

// display names a module-relative path in messages.
func display(rel string) string {
	switch rel {
	case "":
		return "the root package"
	case "...":
		return "any package"
	}
	return rel
}

// isStd reports whether path is in the standard library: as in the go
// command, a path whose first element has no dot. "C" (cgo) is not.
func isStd(path string) bool {
	if path == "C" {
		return false
	}
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

func unique(lists ...[]string) []string {
	var all []string
	for _, l := range lists {
		all = append(all, l...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}
