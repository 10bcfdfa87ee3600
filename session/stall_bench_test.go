package session

import (
	"fmt"
	"testing"
	"time"
)

// stalledBudget is a full budget with n refused sessions, each holding 8
// KiB and waiting for 64 KiB more, none of which fits, beside 1 MiB held by
// sessions that do not wait: no stalemate yet.
func stalledBudget(b *testing.B, n int) *Budget {
	const held, need = 8 << 10, 64 << 10
	bg := NewBudget(int64(n)*held+1<<20, 2*time.Second)
	bg.used.Store(bg.size)
	now := time.Now().UnixNano()
	for range n {
		if bg.stall(&Session{}, held, need, now) {
			b.Fatal("a session was chosen to give way")
		}
	}
	return bg
}

// BenchmarkStalls: what a refusal (settle) and a release (resumeFitting)
// cost the budget, under its lock, while n sessions are refused.
func BenchmarkStalls(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("settle/%d", n), func(b *testing.B) {
			bg := stalledBudget(b, n)
			for b.Loop() {
				bg.mu.Lock()
				if bg.settle() != nil {
					b.Fatal("settled")
				}
				bg.mu.Unlock()
			}
		})
		b.Run(fmt.Sprintf("resumeFitting/%d", n), func(b *testing.B) {
			bg := stalledBudget(b, n)
			for b.Loop() {
				bg.resumeFitting()
			}
		})
	}
}
