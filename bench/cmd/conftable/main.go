// Command conftable summarizes conformance reports as Markdown: one row per
// library with its verdict counts, and, with -groups, the counts per case
// group and the cases that were not OK together with the reason the runner
// recorded.
//
//	conftable [-groups] reports/gorilla reports/gobwas ...
//
// Each argument is a report directory written by autobahn/cmd/conformance
// (an index.json plus one JSON file per case); the library's name is the
// directory's base name.
package main

import (
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// entry is one case in index.json.
type entry struct {
	Behavior        string `json:"behavior"`
	BehaviorClose   string `json:"behaviorClose"`
	RemoteCloseCode *int   `json:"remoteCloseCode"`
	ReportFile      string `json:"reportfile"`
}

// column is the table column a case is counted in.
type column int

const (
	colOK column = iota
	colNonStrict
	colInformational
	colFailed
	colOther // UNIMPLEMENTED, or a verdict this tool does not know
	numColumns
)

// verdict folds a case's protocol and closing verdicts into one column. Any
// failing verdict on either side (FAILED, WRONG CODE, UNCLEAN, FAILED BY
// CLIENT) fails the case, as in the runner's own strict check.
func verdict(e entry) column {
	failing := func(b string) bool {
		switch b {
		case "FAILED", "WRONG CODE", "UNCLEAN", "FAILED BY CLIENT":
			return true
		}
		return false
	}
	if failing(e.Behavior) || failing(e.BehaviorClose) {
		return colFailed
	}
	switch e.Behavior {
	case "OK":
		return colOK
	case "NON-STRICT":
		return colNonStrict
	case "INFORMATIONAL":
		return colInformational
	}
	return colOther
}

// caseID orders "6.4.10" after "6.4.9".
func compareIDs(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, _ := strconv.Atoi(pa[i])
		y, _ := strconv.Atoi(pb[i])
		if c := cmp.Compare(x, y); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(pa), len(pb))
}

type library struct {
	name   string
	dir    string
	cases  map[string]entry
	ids    []string
	counts [numColumns]int
}

func load(dir string) (*library, error) {
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return nil, err
	}
	var index map[string]map[string]entry
	if err := json.Unmarshal(b, &index); err != nil {
		return nil, fmt.Errorf("%s: %v", dir, err)
	}
	lib := &library{name: filepath.Base(filepath.Clean(dir)), dir: dir, cases: map[string]entry{}}
	// One agent per directory is the convention; merge them all otherwise.
	for _, cases := range index {
		for id, e := range cases {
			lib.cases[id] = e
		}
	}
	for id, e := range lib.cases {
		lib.ids = append(lib.ids, id)
		lib.counts[verdict(e)]++
	}
	slices.SortFunc(lib.ids, compareIDs)
	return lib, nil
}

// notOK lists the cases outside OK and INFORMATIONAL, as "6.4.1 NON-STRICT".
func (l *library) notOK() []string {
	var out []string
	for _, id := range l.ids {
		e := l.cases[id]
		switch verdict(e) {
		case colOK, colInformational:
			continue
		}
		v := e.Behavior
		if e.BehaviorClose != "OK" && e.BehaviorClose != "" && e.BehaviorClose != "INFORMATIONAL" {
			v += "/close " + e.BehaviorClose
		}
		out = append(out, id+" "+v)
	}
	return out
}

func main() {
	groups := flag.Bool("groups", false, "also print counts per case group and the details of every case that is not OK")
	flag.Parse()
	if flag.NArg() == 0 {
		log.Fatal("usage: conftable [-groups] REPORTDIR...")
	}
	var libs []*library
	for _, dir := range flag.Args() {
		l, err := load(dir)
		if err != nil {
			log.Fatal(err)
		}
		libs = append(libs, l)
	}
	fmt.Println("| library | OK | NON-STRICT | INFORMATIONAL | FAILED | notes |")
	fmt.Println("|---|---:|---:|---:|---:|---|")
	for _, l := range libs {
		notes := l.notOK()
		note := strings.Join(notes, ", ")
		if len(notes) > 12 {
			note = strings.Join(notes[:12], ", ") + fmt.Sprintf(", … (%d in all)", len(notes))
		}
		if l.counts[colOther] > 0 {
			note = fmt.Sprintf("%d UNIMPLEMENTED; ", l.counts[colOther]) + note
		}
		fmt.Printf("| %s | %d | %d | %d | %d | %s |\n", l.name,
			l.counts[colOK], l.counts[colNonStrict], l.counts[colInformational], l.counts[colFailed], note)
	}
	if !*groups {
		return
	}
	for _, l := range libs {
		fmt.Printf("\n### %s per group\n\n", l.name)
		fmt.Println("| group | OK | NON-STRICT | INFORMATIONAL | FAILED |")
		fmt.Println("|---|---:|---:|---:|---:|")
		per := map[string]*[numColumns]int{}
		var names []string
		for _, id := range l.ids {
			g := strings.SplitN(id, ".", 2)[0]
			if per[g] == nil {
				per[g] = new([numColumns]int)
				names = append(names, g)
			}
			per[g][verdict(l.cases[id])]++
		}
		for _, g := range names {
			c := per[g]
			fmt.Printf("| %s | %d | %d | %d | %d |\n", g, c[colOK], c[colNonStrict], c[colInformational], c[colFailed])
		}
		for _, id := range l.ids {
			e := l.cases[id]
			if v := verdict(e); v == colOK || v == colInformational {
				continue
			}
			fmt.Printf("\n- %s: %s / close %s, remote close code %s\n", id, e.Behavior, e.BehaviorClose, code(e.RemoteCloseCode))
			detail(filepath.Join(l.dir, e.ReportFile))
		}
	}
}

func code(c *int) string {
	if c == nil {
		return "none"
	}
	return strconv.Itoa(*c)
}

// caseReport is the part of a per-case report that explains a verdict.
type caseReport struct {
	Description       string   `json:"description"`
	Result            string   `json:"result"`
	ResultClose       string   `json:"resultClose"`
	WasNotCleanReason string   `json:"wasNotCleanReason"`
	Notes             []string `json:"notes"`
	Received          []string `json:"received"`
}

// detail prints the runner's own explanation from a per-case report.
func detail(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Printf("  - (no case report: %v)\n", err)
		return
	}
	var r caseReport
	if err := json.Unmarshal(b, &r); err != nil {
		fmt.Printf("  - (unreadable case report: %v)\n", err)
		return
	}
	line := func(k, v string) {
		if v != "" {
			fmt.Printf("  - %s: %s\n", k, shorten(strings.ReplaceAll(v, "\n", " ")))
		}
	}
	line("case", r.Description)
	line("result", r.Result)
	line("close", r.ResultClose)
	line("not clean", r.WasNotCleanReason)
	for _, n := range r.Notes {
		line("note", n)
	}
	if len(r.Received) > 0 {
		line("received", strings.Join(r.Received, " "))
	}
}

// shorten keeps report lines readable: big payloads are echoed in events.
func shorten(s string) string {
	const max = 300
	if len(s) <= max {
		return s
	}
	return s[:max] + fmt.Sprintf("… (%d bytes)", len(s))
}
