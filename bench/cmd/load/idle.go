package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

func runIdle(cfg *config) error {
	pattern := newPattern(16)
	conns := make([]*conn, cfg.conns)
	start := time.Now()
	// Dial and echo a few at a time: enough to be quick, few enough not to
	// overflow the listen backlog.
	err := parallel(len(conns), cfg.dialPar, func(i int) error {
		c, err := newConn(cfg, pattern)
		if err != nil {
			return err
		}
		conns[i] = c
		return c.echo(cfg.timeout)
	})
	if err != nil {
		closeAll(conns)
		return err
	}
	setup := time.Since(start)
	emit(map[string]any{"mode": "idle", "ready": true, "conns": len(conns), "setup_seconds": setup.Seconds()})

	if cfg.hold > 0 {
		time.Sleep(cfg.hold)
	} else {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
		eof := make(chan struct{})
		go func() {
			io.Copy(io.Discard, bufio.NewReader(os.Stdin))
			close(eof)
		}()
		select {
		case <-eof:
		case <-sig:
		}
	}

	var alive atomic.Int64
	err = parallel(len(conns), cfg.dialPar, func(i int) error {
		if err := conns[i].echo(cfg.timeout); err != nil {
			return err
		}
		alive.Add(1)
		return nil
	})
	closeAll(conns)
	emit(map[string]any{"mode": "idle", "conns": len(conns), "alive": alive.Load()})
	if err != nil {
		return fmt.Errorf("after holding: %w", err)
	}
	return nil
}
