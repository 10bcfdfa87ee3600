package websocket_test

import (
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// docsWithCode are the documents whose ```go blocks must compile: a user
// copies them first, so they are built against this very tree.
var docsWithCode = []string{"README.md", "MIGRATING.md"}

// TestDocGoBlocksCompile extracts every ```go block of docsWithCode and
// type-checks and vets all of them, each as a package of its own in a
// temporary module that replaces github.com/rfc6455/websocket with this
// checkout (no network: the library needs no other module). A failure
// names the document and line, in the document, of the fault.
func TestDocGoBlocksCompile(t *testing.T) {
	var blocks []goBlock
	for _, doc := range docsWithCode {
		text, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		bs, err := extractGoBlocks(doc, string(text))
		if err != nil {
			t.Fatal(err)
		}
		if len(bs) == 0 {
			t.Errorf("%s: no ```go block found", doc)
		}
		blocks = append(blocks, bs...)
	}
	for _, e := range checkGoBlocks(t, blocks) {
		t.Error(e)
	}
}

// TestDocGoBlockCheckerFails proves that TestDocGoBlocksCompile can fail,
// and points at the right line: a good block passes, and each fault the
// README has had (an undefined ctx, missing imports, no main, unformatted
// code) is reported at its line.
func TestDocGoBlockCheckerFails(t *testing.T) {
	doc := strings.Join([]string{
		"# broken", // 1
		"",
		"```go", // 3: good
		"package main",
		"",
		`import "github.com/rfc6455/websocket"`,
		"",
		"func main() { _ = websocket.Dial }",
		"```",
		"",
		"```go", // 11: ctx is undefined on line 16
		"package main",
		"",
		`import "github.com/rfc6455/websocket"`,
		"",
		"func main() { websocket.Dial(ctx, \"ws://x\", nil) }",
		"```",
		"",
		"```go", // 19: no imports; fmt undefined on line 22
		"package main",
		"",
		"func main() { fmt.Println() }",
		"```",
		"",
		"```go", // 25: package main without main
		"package main",
		"",
		"func helper() {}",
		"```",
		"",
		"```go", // 31: not gofmt'd
		"package main",
		"func main() {  }",
		"```",
		"",
		"```text", // 36: not Go, not checked
		"anything at all",
		"```",
	}, "\n") + "\n"
	blocks, err := extractGoBlocks("BROKEN.md", doc)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := blockLines(blocks), []int{3, 11, 19, 25, 31}; !slices.Equal(got, want) {
		t.Fatalf("go blocks found at lines %v, want %v", got, want)
	}
	errs := checkGoBlocks(t, blocks)
	got := strings.Join(errs, "\n")
	for _, want := range []string{
		"BROKEN.md:16:", // undefined: ctx
		"BROKEN.md:22:", // undefined: fmt
		"BROKEN.md:25: package main has no func main",
		"BROKEN.md:31: not gofmt'd",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the checker's report lacks %q; it said:\n%s", want, got)
		}
	}
	if strings.Contains(got, "block at BROKEN.md:3 ") || strings.Contains(got, "BROKEN.md:8") {
		t.Errorf("the checker reported the good block; it said:\n%s", got)
	}
	if len(errs) != 4 {
		t.Errorf("the checker reported %d faulty blocks, want 4:\n%s", len(errs), got)
	}
}

// TestExtractGoBlocksRefuses checks the rules extractGoBlocks enforces on
// the fences themselves.
func TestExtractGoBlocksRefuses(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"unlabelled", "text\n```\nfunc main() {}\n```\n", "X.md:2: a code block without a language"},
		{"unclosed", "```go\npackage main\n", "X.md:1: the ```go block is not closed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := extractGoBlocks("X.md", tc.doc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("extractGoBlocks: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestREADMEInstall keeps the install section true to go.mod: the Go
// version it names is the go line of go.mod, and a LICENSE file exists.
func TestREADMEInstall(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if want := "Go " + goVersion(t) + " or later"; !bytes.Contains(readme, []byte(want)) {
		t.Errorf("README.md does not say %q, as go.mod's go line requires", want)
	}
	if _, err := os.Stat("LICENSE"); err != nil {
		t.Errorf("README.md names a license: %v", err)
	}
}

// A goBlock is the body of one ```go fence.
type goBlock struct {
	doc  string // the document, as named in reports
	line int    // the line of the opening fence, from 1
	src  string
}

// extractGoBlocks returns the ```go blocks of text, a Markdown document
// named doc. Every fence must name its language, so that a Go block cannot
// escape the check by having none; blocks in other languages are skipped.
func extractGoBlocks(doc, text string) ([]goBlock, error) {
	var blocks []goBlock
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		indent, lang, ok := fence(lines[i])
		if !ok {
			continue
		}
		if lang == "" {
			return nil, fmt.Errorf("%s:%d: a code block without a language: say ```go, ```sh or ```text", doc, i+1)
		}
		start := i
		var body strings.Builder
		for i++; ; i++ {
			if i == len(lines) {
				return nil, fmt.Errorf("%s:%d: the ```%s block is not closed", doc, start+1, lang)
			}
			if _, l, ok := fence(lines[i]); ok && l == "" {
				break
			}
			body.WriteString(strings.TrimPrefix(lines[i], indent))
			body.WriteByte('\n')
		}
		if lang == "go" {
			blocks = append(blocks, goBlock{doc: doc, line: start + 1, src: body.String()})
		}
	}
	return blocks, nil
}

