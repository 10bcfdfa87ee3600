package conformance

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// The case counts per group are the suite's: 301 cases in groups 1-10, 90
// in group 12 (5 payload sources x 18 size/fragmentation rows) and 126 in
// group 13 (7 parameter sets x the same 18 rows), 517 in all.
func TestCatalog(t *testing.T) {
	all := Cases()
	counts := map[string]int{}
	seen := map[string]bool{}
	for i, c := range all {
		if seen[c.ID] {
			t.Errorf("duplicate case %s", c.ID)
		}
		seen[c.ID] = true
		counts[c.Group()]++
		if i > 0 && compareIDs(all[i-1].ID, c.ID) >= 0 {
			t.Errorf("cases out of order: %s before %s", all[i-1].ID, c.ID)
		}
		if c.Description == "" || c.Expectation == "" || c.run == nil {
			t.Errorf("case %s is incomplete", c.ID)
		}
	}
	want := map[string]int{"1": 16, "2": 11, "3": 7, "4": 10, "5": 20, "6": 145, "7": 37, "9": 54, "10": 1, "12": 90, "13": 126}
	for g, n := range want {
		if counts[g] != n {
			t.Errorf("group %s: %d cases, want %d", g, counts[g], n)
		}
	}
	if len(all) != 517 {
		t.Errorf("%d cases, want 517", len(all))
	}
	for _, id := range []string{"1.1.8", "1.2.8", "2.11", "4.2.5", "5.20", "6.4.4", "6.23.7", "7.7.13", "7.9.9", "7.13.2", "9.3.9", "9.8.6", "10.1.1",
		"12.1.1", "12.5.18", "13.1.1", "13.7.18"} {
		if !seen[id] {
			t.Errorf("missing case %s", id)
		}
	}
	if seen["6.23.8"] || seen["7.9.10"] || seen["12.5.19"] || seen["12.6.1"] || seen["13.7.19"] || seen["13.8.1"] || seen["11.1.1"] {
		t.Error("cases beyond the suite's numbering")
	}
	// Only the compression groups negotiate anything.
	for _, c := range all {
		compression := c.Group() == "12" || c.Group() == "13"
		if (c.deflate != nil) != compression || (c.Extensions != "") != compression {
			t.Errorf("case %s: offer %q, compression spec %v", c.ID, c.Extensions, c.deflate != nil)
		}
	}
}

// The generated UTF-8 vectors: per subgroup sizes as in the suite, and the
// valid/invalid flag agrees with Go's decoder everywhere.
func TestUTF8Vectors(t *testing.T) {
	sizes := []int{5, 11, 4, 2, 4, 3, 5, 8, 5, 10, 1, 3, 5, 5, 5, 7, 8, 34, 7}
	groups := utf8Groups()
	if len(groups) != len(sizes) {
		t.Fatalf("%d subgroups, want %d", len(groups), len(sizes))
	}
	for i, g := range groups {
		if len(g.vectors) != sizes[i] {
			t.Errorf("6.%d (%s): %d vectors, want %d", i+5, g.title, len(g.vectors), sizes[i])
		}
		for j, v := range g.vectors {
			if v.valid != utf8.ValidString(v.payload) {
				t.Errorf("6.%d.%d: valid=%v but utf8.ValidString=%v for %x", i+5, j+1, v.valid, !v.valid, v.payload)
			}
		}
	}
	// 6.6.x: prefixes of κόσμε are valid exactly at code point ends.
	var got []bool
	for _, v := range groups[1].vectors {
		got = append(got, v.valid)
	}
	want := []bool{false, true, false, false, true, false, true, false, true, false, true}
	if !slices.Equal(got, want) {
		t.Errorf("6.6.x validity %v, want %v", got, want)
	}
}

func TestSelect(t *testing.T) {
	all := Cases()
	ids := func(cs []*Case) []string {
		var s []string
		for _, c := range cs {
			s = append(s, c.ID)
		}
		return s
	}
	tests := []struct {
		include, exclude []string
		want             int
		first, last      string
	}{
		{nil, nil, 517, "1.1.1", "13.7.18"},
		{[]string{"12.*"}, nil, 90, "12.1.1", "12.5.18"},
		{[]string{"13.*"}, nil, 126, "13.1.1", "13.7.18"},
		{[]string{"1*.*.*"}, []string{"1.*"}, 217, "10.1.1", "13.7.18"},
		{[]string{"1.*"}, nil, 16, "1.1.1", "1.2.8"},
		{[]string{"6.4.*", "2.1"}, nil, 5, "2.1", "6.4.4"},
		{[]string{"7.*"}, []string{"7.9.*", "7.13.*"}, 26, "7.1.1", "7.7.13"},
		{nil, []string{"9.*", "12.*", "13.*"}, 247, "1.1.1", "10.1.1"},
	}
	for _, tt := range tests {
		got, err := Select(all, tt.include, tt.exclude)
		if err != nil {
			t.Fatal(err)
		}
		s := ids(got)
		if len(s) != tt.want || s[0] != tt.first || s[len(s)-1] != tt.last {
			t.Errorf("Select(%v, %v): %d cases %s..%s, want %d %s..%s", tt.include, tt.exclude, len(s), s[0], s[len(s)-1], tt.want, tt.first, tt.last)
		}
	}
	if _, err := Select(all, []string{"["}, nil); err == nil {
		t.Error("bad pattern accepted")
	}
}

