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
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ours is the contestant built from the parent module, run in the
// Server's default I/O mode (a goroutine per connection).
const ours = "rfc6455"

// oursEL is the same binary as ours, run with the Server's event-loop
// (epoll) I/O mode.
const oursEL = "rfc6455-el"

// tcp is the plain TCP echo baseline.
const tcp = "tcp"

var allContestants = []string{ours, oursEL, "gorilla", "gobwas", "coder", "gws", "nbio", tcp}

// isOurs reports whether c is one of this library's contestants, which share
// one binary built from the parent module.
func isOurs(c string) bool { return c == ours || c == oursEL }

// ioMode is the value of the echo server's -io flag for one of ours.
func ioMode(c string) string {
	if c == oursEL {
		return "eventloop"
	}
	return "goroutine"
}

// binName is the file name of c's echo server in the build directory.
func binName(c string) string {
	if isOurs(c) {
		return "echo-" + ours
	}
	return "echo-" + c
}

type scenario struct {
	name     string
	mode     string // load generator mode
	conns    int
	inflight int
	size     int
	what     string // for the table
	// rtt, when set, asks for a table of the round-trip time percentiles
	// of this scenario; it says what the scenario sends.
	rtt string
	// syncWrite runs the load generator with -sync-write: one goroutine
	// per connection instead of two, which with many connections and one
	// small message in flight on each saves it a goroutine hand-off per
	// message, so that it is less often the limit.
	syncWrite bool
}

// manyConns is the connection count from which ours needs its connection
// limit lifted (the Server's default MaxConnections is 10,000, and the
// driver's port probe may still hold a slot).
const manyConns = 1000

// conns is how many connections a run of sc holds at once.
func (cfg *config) conns(sc scenario) int {
	if sc.mode == "idle" {
		return cfg.idleConns
	}
	return sc.conns
}

var scenarios = []scenario{
	{name: "echo-16B", mode: "echo", conns: 64, inflight: 16, size: 16, what: "16 B, 64 conns x 16 in flight"},
	{name: "echo-1KiB", mode: "echo", conns: 64, inflight: 4, size: 1 << 10, what: "1 KiB, 64 x 4"},
	{name: "echo-64KiB", mode: "echo", conns: 8, inflight: 2, size: 64 << 10, what: "64 KiB, 8 x 2"},
	{name: "echo-1MiB", mode: "echo", conns: 2, inflight: 1, size: 1 << 20, what: "1 MiB, 2 x 1"},
	{name: "latency", mode: "echo", conns: 1, inflight: 1, size: 16, what: "16 B, 1 x 1",
		rtt: "16 B, one connection, one message in flight"},
	{name: "busy-10k", mode: "echo", conns: 10000, inflight: 1, size: 1 << 10, what: "1 KiB, 10,000 conns x 1",
		rtt: "1 KiB, 10,000 connections, one message in flight on each", syncWrite: true},
	{name: "idle", mode: "idle", what: "idle upgraded connections"},
	{name: "handshake", mode: "handshake", conns: 4, what: "dial, upgrade, 16 B echo, close"},
}

// unit describes a scenario's metric.
func (s scenario) unit() string {
	switch s.mode {
	case "idle":
		return "KiB RSS per connection (lower is better)"
	case "handshake":
		return "µs server CPU per handshake (lower is better)"
	}
	return "round trips/s"
}

func (s scenario) lowerIsBetter() bool { return s.mode != "echo" }

// result is one run.
type result struct {
	value     float64 // the scenario's metric
	p50, p99  float64 // µs, echo modes
	serverCPU float64 // cores the server used during the run
	loadCPU   float64 // cores the load generator used while measuring
	dial      float64 // seconds the load generator took to dial and upgrade its connections (echo modes)
	// foreign is the share of the benchmark's CPUs (0 and 1 when pinned)
	// that other processes, or the hypervisor (steal time), took during
	// the run: the sign of a busy machine, whose numbers are worthless.
	foreign float64
	err     error
}

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

