// Command driver runs the echo benchmarks: every contestant (this library's
// echo server, the peer libraries' echo servers, and a plain TCP echo as the
// baseline) against the load generator (../load), scenario by scenario, in
// rotating rounds, and prints a Markdown table of the medians.
//
//	cd bench && go run ./cmd/driver                        # everything, 3 rounds of 5 s
//	go run ./cmd/driver -rounds 1 -duration 2s              # a quick smoke
//	go run ./cmd/driver -scenarios echo-16B,latency -contestants rfc6455,gws,tcp -out table.md
//	go run ./cmd/driver -scenarios idle,busy-10k -idle-conns 15000 -contestants rfc6455,rfc6455-el,nbio
//
// Every run starts a fresh server under "taskset -c 0" and the load under
// "taskset -c 1", both with GOMAXPROCS=1, on loopback: one core per side.
// Round r starts with contestant r mod n, so no contestant always runs
// first. The server is killed after each run. Without taskset the
// processes are not pinned, and the output says so.
//
// Each run also records the CPU use of both sides and how much of CPUs 0
// and 1 other processes took meanwhile (from /proc/stat); the table lists
// the runs where that exceeded 5%. On a shared machine, -quiet-wait waits for
// idle CPUs before each run and -retries reruns the disturbed ones.
//
// This library's echo server runs twice: as rfc6455, in the Server's
// default goroutine-per-connection I/O mode ("-io goroutine"), and as
// rfc6455-el, the same binary in its event-loop mode ("-io eventloop").
// The ratio columns ours/best peer and ours/tcp are rfc6455's; when
// rfc6455-el runs too, el/best peer and el/goroutine are added.
//
// Scenarios (see the README for what each one measures): echo-16B,
// echo-1KiB, echo-64KiB, echo-1MiB, latency and busy-10k (10,000
// connections, one 1 KiB message in flight on each) count round trips per
// second; idle measures the server's resident memory per idle upgraded
// connection (VmRSS from /proc/PID/status before and after -idle-conns
// connections); handshake measures the server's CPU time per handshake
// (utime+stime from /proc/PID/stat over -handshakes handshakes). For the
// echo scenarios a second table gives the server's CPU time per round
// trip, which moves less than the rates with the machine's speed.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

type config struct {
	scenarios   []scenario
	contestants []string
	rounds      int
	duration    time.Duration
	warmup      time.Duration
	idleConns   int
	handshakes  int
	out         string
	bin         string
	oursDir     string
	settle      time.Duration
	quietWait   time.Duration
	retries     int

	pinned bool
	clkTck float64
	logDir string
	ioFlag bool // ours's echo server has the -io flag
}

func main() {
	var cfg config
	scenarioNames := flag.String("scenarios", "all", "comma-separated scenarios: "+strings.Join(names(), ","))
	contestants := flag.String("contestants", strings.Join(allContestants, ","), "comma-separated contestants")
	flag.IntVar(&cfg.rounds, "rounds", 3, "rounds per scenario (the table shows medians)")
	flag.DurationVar(&cfg.duration, "duration", 5*time.Second, "measured time of each echo run")
	flag.DurationVar(&cfg.warmup, "warmup", 500*time.Millisecond, "unmeasured time before each echo run")
	flag.IntVar(&cfg.idleConns, "idle-conns", 10000, "connections of the idle scenario (issue 7 measures 15000)")
	flag.IntVar(&cfg.handshakes, "handshakes", 20000, "handshakes of the handshake scenario")
	flag.DurationVar(&cfg.settle, "settle", time.Second, "idle scenario: wait after the connections are up before reading RSS")
	flag.DurationVar(&cfg.quietWait, "quiet-wait", 0, "before each run, wait up to this long for the benchmark's CPUs to be idle (for shared machines; 0: do not wait)")
	flag.IntVar(&cfg.retries, "retries", 0, "rerun a run up to this many times when other processes took more than 5% of the benchmark's CPUs during it")
	flag.StringVar(&cfg.out, "out", "", "also write the table to this file")
	flag.StringVar(&cfg.oursDir, "ours", "", "root of the module github.com/rfc6455/websocket to build ours from, e.g. a clean checkout or a git worktree of another commit (default: the bench module's parent directory, the working tree)")
	flag.StringVar(&cfg.bin, "bin", "", "build into this directory and keep the binaries (default: a temporary directory, removed)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("driver: ")

	var err error
	if cfg.scenarios, err = pickScenarios(*scenarioNames); err != nil {
		log.Fatal(err)
	}
	for _, c := range strings.Split(*contestants, ",") {
		if c = strings.TrimSpace(c); c == "" {
			continue
		}
		if !slices.Contains(allContestants, c) {
			log.Fatalf("unknown contestant %q (have %s)", c, strings.Join(allContestants, ","))
		}
		cfg.contestants = append(cfg.contestants, c)
	}
	if len(cfg.contestants) == 0 || cfg.rounds < 1 || cfg.idleConns < 1 {
		log.Fatal("need at least one contestant, one round and one idle connection")
	}

	// On SIGINT or SIGTERM, stop the current run (its processes are
	// killed through the context) and exit.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		log.Printf("%v: stopping", s)
		cancel()
	}()
	if err := run(ctx, &cfg); err != nil {
		log.Fatal(err)
	}
}

func names() []string {
	var n []string
	for _, s := range scenarios {
		n = append(n, s.name)
	}
	return n
}

func pickScenarios(list string) ([]scenario, error) {
	if list == "all" || list == "" {
		return scenarios, nil
	}
	var out []scenario
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		i := slices.IndexFunc(scenarios, func(s scenario) bool { return s.name == name })
		if i < 0 {
			return nil, fmt.Errorf("unknown scenario %q (have %s)", name, strings.Join(names(), ","))
		}
		out = append(out, scenarios[i])
	}
	return out, nil
}
