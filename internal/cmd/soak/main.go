//go:build linux

// Command soak puts autobahn/cmd/echoserver under hostile load on loopback,
// in both I/O modes, and measures it from outside, through /proc/PID: its
// resident memory (VmRSS), threads and open file descriptors, before,
// during and after each scenario. It prints one table, a row per scenario
// and mode: held or NOT held, and the figures.
//
//	go run ./internal/cmd/soak [-short] [-known bomb/goroutine,...] [-only churn,...]
//
// make soak runs the full form, make soak-short the short one (CI, under
// 3 minutes on 2 cores: fewer connections, shorter floods, the same
// scenarios and targets). Each scenario gets a fresh server process per
// mode, so that one scenario's damage never shows in the next one's
// figures. The scenarios and what must hold (issue 17's targets, and what
// held when it was filed):
//
//	churn          connections reset (RST) at every stage: on connect, mid-request, after
//	               the request, mid-frame-header, mid-payload, after an echo. fds back to
//	               the baseline; RSS back within 64 MiB of it; no connection errors.
//	declared-30MiB connections declaring a 30 MiB message, then a byte a second.
//	               RSS growth under 64 MiB: nothing allocated from a declared length.
//	declared-1GiB  connections declaring 1 GiB at once: every one closed 1009, p99 under 1 s.
//	fragments      messages of 100,000 one-byte fragments: every echo whole and right;
//	               RSS growth under 256 MiB.
//	pipeline       connections pipelining 16 B messages without reading the echoes, and
//	ping           connections sending pings without reading the pongs, each with a
//	               well-behaved client doing round trips alongside, measured once the
//	               flood has had a quarter of its time to fill the sockets' buffers:
//	               its p99 under 50 ms
//	               (and, in the event-loop mode, within 2x of the goroutine mode's, or 5 ms
//	               of it); no round trip lost (past 5 s); RSS growth under 100 MiB. The
//	               row also shows a control: the same client against a second server
//	               that nobody floods, meanwhile, which is what the machine costs.
//	slowloris      handshakes sent a byte a second: every one dropped at the handshake
//	               timeout (10 s, no sooner, within 3 s after), while normal clients
//	               still connect (dial and handshake) with p99 under 250 ms.
//	garbage        protocol violations of ten kinds and a request that is not HTTP:
//	               every one closed with its code (1002, 1007, 400), p99 under 500 ms.
//	bomb           permessage-deflate messages of about 1 MiB that inflate to 1 GiB of
//	               zeros: every bomber closed 1009 or 1013 within 5 s, RSS growth under
//	               256 MiB, RSS back within 64 MiB of the baseline within 60 s (-short:
//	               15 s) of the bombers leaving.
//
// Connections, full form (short form): churn 40,000, 64 at a time
// (3,000, 32); declared 3,000 (300); fragments 500 (40); pipeline 500 and
// ping 200 for 20 s (50 and 20 for 6 s); slowloris 5,000 (300); garbage
// 2,000 (200); bombs 200 (20).
//
// After every scenario the server's file descriptors must come back to the
// baseline (within 20 s), a normal client must still get its echo, and the
// server must not have exited. A server whose RSS passes -rss-cap (default:
// half the available memory, at most 4 GiB) is killed there, and its
// scenario is not held.
//
// The load runs in this process: raw sockets, its own handshake and
// framing (so it can stop anywhere a hostile peer can), spread over
// source addresses 127.0.0.1 to 127.0.0.16, at most about 5,300 sockets at
// once, well under the 20,000 open files a process may have here. The soak
// raises its soft file limit to the hard one. Every socket has a deadline
// and every loop an end, and -timeout bounds the whole run.
//
// -known lists scenario/mode pairs whose targets the library does not meet
// yet: they are reported as "NOT held (known)" and do not fail
// the run; one that holds says so, to be dropped from the list. The exit
// status is 1 if a scenario not listed is not held, 2 if the soak itself
// could not run.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/rfc6455/websocket/internal/defaults"
)

