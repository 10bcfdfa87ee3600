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
	"strings"
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

// WriteReports writes, into dir, one JSON file per case, index.json (merged
// with an index.json already there, so agents tested in earlier runs are
// kept) and index.md.
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

// summaryLine counts the case verdicts: a case counts under its behavior,
// or under its close verdict when the behavior is fine but the close is not.
func summaryLine(rs []*Result, strict bool) string {
	counts := map[Behavior]int{}
	failed := 0
	for _, r := range rs {
		v := r.Behavior
		if !v.IsFailure(true) && r.BehaviorClose.IsFailure(true) {
			v = r.BehaviorClose
		}
		counts[v]++
		if r.Failed(strict) {
			failed++
		}
	}
	var parts []string
	for _, v := range verdictOrder {
		if counts[v] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", v, counts[v]))
		}
	}
	return fmt.Sprintf("%d cases: %s; %d failing", len(rs), strings.Join(parts, ", "), failed)
}

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

// Summarize prints one line per case group and a total line.
func Summarize(w io.Writer, agent string, rs []*Result, strict bool) {
	for _, g := range groupResults(rs) {
		fmt.Fprintf(w, "%s group %-3s %s\n", agent, g.name, summaryLine(g.rs, strict))
	}
	fmt.Fprintf(w, "%s total     %s\n", agent, summaryLine(rs, strict))
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
