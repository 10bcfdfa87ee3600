package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// indexEntry is one case in index.json, in the suite's format.
type indexEntry struct {
	Behavior        Behavior `json:"behavior"`
	BehaviorClose   Behavior `json:"behaviorClose"`
	Duration        int64    `json:"duration"`
	RemoteCloseCode *int     `json:"remoteCloseCode"`
	ReportFile      string   `json:"reportfile"`
}

// ReportFile returns the per-case report file name the suite uses:
// the agent lower-cased with everything but letters and digits turned into
// underscores, "_case_", and the case number with underscores.
func ReportFile(agent, id string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(agent)) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte(' ')
		}
	}
	clean := strings.ReplaceAll(strings.TrimSpace(b.String()), " ", "_")
	return clean + "_case_" + strings.ReplaceAll(id, ".", "_") + ".json"
}

// WriteReports writes, into dir, one JSON file per case (with its wire
// log), index.json (merged with an index.json already there, so agents
// tested in earlier runs are kept), index.md, and index.html: a table per
// agent of index.json, a row per case with its verdicts and a link to the
// case's JSON file, as the suite's index.html links its case reports.
func WriteReports(dir string, results map[string][]*Result, strict bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	index := map[string]map[string]indexEntry{}
	if b, err := os.ReadFile(filepath.Join(dir, "index.json")); err == nil {
		// A damaged old index is replaced rather than fatal.
		_ = json.Unmarshal(b, &index)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for agent, rs := range results {
		index[agent] = map[string]indexEntry{}
		for _, r := range rs {
			name := ReportFile(agent, r.ID)
			b, err := json.MarshalIndent(r, "", "  ")
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, name), append(b, '\n'), 0o644); err != nil {
				return err
			}
			index[agent][r.ID] = indexEntry{r.Behavior, r.BehaviorClose, r.DurationMS, r.RemoteCloseCode, name}
		}
	}
	b, err := json.MarshalIndent(index, "", "   ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "index.md"))
	if err != nil {
		return err
	}
	writeMarkdown(f, results, strict)
	if err := f.Close(); err != nil {
		return err
	}
	f, err = os.Create(filepath.Join(dir, "index.html"))
	if err != nil {
		return err
	}
	if err := writeHTML(f, index, results, strict); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeMarkdown(w io.Writer, results map[string][]*Result, strict bool) {
	fmt.Fprintf(w, "# RFC 6455 conformance report\n\n")
	for _, agent := range slices.Sorted(maps.Keys(results)) {
		rs := results[agent]
		fmt.Fprintf(w, "## %s\n\n%s\n\n", agent, summaryLine(rs, strict))
		fmt.Fprintf(w, "| group | summary |\n|---|---|\n")
		for _, g := range groupResults(rs) {
			fmt.Fprintf(w, "| %s | %s |\n", g.name, summaryLine(g.rs, strict))
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "| case | description | behavior | close | duration (ms) | remote close code |\n|---|---|---|---|---|---|\n")
		for _, r := range rs {
			code := ""
			if r.RemoteCloseCode != nil {
				code = fmt.Sprint(*r.RemoteCloseCode)
			}
			desc := strings.NewReplacer("|", "\\|", "\n", " ").Replace(r.Description)
			if len(desc) > 120 {
				desc = desc[:117] + "..."
			}
			fmt.Fprintf(w, "| [%s](%s) | %s | %s | %s | %d | %s |\n", r.ID, ReportFile(agent, r.ID), desc, r.Behavior, r.BehaviorClose, r.DurationMS, code)
		}
		fmt.Fprintln(w)
	}
}

// verdictOrder fixes the order counts are printed in.
var verdictOrder = []Behavior{OK, NonStrict, Informational, Unimplemented, Failed, WrongCode, Unclean, FailedByClient}

// caseVerdict is the one verdict a case counts under in summaries: its
// behavior, or its close verdict when the behavior is fine but the close
// is not.
func caseVerdict(behavior, closing Behavior) Behavior {
	if !behavior.IsFailure(true) && closing.IsFailure(true) {
		return closing
	}
	return behavior
}

// verdictTally counts cases by verdict.
type verdictTally struct {
	counts  map[Behavior]int
	total   int
	failing int
}

func (t *verdictTally) add(v Behavior, failing bool) {
	if t.counts == nil {
		t.counts = map[Behavior]int{}
	}
	t.counts[v]++
	t.total++
	if failing {
		t.failing++
	}
}

func tally(rs []*Result, strict bool) verdictTally {
	var t verdictTally
	for _, r := range rs {
		t.add(caseVerdict(r.Behavior, r.BehaviorClose), r.Failed(strict))
	}
	return t
}

// String renders the tally on one line: "5 cases: OK 4, FAILED 1; 1 failing".
func (t verdictTally) String() string {
	var parts []string
	for _, v := range verdictOrder {
		if t.counts[v] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", v, t.counts[v]))
		}
	}
	return fmt.Sprintf("%d cases: %s; %d failing", t.total, strings.Join(parts, ", "), t.failing)
}

