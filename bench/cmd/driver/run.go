package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

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
	if contestant == tcp && cfg.conns(sc) >= manyConns {
		// io.Copy's splice holds a pipe (two descriptors) per
		// connection: 10,000 connections would pass the 20,000 the
		// machine allows a process.
		return append(args, "-splice=false"), nil
	}
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
