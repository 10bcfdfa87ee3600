package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

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