// summaryLine counts the case verdicts of rs on one line.
func summaryLine(rs []*Result, strict bool) string { return tally(rs, strict).String() }

// resultGroup is the results of one case group, in order.
type resultGroup struct {
	name string
	rs   []*Result
}

// groupResults splits results by case group, in order of first appearance.
func groupResults(rs []*Result) []resultGroup {
	var out []resultGroup
	index := map[string]int{}
	for _, r := range rs {
		g, _, _ := strings.Cut(r.ID, ".")
		i, ok := index[g]
		if !ok {
			i = len(out)
			index[g] = i
			out = append(out, resultGroup{name: g})
		}
		out[i].rs = append(out[i].rs, r)
	}
	return out
}

// Summarize prints a table of verdict counts for agent's results, a row
// per case group and a total row, with a column for each verdict that
// occurs, and then lists the failing cases with what went wrong.
func Summarize(w io.Writer, agent string, rs []*Result, strict bool) {
	all := tally(rs, strict)
	fmt.Fprintf(w, "%s: %d cases, %d failing\n", agent, all.total, all.failing)
	var cols []Behavior
	for _, v := range verdictOrder {
		if all.counts[v] > 0 {
			cols = append(cols, v)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(cells ...string) { fmt.Fprintln(tw, "  "+strings.Join(cells, "\t")) }
	counts := func(name string, t verdictTally) {
		cells := []string{name, strconv.Itoa(t.total)}
		for _, v := range cols {
			n := "-"
			if t.counts[v] > 0 {
				n = strconv.Itoa(t.counts[v])
			}
			cells = append(cells, n)
		}
		row(cells...)
	}
	head := []string{"group", "cases"}
	for _, v := range cols {
		head = append(head, string(v))
	}
	row(head...)
	for _, g := range groupResults(rs) {
		counts(g.name, tally(g.rs, strict))
	}
	counts("total", all)
	tw.Flush()
	if all.failing == 0 {
		return
	}
	fmt.Fprintf(w, "failing cases of %s:\n", agent)
	for _, r := range rs {
		if r.Failed(strict) {
			fmt.Fprintf(w, "  %s\n", FailureDetail(r, strict))
		}
	}
}

// FailureDetail describes a failing case on one line: its number, both
// verdicts, and the reason of each verdict that fails.
func FailureDetail(r *Result, strict bool) string {
	var why []string
	if r.Behavior.IsFailure(strict) {
		why = append(why, r.Result)
	}
	if r.BehaviorClose.IsFailure(strict) {
		why = append(why, r.ResultClose)
	}
	return fmt.Sprintf("%s: behavior %s, close %s: %s", r.ID, r.Behavior, r.BehaviorClose, strings.Join(why, "; "))
}

// AnyFailed reports whether any result fails the run.
func AnyFailed(results map[string][]*Result, strict bool) bool {
	for _, rs := range results {
		for _, r := range rs {
			if r.Failed(strict) {
				return true
			}
		}
	}
	return false
}
