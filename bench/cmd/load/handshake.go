package main

import (
	"sync/atomic"
	"time"
)

func runHandshake(cfg *config) error {
	pattern := newPattern(16)
	var count atomic.Int64
	deadline := time.Now().Add(cfg.duration)
	start := time.Now()
	err := parallel(cfg.conns, cfg.conns, func(int) error {
		for time.Now().Before(deadline) {
			if cfg.n > 0 && count.Add(1) > int64(cfg.n) {
				count.Add(-1)
				return nil
			}
			if cfg.n <= 0 {
				count.Add(1)
			}
			c, err := newConn(cfg, pattern)
			if err != nil {
				return err
			}
			err = c.echo(cfg.timeout)
			if err == nil {
				err = c.closeHandshake(cfg.timeout)
			}
			c.nc.Close()
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	n := count.Load()
	emit(map[string]any{"mode": "handshake", "handshakes": n, "seconds": secs, "rate": float64(n) / secs})
	return nil
}