// fence reports whether line is a code fence, with its indentation and the
// language it names ("" on a closing fence).
func fence(line string) (indent, lang string, ok bool) {
	rest := strings.TrimLeft(line, " ")
	if !strings.HasPrefix(rest, "```") {
		return "", "", false
	}
	return line[:len(line)-len(rest)], strings.TrimSpace(rest[3:]), true
}

func blockLines(blocks []goBlock) []int {
	var lines []int
	for _, b := range blocks {
		lines = append(lines, b.line)
	}
	return lines
}

// checkGoBlocks returns one report per faulty block. It checks what go vet
// does not (gofmt, a main in package main) itself, then runs one go vet over
// a temporary module holding every block as a package of its own.
func checkGoBlocks(t *testing.T, blocks []goBlock) []string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the documents' code: %v", err)
	}
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gomod := fmt.Sprintf("module docblocks.test\n\ngo %s\n\n"+
		"require github.com/rfc6455/websocket v0.0.0-00010101000000-000000000000\n\n"+
		"replace github.com/rfc6455/websocket => %s\n", goVersion(t), root)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}

	reports := map[int][]string{} // by block index
	byDir := map[string]int{}     // block directory → block index
	for i, b := range blocks {
		if msg := staticFault(b); msg != "" {
			reports[i] = append(reports[i], msg)
		}
		rel := fmt.Sprintf("%s/l%d", slug(b.doc), b.line)
		byDir[rel] = i
		if err := os.MkdirAll(filepath.Join(dir, rel), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, rel, "block.go"), []byte(b.src), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCmd, "vet", "./...")
	cmd.Dir = dir
	// GOPROXY=off: nothing may be fetched; GOTOOLCHAIN=local: this go
	// command, not one go.mod would download.
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOPROXY=off", "GOTOOLCHAIN=local")
	out, vetErr := cmd.CombinedOutput()
	var unplaced []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		m := vetPos.FindStringSubmatch(line)
		if m == nil {
			if line != "" && !strings.HasPrefix(line, "#") {
				unplaced = append(unplaced, line)
			}
			continue
		}
		i := byDir[m[1]]
		n, _ := strconv.Atoi(m[2])
		msg := strings.Replace(line, m[0], fmt.Sprintf("%s:%d", blocks[i].doc, blocks[i].line+n), 1)
		reports[i] = append(reports[i], strings.TrimPrefix(msg, "vet: "))
	}
	if vetErr != nil && len(reports) == 0 {
		unplaced = append(unplaced, vetErr.Error())
	}

	var errs []string
	for i, b := range blocks {
		if r := reports[i]; len(r) > 0 {
			errs = append(errs, fmt.Sprintf("the go block at %s:%d does not build:\n\t%s", b.doc, b.line, strings.Join(r, "\n\t")))
		}
	}
	if len(unplaced) > 0 {
		errs = append(errs, "go vet ./... in the blocks' module:\n\t"+strings.Join(unplaced, "\n\t"))
	}
	return errs
}

// vetPos matches a position in a block's file in go vet's output: the
// block's directory and the line in it.
var vetPos = regexp.MustCompile(`(?:\./)?([a-z0-9]+/l[0-9]+)/block\.go:([0-9]+)`)

// slug names a document's directory: "README.md" → "readme".
func slug(doc string) string {
	return strings.ToLower(strings.TrimSuffix(filepath.Base(doc), filepath.Ext(doc)))
}

// staticFault reports what go vet lets through: code a user would have to
// gofmt, and a package main that does not run. Parse errors are left to
// go vet, which places them as well.
func staticFault(b goBlock) string {
	f, err := parser.ParseFile(token.NewFileSet(), "block.go", b.src, 0)
	if err != nil {
		return ""
	}
	if formatted, err := format.Source([]byte(b.src)); err == nil && string(formatted) != b.src {
		return fmt.Sprintf("%s:%d: not gofmt'd", b.doc, b.line)
	}
	if f.Name.Name == "main" && !slices.ContainsFunc(f.Decls, isMain) {
		return fmt.Sprintf("%s:%d: package main has no func main", b.doc, b.line)
	}
	return ""
}

func isMain(d ast.Decl) bool {
	fn, ok := d.(*ast.FuncDecl)
	return ok && fn.Recv == nil && fn.Name.Name == "main"
}

// goVersion returns the go line of the module's go.mod.
func goVersion(t *testing.T) string {
	t.Helper()
	mod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go ([0-9.]+)\s*$`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	return string(m[1])
}
