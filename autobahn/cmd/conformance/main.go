// Command conformance runs the RFC 6455 conformance cases of package
// conformance against a WebSocket server or client and writes
// Autobahn-style reports.
//
// Testing a server (the runner connects once per case):
//
//	conformance -url ws://127.0.0.1:9001 [-cases 1.*,2.*] [-exclude 9.*] [-agent NAME] [-out autobahn/reports/servers] [-strict]
//
// Testing a client (the runner listens; the client fetches /getCaseCount,
// plays /runCase?case=N&agent=NAME for each case, then /updateReports):
//
//	conformance -listen 127.0.0.1:9001 [-out autobahn/reports/clients] [-strict] [-cases ...]
//
// Groups 12 and 13 (permessage-deflate) send 1000 messages per case, as the
// suite does; -compression-messages N sends at most N instead, for quick
// runs. A testee without compression gets UNIMPLEMENTED there, which is
// not a failure.
//
// On a terminal, or with -progress, the runner shows one progress line
// (cases done of total, failures so far, time left), rewritten in place on
// a terminal and printed every 30 seconds into a log; otherwise it prints
// a line per case, as CI logs want. A failing case is printed with its
// details either way, and the run ends with a table of verdicts per case
// group and the failing cases. The reports directory gets index.json,
// index.md, index.html and a JSON report per case with its wire log.
//
// -estimate prints the expected run time in seconds of the selected cases
// (from figures measured on a 2-core machine, see estimate.go) and exits.
//
// The exit status is 1 when a case FAILED (or got WRONG CODE, UNCLEAN or
// FAILED BY CLIENT), and with -strict also on NON-STRICT; 2 on usage or
// setup errors.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/rfc6455/websocket/autobahn/conformance"
)

func main() {
	os.Exit(run())
}

func run() int {
	var (
		target   = flag.String("url", "", "test the WebSocket server at this ws:// URL")
		listen   = flag.String("listen", "", "test WebSocket clients: listen on this host:port")
		cases    = flag.String("cases", "", "comma-separated case patterns to run, e.g. 1.*,6.4.* (default all)")
		exclude  = flag.String("exclude", "", "comma-separated case patterns to skip")
		agent    = flag.String("agent", "", "agent name for the server under test (default \"server\")")
		out      = flag.String("out", "", "report directory (default autobahn/reports/servers or autobahn/reports/clients)")
		strict   = flag.Bool("strict", false, "treat NON-STRICT as a failure")
		parallel = flag.Int("parallel", 1, "cases run at once when testing a server")
		timeout  = flag.Duration("timeout", 30*time.Minute, "bound on the whole run")
		unit     = flag.Duration("time-unit", time.Second, "length of one scripted second (pauses, kill timers)")
		list     = flag.Bool("list", false, "list the selected cases and exit")
		zmsgs    = flag.Int("compression-messages", 0, "cap on the messages per case of groups 12 and 13 (default: the suite's 1000)")
		progress = flag.Bool("progress", isTerminal(os.Stdout), "one progress line instead of a line per case (default: when the output is a terminal)")
		estim    = flag.Bool("estimate", false, "print the expected run time of the selected cases in seconds and exit")
	)
	flag.Parse()
	all, err := conformance.Select(conformance.Cases(), split(*cases), split(*exclude))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if *list {
		for _, c := range all {
			fmt.Printf("%-8s %s\n", c.ID, c.Description)
		}
		return 0
	}
	if *estim {
		fmt.Println(int(estimate(all, *zmsgs).Seconds() + 0.5))
		return 0
	}
	if (*target == "") == (*listen == "") {
		fmt.Fprintln(os.Stderr, "conformance: give exactly one of -url or -listen")
		flag.Usage()
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	r := &conformance.Runner{Cases: all, Agent: *agent, TimeUnit: *unit, Parallel: *parallel, CompressionMessages: *zmsgs}
	m := newMeter(os.Stdout, all, *zmsgs, *strict, time.Now)
	m.line, m.rewrite, m.interval = *progress, *progress && isTerminal(os.Stdout), 30*time.Second
	r.Progress = m.result

	results := map[string][]*conformance.Result{}
	if *target != "" {
		if *out == "" {
			*out = "autobahn/reports/servers"
		}
		name := *agent
		if name == "" {
			name = "server"
		}
		rs, err := r.RunServerTests(ctx, *target)
		m.finish()
		results[name] = rs
		if err != nil {
			fmt.Fprintln(os.Stderr, "conformance:", err)
		}
		if werr := conformance.WriteReports(*out, results, *strict); werr != nil {
			fmt.Fprintln(os.Stderr, "conformance:", werr)
			return 2
		}
		if err != nil {
			return 2
		}
	} else {
		if *out == "" {
			*out = "autobahn/reports/clients"
		}
		ln, err := net.Listen("tcp", *listen)
		if err != nil {
			fmt.Fprintln(os.Stderr, "conformance:", err)
			return 2
		}
		fmt.Printf("conformance: waiting for clients on ws://%s (%d cases)\n", ln.Addr(), len(all))
		err = r.Serve(ctx, ln, func(rs map[string][]*conformance.Result) error {
			m.finish()
			results = rs
			return conformance.WriteReports(*out, rs, *strict)
		})
		if !errors.Is(err, conformance.ErrReportsUpdated) {
			fmt.Fprintln(os.Stderr, "conformance:", err)
			return 2
		}
	}
	for _, agent := range slices.Sorted(maps.Keys(results)) {
		conformance.Summarize(os.Stdout, agent, results[agent], *strict)
	}
	fmt.Printf("reports in %s (index.html)\n", *out)
	if conformance.AnyFailed(results, *strict) {
		return 1
	}
	return 0
}

func split(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
