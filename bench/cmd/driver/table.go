package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// render prints the Markdown tables: medians per scenario and contestant
// with the ratios ours/best peer and ours/tcp, the latency percentiles, and
// every failed run.
func render(cfg *config, results map[string]map[string][]result) string {
	var b strings.Builder
	cols := cfg.contestants
	fmt.Fprintf(&b, "| scenario | unit | %s | ours/best peer | ours/tcp |\n", strings.Join(cols, " | "))
	fmt.Fprintf(&b, "|---|---|%s---:|---:|\n", strings.Repeat("---:|", len(cols)))
	var failures []string
	for _, sc := range cfg.scenarios {
		medians := map[string]float64{}
		fmt.Fprintf(&b, "| %s (%s) | %s |", sc.name, sc.what, sc.unit())
		for _, c := range cols {
			runs, ok := results[sc.name][c]
			if !ok {
				b.WriteString(" - |")
				continue
			}
			var vals []float64
			failed := false
			for i, r := range runs {
				if r.err != nil {
					failed = true
					failures = append(failures, fmt.Sprintf("- %s, %s, round %d: %s", sc.name, c, i+1, oneLine(r.err.Error())))
					continue
				}
				vals = append(vals, r.value)
			}
			if failed || len(vals) == 0 {
				b.WriteString(" FAIL |")
				continue
			}
			medians[c] = median(vals)
			fmt.Fprintf(&b, " %s |", format(sc, medians[c]))
		}
		fmt.Fprintf(&b, " %s | %s |\n", ratioBest(sc, medians), ratio(medians, ours, tcp))
	}

	if i := slices.IndexFunc(cfg.scenarios, func(s scenario) bool { return s.name == "latency" }); i >= 0 {
		fmt.Fprintf(&b, "\nRound-trip time of the latency scenario (16 B, one connection, one message in flight), medians of the rounds:\n\n")
		fmt.Fprintf(&b, "| contestant | round trips/s | p50 | p99 |\n|---|---:|---:|---:|\n")
		for _, c := range cols {
			runs, ok := results["latency"][c]
			if !ok {
				continue
			}
			var rate, p50, p99 []float64
			for _, r := range runs {
				if r.err == nil {
					rate, p50, p99 = append(rate, r.value), append(p50, r.p50), append(p99, r.p99)
				}
			}
			if len(rate) < len(runs) || len(rate) == 0 {
				fmt.Fprintf(&b, "| %s | FAIL | | |\n", c)
				continue
			}
			fmt.Fprintf(&b, "| %s | %s | %.1f µs | %.1f µs |\n", c, si(median(rate)), median(p50), median(p99))
		}
	}

	fmt.Fprintf(&b, "\nCells are medians of %d round(s). ours/best peer divides ours by the best peer library "+
		"(named); above 1 is better for round trips, below 1 for memory and CPU. ours/tcp compares with the plain TCP echo.\n", cfg.rounds)
	if satur := saturated(cfg, results); satur != "" {
		b.WriteString(satur)
	}
	if busy := busy(cfg, results); busy != "" {
		b.WriteString(busy)
	}
	if len(failures) > 0 {
		b.WriteString("\nFailed runs:\n\n" + strings.Join(failures, "\n") + "\n")
	}
	return b.String()
}

// saturated notes echo runs where the load generator, not the server, used
// a whole core: their numbers are a floor for the server.
func saturated(cfg *config, results map[string]map[string][]result) string {
	var notes []string
	for _, sc := range cfg.scenarios {
		for _, c := range cfg.contestants {
			for _, r := range results[sc.name][c] {
				if r.err == nil && sc.mode == "echo" && r.loadCPU > 0.95 && r.serverCPU < 0.9 {
					notes = append(notes, sc.name+"/"+c)
					break
				}
			}
		}
	}
	if len(notes) == 0 {
		return ""
	}
	return "Load generator saturated (it used a whole core while the server did not) in: " + strings.Join(notes, ", ") + ".\n"
}

// busyShare is the share of the benchmark's CPUs other processes may take
// during a run before the run is flagged.
const busyShare = 0.05

// busy notes runs during which other processes (or the hypervisor) took a
// noticeable share of the benchmark's CPUs.
func busy(cfg *config, results map[string]map[string][]result) string {
	var notes []string
	for _, sc := range cfg.scenarios {
		for _, c := range cfg.contestants {
			for i, r := range results[sc.name][c] {
				if r.err == nil && r.foreign > busyShare {
					notes = append(notes, fmt.Sprintf("%s/%s round %d (%.0f%%)", sc.name, c, i+1, 100*r.foreign))
				}
			}
		}
	}
	if len(notes) == 0 {
		return ""
	}
	return fmt.Sprintf("WARNING: the machine was busy: in these runs other processes took more than %.0f%% of the "+
		"benchmark's CPUs, so their numbers are low and noisy; rerun on a quiet machine: %s.\n",
		100*busyShare, strings.Join(notes, ", "))
}

func oneLine(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), "\n", " / ")
	if len(s) > 400 {
		s = s[:400] + "..."
	}
	return s
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// ratioBest divides ours by the best peer library (not the TCP baseline).
func ratioBest(sc scenario, medians map[string]float64) string {
	o, ok := medians[ours]
	if !ok {
		return "-"
	}
	best, bestName := math.NaN(), ""
	for c, v := range medians {
		if c == ours || c == tcp {
			continue
		}
		if bestName == "" || (sc.lowerIsBetter() && v < best) || (!sc.lowerIsBetter() && v > best) ||
			(v == best && c < bestName) {
			best, bestName = v, c
		}
	}
	if bestName == "" || best == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f (%s)", o/best, bestName)
}

func ratio(medians map[string]float64, a, b string) string {
	x, ok1 := medians[a]
	y, ok2 := medians[b]
	if !ok1 || !ok2 || y == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", x/y)
}

// format prints a scenario's metric.
func format(sc scenario, v float64) string {
	switch sc.mode {
	case "idle":
		return fmt.Sprintf("%.1f", v)
	case "handshake":
		return fmt.Sprintf("%.1f", v)
	}
	return si(v)
}

// si prints a rate with three significant digits and a k or M suffix.
func si(v float64) string {
	switch {
	case v >= 1e6:
		return trim(v/1e6) + "M"
	case v >= 1e3:
		return trim(v/1e3) + "k"
	}
	return trim(v)
}

func trim(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
