package main

import (
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
)

// newPattern returns random bytes from which every message's payload is
// cut (see message).
func newPattern(size int) []byte {
	p := make([]byte, size+patternSlack)
	crand.Read(p)
	return p
}

func randomUint64() uint64 {
	var b [8]byte
	crand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

// dial opens a connection and, unless raw, performs the opening handshake.
func dial(cfg *config) (net.Conn, []byte, error) {
	nc, err := net.DialTimeout("tcp", cfg.addr, cfg.timeout)
	if err != nil {
		return nil, nil, err
	}
	if cfg.tcp {
		return nc, nil, nil
	}
	rest, err := upgrade(nc, cfg.addr, cfg.path, cfg.timeout)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, rest, nil
}

// parallel calls f(0..n-1) on at most width goroutines and returns the
// first error (after which no new calls start).
func parallel(n, width int, f func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	var failed atomic.Bool
	for range min(width, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { first = fmt.Errorf("connection %d: %w", i, err) })
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	return first
}
