package main

import (
	"math/bits"
	"sync"
	"time"
)

// histogram counts durations in log-linear buckets: 32 buckets per power of
// two, so a reported percentile is within about 3% of the true one, in a
// fixed array that recording never allocates.
type histogram struct {
	counts [64 * subBuckets]uint64
	n      uint64
}

const subBits = 5
const subBuckets = 1 << subBits

func bucket(ns int64) int {
	if ns < subBuckets {
		return int(max(ns, 0))
	}
	u := uint64(ns)
	exp := bits.Len64(u) - subBits // >= 1
	return exp*subBuckets + int(u>>(exp-1)) - subBuckets
}

// lowerBound is the smallest duration that falls into bucket i.
func lowerBound(i int) int64 {
	if i < subBuckets {
		return int64(i)
	}
	exp := i / subBuckets
	return int64(i%subBuckets+subBuckets) << (exp - 1)
}

func (h *histogram) record(ns int64) {
	h.counts[bucket(ns)]++
	h.n++
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

// percentile returns the duration below which a fraction p of the records
// fall (the midpoint of that bucket).
func (h *histogram) percentile(p float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(p * float64(h.n))
	if rank >= h.n {
		rank = h.n - 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen > rank {
			lo, hi := lowerBound(i), lowerBound(i+1)
			return time.Duration((lo + hi) / 2)
		}
	}
	return 0
}

// histShards is how many histograms the connections of the echo mode
// share. A histogram is 16 KiB, so one per connection would cost 160 MiB at
// 10,000 connections; a few dozen shards, each behind its own mutex, keep
// the memory flat while contention stays negligible (the readers mostly
// run on one core, GOMAXPROCS=1).
const histShards = 64

// lockedHist is one shard: a histogram that several connections record into.
type lockedHist struct {
	mu sync.Mutex
	h  histogram
}
