package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	const p = "example.com/m/p"
	in := strings.Join([]string{
		`{"Action":"start","Package":"example.com/m/p"}`,
		`{"Action":"run","Package":"example.com/m/p","Test":"TestOK"}`,
		`{"Action":"output","Package":"example.com/m/p","Test":"TestOK","Output":"=== RUN   TestOK\n"}`,
		`{"Action":"output","Package":"example.com/m/p","Test":"TestOK","Output":"    a_test.go:3: chatter\n"}`,
		`{"Action":"output","Package":"example.com/m/p","Test":"TestOK","Output":"--- PASS: TestOK (0.00s)\n"}`,
		`{"Action":"pass","Package":"example.com/m/p","Test":"TestOK"}`,
		`{"Action":"output","Package":"example.com/m/p","Test":"TestBad","Output":"=== RUN   TestBad\n"}`,
		`{"Action":"output","Package":"example.com/m/p","Test":"TestBad","Output":"    a_test.go:9: got 1, want 2\n"}`,
		`{"Action":"output","Package":"example.com/m/p","Test":"TestBad","Output":"--- FAIL: TestBad (0.00s)\n"}`,
		`{"Action":"fail","Package":"example.com/m/p","Test":"TestBad"}`,
		`{"Action":"output","Package":"example.com/m/p","Test":"TestPeer/a","Output":"=== RUN   TestPeer/a\n"}`,
		`{"Action":"output","Package":"example.com/m/p","Test":"TestPeer/a","Output":"    peers_test.go:26: node: not installed\n"}`,
		`{"Action":"output","Package":"example.com/m/p","Test":"TestPeer/a","Output":"--- SKIP: TestPeer/a (0.00s)\n"}`,
		`{"Action":"skip","Package":"example.com/m/p","Test":"TestPeer/a"}`,
		`{"Action":"output","Package":"example.com/m/p","Test":"TestPeer/b","Output":"    peers_test.go:26: node: not installed\n"}`,
		`{"Action":"skip","Package":"example.com/m/p","Test":"TestPeer/b"}`,
		`{"Action":"output","Package":"example.com/m/p","Test":"TestLong","Output":"    a_test.go:5: first log\n"}`,
		`{"Action":"output","Package":"example.com/m/p","Test":"TestLong","Output":"    a_test.go:6: two\n"}`,
		`{"Action":"output","Package":"example.com/m/p","Test":"TestLong","Output":"        lines\n"}`,
		`{"Action":"skip","Package":"example.com/m/p","Test":"TestLong"}`,
		`{"Action":"skip","Package":"example.com/m/p","Test":"TestSilent"}`,
		`{"Action":"output","Package":"example.com/m/p","Test":"TestHang","Output":"panic: test timed out\n"}`,
		`{"Action":"output","Package":"example.com/m/p","Output":"-test.shuffle 1\n"}`,
		`{"Action":"output","Package":"example.com/m/p","Output":"FAIL\n"}`,
		`{"Action":"output","Package":"example.com/m/p","Output":"FAIL\texample.com/m/p\t0.01s\n"}`,
		`{"Action":"fail","Package":"example.com/m/p"}`,
		`{"Action":"output","Package":"example.com/m/q","Test":"TestQ","Output":"    q_test.go:1: needs root\n"}`,
		`{"Action":"skip","Package":"example.com/m/q","Test":"TestQ"}`,
		`{"Action":"output","Package":"example.com/m/q","Output":"PASS\n"}`,
		`{"Action":"output","Package":"example.com/m/q","Output":"ok  \texample.com/m/q\t0.02s\n"}`,
		`{"Action":"pass","Package":"example.com/m/q"}`,
		`{"Action":"output","Package":"example.com/m/r","Output":"?   \texample.com/m/r\t[no test files]\n"}`,
		`{"Action":"skip","Package":"example.com/m/r"}`,
		`go: downloading something`,
		``,
	}, "\n")
	var out strings.Builder
	failed, err := summarize(strings.NewReader(in), &out)
	if err != nil || !failed {
		t.Fatalf("summarize = %v, %v; want failed, nil", failed, err)
	}
	want := "    a_test.go:9: got 1, want 2\n" +
		"--- FAIL: TestBad (0.00s)\n" +
		"panic: test timed out\n" +
		"-test.shuffle 1\n" +
		"FAIL\n" +
		"FAIL\texample.com/m/p\t0.01s\n" +
		"ok  \texample.com/m/q\t0.02s\n" +
		"?   \texample.com/m/r\t[no test files]\n" +
		"go: downloading something\n" +
		"\n" +
		"skipped: 5 test(s) in 2 package(s)\n" +
		"  " + p + "\n" +
		"    1: (no reason given)\n" +
		"      TestSilent\n" +
		"    2: node: not installed\n" +
		"      TestPeer (2 subtests)\n" +
		"    1: two lines\n" +
		"      TestLong\n" +
		"  example.com/m/q\n" +
		"    1: needs root\n" +
		"      TestQ\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestSummarizePassing(t *testing.T) {
	in := `{"Action":"output","Package":"x","Test":"TestA","Output":"--- PASS: TestA (0.00s)\n"}
{"Action":"pass","Package":"x","Test":"TestA"}
{"Action":"output","Package":"x","Output":"PASS\n"}
{"Action":"output","Package":"x","Output":"ok  \tx\t0.01s\n"}
{"Action":"pass","Package":"x"}
`
	var out strings.Builder
	failed, err := summarize(strings.NewReader(in), &out)
	if err != nil || failed {
		t.Fatalf("summarize = %v, %v; want not failed", failed, err)
	}
	if got, want := out.String(), "ok  \tx\t0.01s\n"; got != want {
		t.Errorf("got %q, want %q (no skip summary when nothing skipped)", got, want)
	}
}

