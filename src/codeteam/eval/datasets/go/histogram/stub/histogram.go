// Package histogram records values into fixed buckets.
package histogram

// Snapshot is a consistent copy of a histogram.
type Snapshot struct {
	Counts []uint64
	Count  uint64
	Sum    float64
}

// Histogram counts values into buckets with fixed upper bounds.
type Histogram struct{}

// New returns an empty histogram with the given strictly ascending upper bounds.
func New(bounds []float64) *Histogram { panic("not implemented") }

// Observe records v.
func (h *Histogram) Observe(v float64) { panic("not implemented") }

// Snapshot returns a consistent copy.
func (h *Histogram) Snapshot() Snapshot { panic("not implemented") }

// Quantile returns the upper bound of the bucket holding the q-quantile.
func (h *Histogram) Quantile(q float64) float64 { panic("not implemented") }