func run(ctx context.Context, cfg *config) error {
	if err := raiseFileLimit(cfg); err != nil {
		log.Printf("warning: %v", err)
	}
	benchDir, err := moduleDir()
	if err != nil {
		return err
	}
	if cfg.bin == "" {
		dir, err := os.MkdirTemp("", "bench-driver-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.bin = dir
	} else if cfg.bin, err = filepath.Abs(cfg.bin); err != nil {
		return err
	}
	if cfg.logDir, err = os.MkdirTemp("", "bench-driver-logs-"); err != nil {
		return err
	}
	defer os.RemoveAll(cfg.logDir)
	// Pin only when taskset exists and CPUs 0 and 1 are ours to use.
	cfg.pinned = exec.CommandContext(ctx, "taskset", "-c", "0,1", "true").Run() == nil
	cfg.clkTck = clockTicks()

	if cfg.oursDir == "" {
		cfg.oursDir = filepath.Dir(benchDir)
	} else if cfg.oursDir, err = filepath.Abs(cfg.oursDir); err != nil {
		return err
	}
	if err := build(ctx, cfg, benchDir); err != nil {
		return err
	}
	if slices.ContainsFunc(cfg.contestants, isOurs) {
		cfg.ioFlag = hasFlag(ctx, filepath.Join(cfg.bin, binName(ours)), "io")
		if !cfg.ioFlag {
			log.Printf("warning: ours (%s) has no -io flag: %s runs in its only mode, and every %s run fails",
				filepath.Join(cfg.oursDir, "autobahn/cmd/echoserver"), ours, oursEL)
		}
	}

	header := describeMachine(cfg)
	fmt.Fprintln(os.Stderr, header)
	results := map[string]map[string][]result{} // scenario -> contestant -> runs
	for _, sc := range cfg.scenarios {
		cs := contestantsFor(sc, cfg.contestants)
		results[sc.name] = map[string][]result{}
		for r := range cfg.rounds {
			for i := range cs {
				c := cs[(r+i)%len(cs)]
				var res result
				for attempt := 0; ; attempt++ {
					waitQuiet(ctx, cfg)
					res = runOne(ctx, cfg, sc, c)
					if ctx.Err() != nil {
						return ctx.Err()
					}
					if res.err != nil || res.foreign <= busyShare || attempt >= cfg.retries {
						break
					}
					log.Printf("%s round %d %s: other processes took %.0f%% of the CPUs, running it again",
						sc.name, r+1, c, 100*res.foreign)
				}
				results[sc.name][c] = append(results[sc.name][c], res)
				logRun(sc, c, r, res)
			}
		}
	}

	table := header + "\n" + loadAverage("at the end") + "\n\n" + render(cfg, results)
	fmt.Print(table)
	if cfg.out != "" {
		if err := os.WriteFile(cfg.out, []byte(table), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// contestantsFor drops the TCP baseline where it has nothing to measure.
func contestantsFor(sc scenario, cs []string) []string {
	if sc.mode == "echo" {
		return cs
	}
	return slices.DeleteFunc(slices.Clone(cs), func(c string) bool { return c == tcp })
}

// moduleDir is the directory of the bench module's go.mod.
func moduleDir() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	b, err := os.ReadFile(gomod)
	if err != nil || !bytes.Contains(b, []byte("module github.com/rfc6455/websocket/bench\n")) {
		return "", fmt.Errorf("run the driver inside the bench module (cd bench), not with %q", gomod)
	}
	return filepath.Dir(gomod), nil
}

// build compiles the load generator and every contestant into cfg.bin. Ours
// is built in its own module (by default the parent directory, i.e. the
// working tree), with that module's go.mod, exactly as users get it.
func build(ctx context.Context, cfg *config, benchDir string) error {
	type job struct{ dir, pkg, out string }
	jobs := []job{{benchDir, "./cmd/load", "load"}}
	built := map[string]bool{}
	for _, c := range cfg.contestants {
		if built[binName(c)] {
			continue // rfc6455 and rfc6455-el share one binary
		}
		built[binName(c)] = true
		if isOurs(c) {
			jobs = append(jobs, job{cfg.oursDir, "./autobahn/cmd/echoserver", binName(c)})
		} else {
			jobs = append(jobs, job{benchDir, "./cmd/echo-" + c, binName(c)})
		}
	}
	for _, j := range jobs {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(cfg.bin, j.out), j.pkg)
		cmd.Dir = j.dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s (in %s): %v\n%s", j.pkg, j.dir, err, out)
		}
	}
	return nil
}

// hasFlag reports whether the program at path defines -name, from the usage
// text that -h prints (the flag package's "  -name" lines).
func hasFlag(ctx context.Context, path, name string) bool {
	out, _ := exec.CommandContext(ctx, path, "-h").CombinedOutput() // -h exits with status 0 or 2
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == "-"+name {
			return true
		}
	}
	return false
}

