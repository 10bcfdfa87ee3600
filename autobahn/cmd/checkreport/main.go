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
		fmt.Printf("%s: %s: %d cases: %v\n", path, agent, len(ids), counts)
	}
	return ok, nil
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