// config sizes the load: the full form, or the short one for CI.
type config struct {
	short bool

	churnConns, churnConc int
	declaredConns         int
	dribble               time.Duration // how long declared-30MiB dribbles
	fragmentConns         int
	fragments             int
	pipelineConns         int
	pingConns             int
	flood                 time.Duration
	slowlorisConns        int
	garbageConns          int
	bombConns             int
	bombSize              int64
	rssReturn             time.Duration // how long the bomb waits for RSS to come back

	handshakeTimeout time.Duration // the server's: echoserver keeps the library's default
	settle           time.Duration // how long fds may take to come back
	rssCap           int64
	spread           int // source addresses
}

func fullConfig() config {
	return config{
		churnConns: 40000, churnConc: 64,
		declaredConns: 3000, dribble: 20 * time.Second,
		fragmentConns: 500, fragments: 100000,
		pipelineConns: 500, pingConns: 200, flood: 20 * time.Second,
		slowlorisConns: 5000,
		garbageConns:   2000,
		bombConns:      200, bombSize: 1 << 30, rssReturn: 60 * time.Second,

		handshakeTimeout: defaults.HandshakeTimeout,
		settle:           20 * time.Second,
		spread:           16,
	}
}

func shortConfig() config {
	c := fullConfig()
	c.short = true
	c.churnConns, c.churnConc = 3000, 32
	c.declaredConns, c.dribble = 300, 4*time.Second
	c.fragmentConns = 40
	c.pipelineConns, c.pingConns, c.flood = 50, 20, 6*time.Second
	c.slowlorisConns = 300
	c.garbageConns = 200
	c.bombConns, c.rssReturn = 20, 15*time.Second
	return c
}

// A scenario is one kind of hostile load and its targets.
type scenario struct {
	name    string
	deflate bool // start the server with -deflate
	control bool // start a second, idle server for env.control

	// Targets the runner checks from outside, 0 for none: RSS growth
	// (peak over baseline) and RSS after (over baseline) in bytes.
	maxGrowth, maxAfter int64

	run func(ctx context.Context, e *env, r *result)
}

var scenarios = []scenario{
	{name: "churn", maxAfter: 64 << 20, run: runChurn},
	{name: "declared-30MiB", maxGrowth: 64 << 20, run: runDeclared30},
	{name: "declared-1GiB", run: runDeclared1G},
	{name: "fragments", maxGrowth: 256 << 20, run: runFragments},
	{name: "pipeline", control: true, maxGrowth: 100 << 20, run: runPipeline},
	{name: "ping", control: true, maxGrowth: 100 << 20, run: runPing},
	{name: "slowloris", run: runSlowloris},
	{name: "garbage", run: runGarbage},
	{name: "bomb", deflate: true, maxGrowth: 256 << 20, run: runBomb},
}

var modes = []string{"goroutine", "eventloop"}

// env is what a scenario runs against.
type env struct {
	cfg  *config
	mode string
	srv  *server
	dial *dialer
	// control dials a second server in the same mode, started for the
	// scenarios that measure a well-behaved client (scenario.control)
	// and never loaded: the control measurement.
	control *dialer
	base    procStats
	// done holds the results so far, by "scenario/mode".
	done map[string]*result
}

