// Command checkreport reads an Autobahn-style index.json (from the real
// testsuite or the native runner) and fails unless every case's behaviour
// is OK or INFORMATIONAL and every close behaviour is OK or INFORMATIONAL.
//
//	checkreport autobahn/reports/servers/index.json
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
)

type result struct {
	Behavior      string `json:"behavior"`
	BehaviorClose string `json:"behaviorClose"`
	Duration      int64  `json:"duration"`
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: checkreport index.json ...")
		os.Exit(2)
	}
	failed := false
	for _, path := range os.Args[1:] {
		ok, err := check(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		failed = failed || !ok
	}
	if failed {
		os.Exit(1)
	}
}

func passes(verdict string) bool { return verdict == "OK" || verdict == "INFORMATIONAL" }

func check(path string) (bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	var index map[string]map[string]result
	if err := json.Unmarshal(data, &index); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	ok := true
	for agent, cases := range index {
		ids := make([]string, 0, len(cases))
		for id := range cases {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return caseLess(ids[i], ids[j]) })
		counts := map[string]int{}
		for _, id := range ids {
			r := cases[id]
			counts[r.Behavior]++
			if !passes(r.Behavior) || !passes(r.BehaviorClose) {
				ok = false
				fmt.Printf("%s: %s %s: behavior %s, close %s\n", path, agent, id, r.Behavior, r.BehaviorClose)
			}
		}
		fmt.Printf("%s: %s: %d cases: %s\n", path, agent, len(ids), formatCounts(counts))
	}
	return ok, nil
}

// verdictOrder is the order counts are listed in; verdicts it does not
// know (a newer suite's) follow in alphabetical order.
var verdictOrder = []string{"OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED", "WRONG CODE", "UNCLEAN", "FAILED BY CLIENT"}

// formatCounts renders verdict counts as "OK 514, INFORMATIONAL 3".
func formatCounts(counts map[string]int) string {
	var parts []string
	for _, v := range verdictOrder {
		if counts[v] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", v, counts[v]))
		}
	}
	var other []string
	for v, n := range counts {
		if n > 0 && !slices.Contains(verdictOrder, v) {
			other = append(other, fmt.Sprintf("%s %d", v, n))
		}
	}
	sort.Strings(other)
	return strings.Join(append(parts, other...), ", ")
}

// caseLess orders case ids like "6.4.10" numerically, part by part.
func caseLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, _ := strconv.Atoi(pa[i])
		y, _ := strconv.Atoi(pb[i])
		if x != y {
			return x < y
		}
	}
	return len(pa) < len(pb)
}
