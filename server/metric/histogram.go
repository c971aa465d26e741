package metric

import (
	"sync/atomic"
	"time"
)

// Histogram counts int64 observations into buckets with fixed upper
// bounds (inclusive, as Prometheus's "le"). The zero value is not usable:
// make one with NewHistogram.
type Histogram struct {
	bounds []int64
	counts []atomic.Uint64 // len(bounds)+1: the last is +Inf
	sum    atomic.Int64
}

// NewHistogram returns a histogram with the given upper bounds, which must
// be increasing.
func NewHistogram(bounds ...int64) *Histogram {
	for i := 1; i < len(bounds); i++ {
		if bounds[i] <= bounds[i-1] {
			panic("metric: histogram bounds must increase")
		}
	}
	return &Histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

// DurationBounds converts durations to bounds in nanoseconds.
func DurationBounds(ds ...time.Duration) []int64 {
	b := make([]int64, len(ds))
	for i, d := range ds {
		b[i] = int64(d)
	}
	return b
}

// Observe records v. On a nil Histogram it does nothing.
func (h *Histogram) Observe(v int64) {
	if h == nil {
		return
	}
	i := 0
	for i < len(h.bounds) && v > h.bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(v)
}

// ObserveSince records the time since start, in nanoseconds.
func (h *Histogram) ObserveSince(start time.Time) {
	if h != nil {
		h.Observe(int64(time.Since(start)))
	}
}

// HistogramSnapshot is a histogram's state: Bounds are the upper bounds,
// Counts the cumulative count of observations at or below each bound
// (Prometheus's convention), Count all of them, Sum their sum.
type HistogramSnapshot struct {
	Bounds []int64
	Counts []uint64
	Count  uint64
	Sum    int64
}

// Snapshot returns the histogram's state (empty for a nil Histogram).
func (h *Histogram) Snapshot() HistogramSnapshot {
	if h == nil {
		return HistogramSnapshot{}
	}
	s := HistogramSnapshot{Bounds: h.bounds, Counts: make([]uint64, len(h.bounds)), Sum: h.sum.Load()}
	var cum uint64
	for i := range h.bounds {
		cum += h.counts[i].Load()
		s.Counts[i] = cum
	}
	s.Count = cum + h.counts[len(h.bounds)].Load()
	return s
}
