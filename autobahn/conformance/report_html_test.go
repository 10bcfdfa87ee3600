package conformance

import (
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// htmlTable is what a reader of index.html sees: per agent heading, the
// rows of its table as cell texts, and each row's link.
type htmlTable struct {
	agent string
	rows  [][]string
	links []string
}

// parseIndexHTML reads index.html with encoding/xml in its HTML mode
// (void elements closed, HTML entities known), so the test depends on
// the document's structure rather than on its exact bytes.
func parseIndexHTML(t *testing.T, path string) []htmlTable {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := xml.NewDecoder(f)
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	var (
		tables []htmlTable
		text   strings.Builder
		inCell bool
		inBody bool
		inH2   bool
	)
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("index.html does not parse: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			switch tok.Name.Local {
			case "h2":
				inH2 = true
				text.Reset()
			case "tbody":
				inBody = true
			case "tr":
				if inBody {
					tables[len(tables)-1].rows = append(tables[len(tables)-1].rows, nil)
				}
			case "td":
				inCell = true
				text.Reset()
			case "a":
				for _, a := range tok.Attr {
					if a.Name.Local == "href" {
						tb := &tables[len(tables)-1]
						tb.links = append(tb.links, a.Value)
					}
				}
			}
		case xml.CharData:
			if inCell || inH2 {
				text.Write(tok)
			}
		case xml.EndElement:
			switch tok.Name.Local {
			case "h2":
				inH2 = false
				tables = append(tables, htmlTable{agent: text.String()})
			case "tbody":
				inBody = false
			case "td":
				inCell = false
				if inBody {
					tb := &tables[len(tables)-1]
					tb.rows[len(tb.rows)-1] = append(tb.rows[len(tb.rows)-1], text.String())
				}
			}
		}
	}
	return tables
}

func TestHTMLReport(t *testing.T) {
	dir := t.TempDir()
	code := 1002
	first := map[string][]*Result{"Old <agent>": {
		{ID: "1.1.1", Behavior: OK, BehaviorClose: OK, DurationMS: 3},
	}}
	if err := WriteReports(dir, first, false); err != nil {
		t.Fatal(err)
	}
	rs := map[string][]*Result{"My Server/1.0": {
		{ID: "2.1", Behavior: OK, BehaviorClose: OK, DurationMS: 4, Description: `<script>alert("x")</script> & more`},
		{ID: "10.1.1", Behavior: OK, BehaviorClose: OK, DurationMS: 5, Description: "big"},
		{ID: "7.9.1", Behavior: Failed, BehaviorClose: WrongCode, RemoteCloseCode: &code, Description: "bad code"},
	}}
	if err := WriteReports(dir, rs, false); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "<script>") || strings.Contains(string(raw), "<agent>") {
		t.Errorf("index.html carries unescaped text:\n%s", raw)
	}
	got := parseIndexHTML(t, filepath.Join(dir, "index.html"))
	want := []htmlTable{
		{
			agent: "My Server/1.0",
			rows: [][]string{
				{"2.1", `<script>alert("x")</script> & more`, "OK", "OK", "4", "", "my_server_1_0_case_2_1.json"},
				{"7.9.1", "bad code", "FAILED", "WRONG CODE", "0", "1002", "my_server_1_0_case_7_9_1.json"},
				{"10.1.1", "big", "OK", "OK", "5", "", "my_server_1_0_case_10_1_1.json"},
			},
			links: []string{"my_server_1_0_case_2_1.json", "my_server_1_0_case_7_9_1.json", "my_server_1_0_case_10_1_1.json"},
		},
		{
			// An agent of an earlier run is kept, as in index.json, with
			// the catalog's description of its case.
			agent: "Old <agent>",
			rows:  [][]string{{"1.1.1", caseByID(t, "1.1.1").Description, "OK", "OK", "3", "", "old__agent_case_1_1_1.json"}},
			links: []string{"old__agent_case_1_1_1.json"},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("index.html tables:\ngot  %q\nwant %q", got, want)
	}
	// Every link leads to the case's report, which holds its wire log.
	for _, tb := range got {
		for _, link := range tb.links {
			b, err := os.ReadFile(filepath.Join(dir, link))
			if err != nil {
				t.Errorf("%s: link %s: %v", tb.agent, link, err)
			} else if !strings.Contains(string(b), `"wirelog"`) {
				t.Errorf("%s: %s has no wire log", tb.agent, link)
			}
		}
	}
	if !strings.Contains(string(raw), `<p>3 cases: OK 2, FAILED 1; 1 failing</p>`) || !strings.Contains(string(raw), `<tr class="failed" id="case-7.9.1">`) {
		t.Errorf("index.html lacks the summary or the failed row's class:\n%s", raw)
	}
}

func caseByID(t *testing.T, id string) *Case {
	t.Helper()
	for _, c := range Cases() {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no case %s", id)
	return nil
}

func TestSummarize(t *testing.T) {
	var b strings.Builder
	rs := []*Result{
		{ID: "1.1.1", Behavior: OK, BehaviorClose: OK},
		{ID: "1.1.2", Behavior: OK, BehaviorClose: OK},
		{ID: "6.4.1", Behavior: NonStrict, BehaviorClose: OK, Result: "Actual events match at least one expected."},
		{ID: "7.1.6", Behavior: Informational, BehaviorClose: Informational},
		{ID: "7.9.1", Behavior: OK, BehaviorClose: WrongCode, ResultClose: "The close code should have been 1002 or empty"},
	}
	Summarize(&b, "agent", rs, true)
	want := `agent: 5 cases, 2 failing
  group  cases  OK  NON-STRICT  INFORMATIONAL  WRONG CODE
  1      2      2   -           -              -
  6      1      -   1           -              -
  7      2      -   -           1              1
  total  5      2   1           1              1
failing cases of agent:
  6.4.1: behavior NON-STRICT, close OK: Actual events match at least one expected.
  7.9.1: behavior OK, close WRONG CODE: The close code should have been 1002 or empty
`
	if got := b.String(); got != want {
		t.Errorf("Summarize:\ngot\n%s\nwant\n%s", got, want)
	}
}