func TestReports(t *testing.T) {
	dir := t.TempDir()
	code := 1002
	rs := map[string][]*Result{"My Server/1.0": {
		{ID: "1.1.1", Behavior: OK, BehaviorClose: OK, DurationMS: 3, Description: "a | b"},
		{ID: "6.4.1", Behavior: NonStrict, BehaviorClose: OK, DurationMS: 2000, RemoteCloseCode: &code},
		{ID: "7.9.1", Behavior: Failed, BehaviorClose: WrongCode, RemoteCloseCode: &code},
		{ID: "13.5.1", Behavior: OK, BehaviorClose: OK, Compression: &Negotiation{
			Offer:    "permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=9",
			Response: "permessage-deflate; server_no_context_takeover; server_max_window_bits=9",
			Agreed:   &DeflateParams{ServerNoContextTakeover: true, ServerMaxWindowBits: 9, ClientMaxWindowBits: 15}}},
		{ID: "13.5.2", Behavior: Unimplemented, BehaviorClose: OK, Compression: &Negotiation{Offer: "permessage-deflate"}},
	}}
	if err := WriteReports(dir, rs, false); err != nil {
		t.Fatal(err)
	}
	var index map[string]map[string]struct {
		Behavior        string `json:"behavior"`
		BehaviorClose   string `json:"behaviorClose"`
		Duration        int64  `json:"duration"`
		RemoteCloseCode *int   `json:"remoteCloseCode"`
		ReportFile      string `json:"reportfile"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &index); err != nil {
		t.Fatal(err)
	}
	e := index["My Server/1.0"]["6.4.1"]
	if e.Behavior != "NON-STRICT" || e.BehaviorClose != "OK" || e.Duration != 2000 || e.RemoteCloseCode == nil || *e.RemoteCloseCode != 1002 ||
		e.ReportFile != "my_server_1_0_case_6_4_1.json" {
		t.Errorf("index entry %+v", e)
	}
	if index["My Server/1.0"]["1.1.1"].RemoteCloseCode != nil || !strings.Contains(string(b), `"remoteCloseCode": null`) {
		t.Error("absent close code must be null")
	}
	if _, err := os.Stat(filepath.Join(dir, "my_server_1_0_case_7_9_1.json")); err != nil {
		t.Error(err)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "index.md"))
	if !strings.Contains(string(md), "5 cases: OK 2, NON-STRICT 1, UNIMPLEMENTED 1, FAILED 1; 1 failing") || !strings.Contains(string(md), `a \| b`) ||
		!strings.Contains(string(md), "| 13 | 2 cases: OK 1, UNIMPLEMENTED 1; 0 failing |") || !strings.Contains(string(md), "| 7 | 1 cases: FAILED 1; 1 failing |") {
		t.Errorf("index.md:\n%s", md)
	}
	// The case report carries the negotiation and the agreed parameters.
	var c13 struct {
		Compression *Negotiation `json:"compression"`
	}
	b, _ = os.ReadFile(filepath.Join(dir, "my_server_1_0_case_13_5_1.json"))
	if err := json.Unmarshal(b, &c13); err != nil || c13.Compression == nil || c13.Compression.Agreed == nil ||
		*c13.Compression.Agreed != (DeflateParams{ServerNoContextTakeover: true, ServerMaxWindowBits: 9, ClientMaxWindowBits: 15}) ||
		!strings.Contains(string(b), `"serverMaxWindowBits": 9`) {
		t.Errorf("13.5.1 report: %v\n%s", err, b)
	}
	b, _ = os.ReadFile(filepath.Join(dir, "my_server_1_0_case_13_5_2.json"))
	if !strings.Contains(string(b), `"agreed": null`) {
		t.Errorf("13.5.2 report lacks the declined negotiation:\n%s", b)
	}
	b, _ = os.ReadFile(filepath.Join(dir, "my_server_1_0_case_1_1_1.json"))
	if strings.Contains(string(b), "compression") {
		t.Errorf("1.1.1 report mentions compression:\n%s", b)
	}
	// A second run for another agent keeps the first.
	if err := WriteReports(dir, map[string][]*Result{"other": {{ID: "1.1.1", Behavior: OK, BehaviorClose: OK}}}, true); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(filepath.Join(dir, "index.json"))
	if !strings.Contains(string(b), "My Server/1.0") || !strings.Contains(string(b), `"other"`) {
		t.Error("index.json lost an agent")
	}
	if !AnyFailed(rs, false) || AnyFailed(map[string][]*Result{"x": rs["My Server/1.0"][:2]}, false) || !AnyFailed(map[string][]*Result{"x": rs["My Server/1.0"][:2]}, true) {
		t.Error("AnyFailed strictness")
	}
}