func main() {
	short := flag.Bool("short", false, "the short form: fewer connections, shorter floods (CI)")
	known := flag.String("known", "", "comma-separated scenario/mode pairs known not to hold: reported, not failed")
	only := flag.String("only", "", "comma-separated scenarios to run (default all)")
	modeList := flag.String("modes", strings.Join(modes, ","), "comma-separated I/O modes")
	bin := flag.String("server", "", "a built echoserver (default: go build it)")
	rssCap := flag.Int64("rss-cap", 0, "kill a server past this RSS, bytes (0: half the available memory, at most 4 GiB)")
	timeout := flag.Duration("timeout", 0, "bound on the whole run (0: 30m, -short 6m)")
	flag.Parse()

	cfg := fullConfig()
	if *short {
		cfg = shortConfig()
	}
	knownSet, err := parsePairs(*known)
	if err == nil {
		err = checkSelection(*only, *modeList)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	cfg.rssCap = *rssCap
	if cfg.rssCap == 0 {
		cfg.rssCap = 4 << 30
		if avail, err := memAvailable(); err == nil {
			cfg.rssCap = min(cfg.rssCap, avail/2)
		}
	}
	if *timeout == 0 {
		*timeout = 30 * time.Minute
		if cfg.short {
			*timeout = 6 * time.Minute
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	results, err := run(ctx, &cfg, *bin, selected(*only), strings.Split(*modeList, ","), knownSet)
	if len(results) > 0 {
		printTable(os.Stdout, results)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	failed := 0
	for _, r := range results {
		if r.Fails() {
			failed++
		}
	}
	if failed > 0 {
		fmt.Fprintf(os.Stderr, "soak: %d scenario(s) not held\n", failed)
		os.Exit(1)
	}
}

// run builds the server if need be and runs every selected scenario in
// every mode, the modes in order (the event-loop rows compare with the
// goroutine ones).
func run(ctx context.Context, cfg *config, bin string, only []string, modeList []string, known map[string]bool) ([]*result, error) {
	limit, err := raiseFileLimit()
	if err != nil {
		return nil, err
	}
	if bin == "" {
		dir, err := os.MkdirTemp("", "soak")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		if bin, err = buildServer(ctx, dir); err != nil {
			return nil, err
		}
	}
	form := "full"
	if cfg.short {
		form = "short"
	}
	fmt.Fprintf(os.Stderr, "soak: %s form, modes %s, open-file limit %d, RSS cap %s MiB\n",
		form, strings.Join(modeList, ","), limit, mib(cfg.rssCap))
	done := make(map[string]*result)
	var results []*result
	for _, sc := range scenarios {
		if len(only) > 0 && !slices.Contains(only, sc.name) {
			continue
		}
		for _, mode := range modeList {
			if err := ctx.Err(); err != nil {
				return results, fmt.Errorf("stopped before %s/%s: %w", sc.name, mode, err)
			}
			r, err := runOne(ctx, cfg, bin, sc, mode, done)
			if err != nil {
				return results, fmt.Errorf("%s/%s: %w", sc.name, mode, err)
			}
			r.Known = known[sc.name+"/"+mode]
			done[sc.name+"/"+mode] = r
			results = append(results, r)
			fmt.Fprintf(os.Stderr, "soak: %s/%s: %s in %s\n", sc.name, mode, r.Verdict(), fmtDur(r.Took))
		}
	}
	return results, nil
}

// runOne starts a server, measures its baseline, runs the scenario while
// sampling, waits for the descriptors to come back, checks the server
// still serves, and stops it.
func runOne(ctx context.Context, cfg *config, bin string, sc scenario, mode string, done map[string]*result) (*result, error) {
	srv, err := startServer(ctx, bin, mode, sc.deflate)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	e := &env{cfg: cfg, mode: mode, srv: srv, dial: newDialer(srv.addr, cfg.spread), done: done}
	if sc.control {
		ctl, err := startServer(ctx, bin, mode, false)
		if err != nil {
			return nil, fmt.Errorf("control server: %w", err)
		}
		defer ctl.stop()
		e.control = newDialer(ctl.addr, 1)
	}
	// A first connection warms the server up (lazily made loops, pools)
	// before the baseline is taken.
	if err := e.healthy(ctx); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	time.Sleep(200 * time.Millisecond)
	if e.base, err = srv.sample(); err != nil {
		return nil, err
	}
	r := &result{Scenario: sc.name, Mode: mode, Base: e.base}
	smp := startSampler(srv.pid, 200*time.Millisecond, cfg.rssCap, func(rss int64) {
		srv.capped.Store(rss)
		srv.kill()
	})
	start := time.Now()
	sc.run(ctx, e, r)
	r.Took = time.Since(start)

	// Descriptors come back as the server notices the clients are gone.
	after, err := srv.sample()
	for wait := time.Now().Add(cfg.settle); err == nil && after.FDs > e.base.FDs && time.Now().Before(wait); {
		time.Sleep(100 * time.Millisecond)
		after, err = srv.sample()
	}
	r.Peak = smp.Stop()
	r.After = after

	if rss := srv.capped.Load(); rss != 0 {
		r.check(false, "killed at RSS %s MiB, past the %s MiB cap", mib(rss), mib(cfg.rssCap))
		return r, nil
	}
	if msg := srv.crashed(); msg != "" {
		r.check(false, "server exited: %s", msg)
		return r, nil
	}
	if err != nil {
		r.check(false, "sampling after: %v", err)
		return r, nil
	}
	r.check(after.FDs <= e.base.FDs, "fds back to the baseline within %s (%d, baseline %d)", fmtDur(cfg.settle), after.FDs, e.base.FDs)
	if sc.maxGrowth > 0 {
		g := r.Peak.RSS - e.base.RSS
		r.check(g < sc.maxGrowth, "RSS growth %s MiB < %s MiB", mib(g), mib(sc.maxGrowth))
	}
	if sc.maxAfter > 0 {
		g := after.RSS - e.base.RSS
		r.check(g < sc.maxAfter, "RSS after %s MiB over the baseline < %s MiB", mib(g), mib(sc.maxAfter))
	}
	r.check(e.healthy(ctx) == nil, "a normal client's echo after the scenario")
	return r, nil
}

// healthy opens a normal connection, does one echo and closes it with
// the close handshake, each within 5 s.
func (e *env) healthy(ctx context.Context) error {
	w, err := e.dial.open(ctx, false, 5*time.Second)
	if err != nil {
		return err
	}
	defer w.c.Close()
	if err := w.echo([]byte("soak: still there?"), 5*time.Second); err != nil {
		return err
	}
	return w.close(5 * time.Second)
}

// parsePairs parses -known: scenario/mode pairs.
func parsePairs(list string) (map[string]bool, error) {
	set := make(map[string]bool)
	for _, p := range strings.Split(list, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		name, mode, ok := strings.Cut(p, "/")
		if !ok || !slices.Contains(modes, mode) || !slices.ContainsFunc(scenarios, func(s scenario) bool { return s.name == name }) {
			return nil, fmt.Errorf("-known: %q is not scenario/mode (scenarios %s; modes %s)", p, scenarioNames(), strings.Join(modes, ", "))
		}
		set[p] = true
	}
	return set, nil
}

// checkSelection checks -only and -modes.
func checkSelection(only, modeList string) error {
	for _, name := range selected(only) {
		if !slices.ContainsFunc(scenarios, func(s scenario) bool { return s.name == name }) {
			return fmt.Errorf("-only: no scenario %q (scenarios %s)", name, scenarioNames())
		}
	}
	for _, m := range strings.Split(modeList, ",") {
		if !slices.Contains(modes, m) {
			return fmt.Errorf("-modes: no mode %q (modes %s)", m, strings.Join(modes, ", "))
		}
	}
	return nil
}

func selected(only string) []string {
	var names []string
	for _, n := range strings.Split(only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	return names
}

func scenarioNames() string {
	names := make([]string, len(scenarios))
	for i, s := range scenarios {
		names[i] = s.name
	}
	return strings.Join(names, ", ")
}

// forEach runs f(i) for i in [0, n) on conc goroutines, stopping early
// when ctx ends.
func forEach(ctx context.Context, n, conc int, f func(i int)) {
	next := make(chan int)
	done := make(chan struct{})
	for range min(conc, n) {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		next <- i
	}
	close(next)
	for range min(conc, n) {
		<-done
	}
}