// command returns cmd pinned to cpu (when taskset exists) with
// GOMAXPROCS=1.
func command(ctx context.Context, cfg *config, cpu string, name string, args ...string) *exec.Cmd {
	var cmd *exec.Cmd
	if cfg.pinned {
		cmd = exec.CommandContext(ctx, "taskset", append([]string{"-c", cpu, name}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, name, args...)
	}
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// runOne runs one contestant through one scenario, on a fresh server.
func runOne(ctx context.Context, cfg *config, sc scenario, contestant string) (res result) {
	addr, err := freeAddr()
	if err != nil {
		return result{err: err}
	}
	args, err := serverArgs(cfg, sc, contestant, addr)
	if err != nil {
		return result{err: err}
	}
	logPath := filepath.Join(cfg.logDir, sc.name+"-"+contestant+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return result{err: err}
	}
	defer logFile.Close()
	srv := command(ctx, cfg, "0", filepath.Join(cfg.bin, binName(contestant)), args...)
	srv.Stdout, srv.Stderr = logFile, logFile
	if err := srv.Start(); err != nil {
		return result{err: fmt.Errorf("start server: %w", err)}
	}
	exited := make(chan struct{})
	go func() {
		srv.Wait()
		close(exited)
	}()
	defer func() {
		srv.Process.Kill()
		<-exited
		if res.err != nil {
			res.err = fmt.Errorf("%w%s", res.err, tail(logPath))
		}
	}()
	if err := waitPort(addr, exited); err != nil {
		return result{err: err}
	}
	pid := srv.Process.Pid

	loadArgs := []string{"-addr", addr, "-mode", sc.mode}
	switch sc.mode {
	case "echo":
		loadArgs = append(loadArgs,
			"-conns", strconv.Itoa(sc.conns), "-inflight", strconv.Itoa(sc.inflight),
			"-size", strconv.Itoa(sc.size),
			"-duration", cfg.duration.String(), "-warmup", cfg.warmup.String())
		if contestant == tcp {
			loadArgs = append(loadArgs, "-tcp")
		}
		if sc.syncWrite {
			loadArgs = append(loadArgs, "-sync-write")
		}
	case "idle":
		loadArgs = append(loadArgs, "-conns", strconv.Itoa(cfg.idleConns))
	case "handshake":
		loadArgs = append(loadArgs, "-conns", strconv.Itoa(sc.conns),
			"-n", strconv.Itoa(cfg.handshakes), "-duration", "10m")
	}
	limit := cfg.warmup + cfg.duration + 2*time.Minute
	lctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	load := command(lctx, cfg, "1", filepath.Join(cfg.bin, "load"), loadArgs...)
	var stderr bytes.Buffer
	load.Stderr = &stderr
	stdin, err := load.StdinPipe()
	if err != nil {
		return result{err: err}
	}
	stdout, err := load.StdoutPipe()
	if err != nil {
		return result{err: err}
	}

	cpu0, err := cpuSeconds(pid, cfg.clkTck)
	if err != nil {
		return result{err: err}
	}
	busy0 := busySeconds(cfg)
	rss0, err := rssKiB(pid)
	if err != nil {
		return result{err: err}
	}
	start := time.Now()
	if err := load.Start(); err != nil {
		return result{err: fmt.Errorf("start load: %w", err)}
	}
	lines := bufio.NewScanner(stdout)
	next := func() (map[string]any, error) {
		if !lines.Scan() {
			return nil, errors.New("load generator stopped without a result")
		}
		var m map[string]any
		if err := json.Unmarshal(lines.Bytes(), &m); err != nil {
			return nil, fmt.Errorf("load generator said %q: %v", lines.Text(), err)
		}
		return m, nil
	}
	fail := func(err error) result {
		stdin.Close()
		io.Copy(io.Discard, stdout)
		load.Wait()
		if s := strings.TrimSpace(stderr.String()); s != "" {
			err = errors.New(s)
		}
		return result{err: err}
	}

	switch sc.mode {
	case "echo":
		// {"phase":"start"}, {"phase":"stop"}, then the result: the
		// server's CPU use is read over the measured interval only.
		var cpuStart, loadStart, busyStart float64
		var tStart time.Time
		for _, phase := range []string{"start", "stop"} {
			m, err := next()
			if err != nil {
				return fail(err)
			}
			if m["phase"] != phase {
				return fail(fmt.Errorf("load generator said %v, want phase %q", m, phase))
			}
			cpu, err := cpuSeconds(pid, cfg.clkTck)
			if err != nil {
				return fail(err)
			}
			loadCPU, _ := cpuSeconds(load.Process.Pid, cfg.clkTck)
			busy := busySeconds(cfg)
			if phase == "start" {
				cpuStart, loadStart, busyStart, tStart = cpu, loadCPU, busy, time.Now()
			} else {
				wall := time.Since(tStart).Seconds()
				res.serverCPU = (cpu - cpuStart) / wall
				ours := (cpu - cpuStart) + (loadCPU - loadStart)
				res.foreign = max(0, (busy-busyStart)-ours) / (float64(benchCPUs(cfg)) * wall)
			}
		}
		m, err := next()
		if err != nil {
			return fail(err)
		}
		res.value, res.p50, res.p99, res.loadCPU = num(m, "rate"), num(m, "p50_us"), num(m, "p99_us"), num(m, "load_cpu")
		res.dial = num(m, "dial_seconds")
	case "idle":
		if _, err := next(); err != nil { // ready
			return fail(err)
		}
		time.Sleep(cfg.settle)
		rss1, err := rssKiB(pid)
		if err != nil {
			return fail(err)
		}
		stdin.Close() // the load generator echoes once more on every connection
		m, err := next()
		if err != nil {
			return fail(err)
		}
		if alive := int(num(m, "alive")); alive != cfg.idleConns {
			return fail(fmt.Errorf("only %d of %d idle connections still echoed", alive, cfg.idleConns))
		}
		res.value = (rss1 - rss0) / float64(cfg.idleConns)
	case "handshake":
		m, err := next()
		if err != nil {
			return fail(err)
		}
		n := num(m, "handshakes")
		if n <= 0 {
			return fail(errors.New("no handshakes done"))
		}
		time.Sleep(200 * time.Millisecond) // let the server finish the last closes
		cpu1, err := cpuSeconds(pid, cfg.clkTck)
		if err != nil {
			return fail(err)
		}
		res.value = (cpu1 - cpu0) / n * 1e6
	}
	stdin.Close()
	if err := load.Wait(); err != nil {
		return fail(err)
	}
	if cpu1, err := cpuSeconds(pid, cfg.clkTck); err == nil && sc.mode != "echo" {
		wall := time.Since(start).Seconds()
		res.serverCPU = (cpu1 - cpu0) / wall
		ours := (cpu1 - cpu0) + (load.ProcessState.UserTime() + load.ProcessState.SystemTime()).Seconds()
		res.foreign = max(0, (busySeconds(cfg)-busy0)-ours) / (float64(benchCPUs(cfg)) * wall)
	}
	return res
}

// serverArgs is the command line of contestant's echo server for a run of
// sc listening on addr.
func serverArgs(cfg *config, sc scenario, contestant, addr string) ([]string, error) {
	args := []string{"-addr", addr}
	if !isOurs(contestant) {
		return args, nil
	}
	switch {
	case cfg.ioFlag:
		args = append(args, "-io", ioMode(contestant))
	case contestant == oursEL:
		return nil, errors.New("ours has no -io flag: its event-loop mode cannot be selected")
	}
	if cfg.conns(sc) >= manyConns {
		// The Server's default MaxConnections is 10,000, exactly the
		// idle and busy-10k scenarios' count: lift it so that a larger
		// -idle-conns works and the port probe cannot take a slot.
		args = append(args, "-max-conns", "-1")
	}
	return args, nil
}

func num(m map[string]any, key string) float64 {
	f, _ := m[key].(float64)
	return f
}

// tail returns the last lines of a server's log, for error messages.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	s := strings.TrimSpace(strings.Join(lines, "\n"))
	if s == "" {
		return ""
	}
	return "\nserver log: " + s
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitPort waits until something accepts connections on addr.
func waitPort(addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("server exited at start")
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			// Let the server notice the probe is gone before the load starts.
			time.Sleep(100 * time.Millisecond)
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("server does not listen on %s after 10 s", addr)
}

// rssKiB reads VmRSS of a process.
func rssKiB(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			f := strings.Fields(rest) // "1234 kB"
			if len(f) == 2 && f[1] == "kB" {
				return strconv.ParseFloat(f[0], 64)
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// cpuSeconds reads utime+stime of a process (all its threads).
func cpuSeconds(pid int, clkTck float64) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may contain spaces and parentheses: the fields
	// start after the last ')'. utime and stime are fields 14 and 15 of
	// proc(5), so 12 and 13 after "pid (comm) state".
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return (ut + st) / clkTck, nil
}

// waitQuiet waits, for at most cfg.quietWait, until the benchmark's CPUs
// have been idle (at most busyShare busy) for a whole second.
func waitQuiet(ctx context.Context, cfg *config) {
	if cfg.quietWait <= 0 {
		return
	}
	deadline := time.Now().Add(cfg.quietWait)
	for {
		b0 := busySeconds(cfg)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
		share := (busySeconds(cfg) - b0) / float64(benchCPUs(cfg))
		if share <= busyShare {
			return
		}
		if time.Now().After(deadline) {
			log.Printf("the CPUs are still %.0f%% busy after waiting %v: running anyway", 100*share, cfg.quietWait)
			return
		}
	}
}

// benchCPUs is how many CPUs the benchmark runs on.
func benchCPUs(cfg *config) int {
	if cfg.pinned {
		return 2
	}
	return runtime.NumCPU()
}

// busySeconds is the time the benchmark's CPUs (cpu0 and cpu1 when pinned,
// else all) have spent on anything but idling, from /proc/stat: user, nice,
// system, irq, softirq and steal (time the hypervisor gave to another guest).
func busySeconds(cfg *config) float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	want := map[string]bool{"cpu": !cfg.pinned, "cpu0": cfg.pinned, "cpu1": cfg.pinned}
	var ticks float64
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 9 || !want[f[0]] {
			continue
		}
		for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system _ _ irq softirq steal
			v, _ := strconv.ParseFloat(f[i], 64)
			ticks += v
		}
	}
	return ticks / cfg.clkTck
}

