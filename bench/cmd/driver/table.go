package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// render prints the Markdown tables: medians per scenario and contestant
// with the ratios ours/best peer and ours/tcp (and, when the event-loop mode
// ran, el/best peer and el/goroutine), the round-trip percentiles of the
// scenarios that have them, and every failed run.
func render(cfg *config, results map[string]map[string][]result) string {
	var b strings.Builder
	cols := cfg.contestants
	withEL := slices.Contains(cols, oursEL)
	ratioCols := []string{"ours/best peer", "ours/tcp"}
	if withEL {
		ratioCols = append(ratioCols, "el/best peer", "el/goroutine")
	}
	fmt.Fprintf(&b, "| scenario | unit | %s | %s |\n", strings.Join(cols, " | "), strings.Join(ratioCols, " | "))
	fmt.Fprintf(&b, "|---|---|%s\n", strings.Repeat("---:|", len(cols)+len(ratioCols)))
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
		lower := sc.lowerIsBetter()
		fmt.Fprintf(&b, " %s | %s |", ratioBest(lower, medians, ours), ratio(medians, ours, tcp))
		if withEL {
			fmt.Fprintf(&b, " %s | %s |", ratioBest(lower, medians, oursEL), ratio(medians, oursEL, ours))
		}
		b.WriteString("\n")
	}

	cpuTable(&b, cfg, results)
	for _, sc := range cfg.scenarios {
		if sc.rtt != "" {
			rttTable(&b, cols, sc, results[sc.name])
		}
	}

	fmt.Fprintf(&b, "\nCells are medians of %d round(s). ours is %s (the Server's goroutine-per-connection I/O mode); "+
		"ours/best peer divides it by the best peer library (named); above 1 is better for round trips, below 1 for "+
		"memory and CPU. ours/tcp compares with the plain TCP echo.", cfg.rounds, ours)
	if withEL {
		fmt.Fprintf(&b, " el is %s, the same server in the event-loop I/O mode: el/best peer divides it by the best "+
			"peer library, el/goroutine by %s.", oursEL, ours)
	}
	b.WriteString("\n")
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

// cpuTable prints the server's CPU time per round trip in the echo
// scenarios: for each run, the cores the server used divided by its round
// trips per second, and the median over the rounds. It is what a library
// spends per message whether or not the server is the bottleneck, and it
// moves less than the rates do with the machine's speed.
func cpuTable(b *strings.Builder, cfg *config, results map[string]map[string][]result) {
	cols := cfg.contestants
	withEL := slices.Contains(cols, oursEL)
	var rows []string
	for _, sc := range cfg.scenarios {
		if sc.mode != "echo" {
			continue
		}
		var row strings.Builder
		medians := map[string]float64{}
		fmt.Fprintf(&row, "| %s |", sc.name)
		for _, c := range cols {
			runs := results[sc.name][c]
			if slices.ContainsFunc(runs, func(r result) bool { return r.err != nil }) {
				row.WriteString(" FAIL |") // as in the table of rates
				continue
			}
			var vals []float64
			for _, r := range runs {
				if r.value > 0 && r.serverCPU > 0 {
					vals = append(vals, r.serverCPU/r.value*1e6)
				}
			}
			if len(vals) == 0 {
				row.WriteString(" - |")
				continue
			}
			medians[c] = median(vals)
			fmt.Fprintf(&row, " %s |", trim(medians[c]))
		}
		if len(medians) == 0 {
			continue
		}
		fmt.Fprintf(&row, " %s |", ratioBest(true, medians, ours))
		if withEL {
			fmt.Fprintf(&row, " %s |", ratioBest(true, medians, oursEL))
		}
		rows = append(rows, row.String())
	}
	if len(rows) == 0 {
		return
	}
	ratioCols := []string{"ours/best peer"}
	if withEL {
		ratioCols = append(ratioCols, "el/best peer")
	}
	fmt.Fprintf(b, "\nServer CPU per round trip (µs, lower is better), medians of the rounds:\n\n")
	fmt.Fprintf(b, "| scenario | %s | %s |\n", strings.Join(cols, " | "), strings.Join(ratioCols, " | "))
	fmt.Fprintf(b, "|---|%s\n", strings.Repeat("---:|", len(cols)+len(ratioCols)))
	b.WriteString(strings.Join(rows, "\n") + "\n")
}

// rttTable prints the round-trip rate and time percentiles of one scenario,
// medians of the rounds, and when both of ours ran, the event-loop mode
// divided by the goroutine mode.
func rttTable(b *strings.Builder, cols []string, sc scenario, results map[string][]result) {
	fmt.Fprintf(b, "\nRound-trip time of the %s scenario (%s), medians of the rounds:\n\n", sc.name, sc.rtt)
	fmt.Fprintf(b, "| contestant | round trips/s | p50 | p99 |\n|---|---:|---:|---:|\n")
	type row struct{ rate, p50, p99 float64 }
	rows := map[string]row{}
	for _, c := range cols {
		runs, ok := results[c]
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
			fmt.Fprintf(b, "| %s | FAIL | | |\n", c)
			continue
		}
		rows[c] = row{median(rate), median(p50), median(p99)}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", c, si(rows[c].rate), micros(rows[c].p50), micros(rows[c].p99))
	}
	el, ok1 := rows[oursEL]
	g, ok2 := rows[ours]
	if ok1 && ok2 && g.rate > 0 && g.p50 > 0 && g.p99 > 0 {
		// Above 1 is better for the rate, below 1 for the times.
		fmt.Fprintf(b, "| el/goroutine | %.2f | %.2f | %.2f |\n", el.rate/g.rate, el.p50/g.p50, el.p99/g.p99)
	}
}

// micros prints a duration in microseconds, switching to ms from 10 ms on
// (round trips through 10,000 busy connections take milliseconds).
func micros(v float64) string {
	if v >= 10e3 {
		return fmt.Sprintf("%.1f ms", v/1e3)
	}
	return fmt.Sprintf("%.1f µs", v)
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

// ratioBest divides who (one of ours) by the best peer library (neither of
// ours nor the TCP baseline): the one with the lowest value if lower is
// better, else the highest.
func ratioBest(lower bool, medians map[string]float64, who string) string {
	o, ok := medians[who]
	if !ok {
		return "-"
	}
	best, bestName := math.NaN(), ""
	for c, v := range medians {
		if isOurs(c) || c == tcp {
			continue
		}
		if bestName == "" || (lower && v < best) || (!lower && v > best) ||
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
