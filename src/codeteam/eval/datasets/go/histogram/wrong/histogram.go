// Package histogram records values into fixed buckets.
package histogram

import (
	"math"
	"sort"
	"sync"
)

// Snapshot is a consistent copy of a histogram.
type Snapshot struct {
	Counts []uint64
	Count  uint64
	Sum    float64
}

// Histogram counts values into buckets with fixed upper bounds.
type Histogram struct {
	mu     sync.Mutex
	bounds []float64
	counts []uint64
	count  uint64
	sum    float64
}

// New returns an empty histogram with the given strictly ascending upper bounds.
func New(bounds []float64) *Histogram {
	for i := 1; i < len(bounds); i++ {
		if !(bounds[i-1] < bounds[i]) {
			panic("histogram: bounds must be strictly ascending")
		}
	}
	own := append([]float64(nil), bounds...)
	return &Histogram{bounds: own, counts: make([]uint64, len(own)+1)}
}

// Observe records v.
func (h *Histogram) Observe(v float64) {
	i := sort.Search(len(h.bounds), func(i int) bool { return h.bounds[i] > v })
	h.mu.Lock()
	defer h.mu.Unlock()
	h.counts[i]++
	h.count++
	h.sum += v
}

// Snapshot returns a consistent copy.
func (h *Histogram) Snapshot() Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	return Snapshot{Counts: append([]uint64(nil), h.counts...), Count: h.count, Sum: h.sum}
}

// Quantile returns the upper bound of the bucket holding the q-quantile.
func (h *Histogram) Quantile(q float64) float64 {
	s := h.Snapshot()
	if s.Count == 0 {
		return math.NaN()
	}
	rank := math.Max(1, math.Ceil(q*float64(s.Count)))
	var cumulative uint64
	for i, c := range s.Counts[:len(h.bounds)] {
		cumulative += c
		if float64(cumulative) >= rank {
			return h.bounds[i]
		}
	}
	return math.Inf(1)
}