// clockTicks is sysconf(_SC_CLK_TCK), the unit of /proc/PID/stat times.
func clockTicks() float64 {
	if out, err := exec.Command("getconf", "CLK_TCK").Output(); err == nil {
		if f, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64); err == nil && f > 0 {
			return f
		}
	}
	return 100 // USER_HZ on every Linux architecture Go supports
}

// raiseFileLimit lifts the soft limit on open files to the hard limit, which
// the servers and the load generator inherit, and reports when the hard
// limit is too low for the connection counts asked for. The driver itself
// holds only a few files; every Go program (the servers, the load
// generator) also raises its own soft limit at start (package syscall,
// since Go 1.19), and the load generator checks the limit again.
func raiseFileLimit(cfg *config) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	need, which := 0, ""
	for _, sc := range cfg.scenarios {
		if n := cfg.conns(sc); n > need {
			need, which = n, sc.name
		}
	}
	// Beyond its sockets, a server has its listener, standard streams and
	// the runtime's epoll descriptors.
	if lim.Max < uint64(need)+100 {
		return fmt.Errorf("open file hard limit is %d: the %s scenario holds %d connections per process and needs about %d",
			lim.Max, which, need, need+100)
	}
	return nil
}

func logRun(sc scenario, c string, round int, r result) {
	if r.err != nil {
		log.Printf("%s round %d %s: FAIL: %v", sc.name, round+1, c, r.err)
		return
	}
	extra := ""
	if sc.mode == "echo" {
		extra = fmt.Sprintf(", load cpu %.2f, p50 %s, p99 %s", r.loadCPU, micros(r.p50), micros(r.p99))
		if sc.conns >= manyConns {
			extra += fmt.Sprintf(", %d connections up in %.1f s", sc.conns, r.dial)
		}
	}
	log.Printf("%s round %d %s: %s %s (server cpu %.2f%s; other processes %.0f%%)",
		sc.name, round+1, c, format(sc, r.value), sc.unit(), r.serverCPU, extra, 100*r.foreign)
}

func describeMachine(cfg *config) string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	pin := "server pinned to CPU 0 and load to CPU 1 with taskset"
	if !cfg.pinned {
		pin = "NOT PINNED (taskset missing, or CPUs 0 and 1 not available): both sides share every core"
	}
	return fmt.Sprintf("Measured %s, %s %s/%s, %d CPUs (%s); %s; GOMAXPROCS=1 on both sides; "+
		"%d round(s), echo runs %v after %v warm-up, idle %d connections, %d handshakes; %s.",
		time.Now().Format("2006-01-02 15:04"), runtime.Version(), runtime.GOOS, runtime.GOARCH,
		runtime.NumCPU(), model, pin, cfg.rounds, cfg.duration, cfg.warmup, cfg.idleConns, cfg.handshakes,
		loadAverage("at the start"))
}

func loadAverage(when string) string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load average unknown"
	}
	return "load average " + strings.Fields(string(b))[0] + " " + when
}