func TestSummarizeBuildFailure(t *testing.T) {
	in := `{"ImportPath":"x","Action":"build-output","Output":"x/a.go:1:1: syntax error\n"}
{"ImportPath":"x","Action":"build-fail"}
{"Action":"output","Package":"x","Output":"FAIL\tx [build failed]\n"}
{"Action":"fail","Package":"x"}
`
	var out strings.Builder
	failed, _ := summarize(strings.NewReader(in), &out)
	if !failed || out.String() != "x/a.go:1:1: syntax error\nFAIL\tx [build failed]\n" {
		t.Errorf("failed %v, output %q", failed, out.String())
	}
}

// TestRealGoTest runs go test -json on a small module with a passing, a
// failing and a skipping test, so that the summary keeps up with what
// the go command actually emits.
func TestRealGoTest(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/tiny\n\ngo 1.22\n",
		"a_test.go": `package tiny

import "testing"

func TestPasses(t *testing.T) { t.Log("fine") }
func TestFails(t *testing.T)  { t.Error("wrong answer") }
func TestPeers(t *testing.T) {
	for _, p := range []string{"one", "two"} {
		t.Run(p, func(t *testing.T) { t.Skip("peer " + p + ": not installed") })
	}
}
`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gobin, "test", "-json", "-count=1", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=", "GOTOOLCHAIN=local")
	raw, _ := cmd.Output() // the failing test makes go test exit 1
	var out strings.Builder
	failed, err := summarize(strings.NewReader(string(raw)), &out)
	if err != nil || !failed {
		t.Fatalf("summarize = %v, %v; want failed\n%s", failed, err, raw)
	}
	got := out.String()
	for _, want := range []string{
		"--- FAIL: TestFails",
		"a_test.go:6: wrong answer",
		"FAIL\texample.com/tiny",
		"skipped: 2 test(s) in 1 package(s)",
		"    1: peer one: not installed\n      TestPeers (1 subtest)\n",
		"    1: peer two: not installed\n      TestPeers (1 subtest)\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	for _, unwanted := range []string{"=== RUN", "fine", "--- PASS"} {
		if strings.Contains(got, unwanted) {
			t.Errorf("summary shows %q, which plain go test does not:\n%s", unwanted, got)
		}
	}
}
