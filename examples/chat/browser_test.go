package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The chat in a real browser: headless Chromium, driven by playwright-core
// from testdata/twopages.cjs, opens the page twice; what one page types the
// other must show. Chromium, node and playwright-core are the interop
// package's (interop/install.sh installs them): without them the test
// skips on a developer's machine and fails in CI (CI=true).
//
// CHAT_SCREENSHOT=/tmp/chat.png keeps a screenshot of the first page.

// browserTimeout bounds the whole run: Chromium's start, two pages, the
// exchange and the exit. Each step of the script gives up after 15 s.
const browserTimeout = 60 * time.Second

func missing(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("not installed: %s (CI=true: run interop/install.sh)", what)
	}
	t.Skipf("not installed: %s (run interop/install.sh)", what)
}

func TestChatInChromium(t *testing.T) {
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		missing(t, "chromium at "+chromium)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing(t, "node")
	}
	modules, err := filepath.Abs(filepath.Join("..", "..", "interop", "peers", "node_modules"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(modules, "playwright-core", "package.json")); err != nil {
		missing(t, "npm package playwright-core in interop/peers/node_modules")
	}

	c := newChat()
	srv := httptest.NewServer(c.routes()) // 127.0.0.1:0
	// Cleanups run last first: close the WebSockets, then the server,
	// whose Close waits for the handlers.
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c.closeAll(ctx)
	})

	ctx, cancel := context.WithTimeout(t.Context(), browserTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("testdata", "twopages.cjs"),
		srv.URL+"/", chromium, os.Getenv("CHAT_SCREENSHOT"))
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	setProcessGroup(cmd)
	cmd.WaitDelay = 2 * time.Second
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err = cmd.Run()
	killGroup(cmd)
	if err != nil || !hasLine(out.String(), "PASS") {
		t.Fatalf("the browser run failed (%v; context: %v); it said:\n%s", err, ctx.Err(), out.String())
	}
	t.Logf("the browser run said:\n%s", out.String())

	// Both pages are gone: their connections must have ended.
	deadline := time.Now().Add(5 * time.Second)
	for c.online() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d client(s) still connected after the browser closed", c.online())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func hasLine(out, line string) bool {
	for l := range strings.Lines(out) {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}
