package conformance

import (
	"html/template"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// htmlReport is what index.html shows: every agent of index.json, the
// ones tested in earlier runs included, one table each.
type htmlReport struct {
	Agents []htmlAgent
}

type htmlAgent struct {
	Name    string
	Summary string
	Rows    []htmlRow
}

// htmlRow is one case. Verdict is the case's overall verdict (see
// caseVerdict), which picks the row's colour.
type htmlRow struct {
	ID, Description         string
	Behavior, BehaviorClose Behavior
	Verdict                 Behavior
	DurationMS              int64
	RemoteCloseCode         string
	ReportFile              string // the case's JSON report, whose wirelog has every frame
}

// Class is the row's CSS class: the verdict in lower case, spaces as dashes.
func (r htmlRow) Class() string {
	return strings.ToLower(strings.ReplaceAll(string(r.Verdict), " ", "-"))
}

// htmlTemplate renders index.html. html/template escapes every value for
// its context: descriptions and agent names are text, report file names
// are URLs.
var htmlTemplate = template.Must(template.New("index.html").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>RFC 6455 conformance report</title>
<style>
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; margin-bottom: 2em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; vertical-align: top; }
td.num { text-align: right; }
tr.ok td.verdict, tr.informational td.verdict { background: #cfc; }
tr.non-strict td.verdict, tr.unimplemented td.verdict { background: #ffc; }
tr.failed td.verdict, tr.wrong-code td.verdict, tr.unclean td.verdict, tr.failed-by-client td.verdict { background: #fcc; }
</style>
</head>
<body>
<h1>RFC 6455 conformance report</h1>
{{range .Agents}}<h2>{{.Name}}</h2>
<p>{{.Summary}}</p>
<table>
<thead><tr><th>case</th><th>description</th><th>behavior</th><th>close</th><th>duration (ms)</th><th>remote close code</th><th>wire log</th></tr></thead>
<tbody>
{{range .Rows}}<tr class="{{.Class}}" id="case-{{.ID}}"><td>{{.ID}}</td><td>{{.Description}}</td><td class="verdict">{{.Behavior}}</td><td>{{.BehaviorClose}}</td><td class="num">{{.DurationMS}}</td><td>{{.RemoteCloseCode}}</td><td><a href="{{.ReportFile}}">{{.ReportFile}}</a></td></tr>
{{end}}</tbody>
</table>
{{end}}</body>
</html>
`))

// writeHTML writes index.html for index, the merged index.json. The
// descriptions come from results, or from the catalog for cases of agents
// tested in earlier runs.
func writeHTML(w io.Writer, index map[string]map[string]indexEntry, results map[string][]*Result, strict bool) error {
	desc := map[string]string{}
	for _, c := range Cases() {
		desc[c.ID] = c.Description
	}
	for _, rs := range results {
		for _, r := range rs {
			desc[r.ID] = r.Description
		}
	}
	var rep htmlReport
	for _, agent := range slices.Sorted(maps.Keys(index)) {
		entries := index[agent]
		ids := slices.SortedFunc(maps.Keys(entries), compareIDs)
		var tally verdictTally
		a := htmlAgent{Name: agent}
		for _, id := range ids {
			e := entries[id]
			v := caseVerdict(e.Behavior, e.BehaviorClose)
			tally.add(v, e.Behavior.IsFailure(strict) || e.BehaviorClose.IsFailure(strict))
			code := ""
			if e.RemoteCloseCode != nil {
				code = strconv.Itoa(*e.RemoteCloseCode)
			}
			a.Rows = append(a.Rows, htmlRow{
				ID: id, Description: desc[id],
				Behavior: e.Behavior, BehaviorClose: e.BehaviorClose, Verdict: v,
				DurationMS: e.Duration, RemoteCloseCode: code, ReportFile: e.ReportFile,
			})
		}
		a.Summary = tally.String()
		rep.Agents = append(rep.Agents, a)
	}
	return htmlTemplate.Execute(w, rep)
}
