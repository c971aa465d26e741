package metrics

import (
	"fmt"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram bounds, in microseconds.
const (
	histMin     = 1
	histMax     = int64(5 * time.Minute / time.Microsecond)
	histDigits  = 3
	coarseDigit = 2 // per-second histograms of a Series
)

// Hist is a latency histogram in microseconds. It is not safe for concurrent
// use; a Recorder serialises access.
type Hist struct {
	h *hdrhistogram.Histogram
}

// NewHist returns an empty histogram of 1 µs to 5 min at 3 significant digits.
func NewHist() *Hist { return &Hist{h: hdrhistogram.New(histMin, histMax, histDigits)} }

func newCoarseHist() *Hist { return &Hist{h: hdrhistogram.New(histMin, histMax, coarseDigit)} }

// Record adds one latency. Values below 1 µs count as 1 µs and values above
// 5 minutes as 5 minutes, so no sample is lost.
func (h *Hist) Record(d time.Duration) {
	us := int64(d / time.Microsecond)
	us = min(max(us, histMin), histMax)
	_ = h.h.RecordValue(us) // in range by construction
}

// Merge adds every sample of o to h.
func (h *Hist) Merge(o *Hist) {
	if o != nil {
		h.h.Merge(o.h)
	}
}

// Count is the number of samples.
func (h *Hist) Count() int64 { return h.h.TotalCount() }

// Quantile is the latency at percentile q (0–100), in microseconds.
func (h *Hist) Quantile(q float64) float64 { return float64(h.h.ValueAtQuantile(q)) }

// Max is the largest sample, in microseconds.
func (h *Hist) Max() float64 { return float64(h.h.Max()) }

// Encode returns the histogram in HDR's compressed V2 encoding (base64).
func (h *Hist) Encode() (string, error) {
	b, err := h.h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	return string(b), err
}

// DecodeHist is the inverse of Encode.
func DecodeHist(s string) (*Hist, error) {
	h, err := hdrhistogram.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("decode histogram: %w", err)
	}
	return &Hist{h: h}, nil
}

// Summary is a histogram's headline numbers. Latencies are in microseconds.
type Summary struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean_us"`
	P50   float64 `json:"p50_us"`
	P90   float64 `json:"p90_us"`
	P99   float64 `json:"p99_us"`
	P999  float64 `json:"p99_9_us"`
	Max   float64 `json:"max_us"`
}

// Summary returns the count, mean, p50, p90, p99, p99.9 and max.
func (h *Hist) Summary() Summary {
	if h == nil || h.Count() == 0 {
		return Summary{}
	}
	return Summary{
		Count: h.Count(),
		Mean:  h.h.Mean(),
		P50:   h.Quantile(50),
		P90:   h.Quantile(90),
		P99:   h.Quantile(99),
		P999:  h.Quantile(99.9),
		Max:   h.Max(),
	}
}

// Point is one point of a percentile curve: the latency (µs) at Percentile.
type Point struct {
	Percentile float64 `json:"percentile"`
	Micros     float64 `json:"us"`
}

// Curve returns the percentile curve at 50, 75, 90, 95, 99, 99.5, 99.9,
// 99.95, 99.99 and 100.
func (h *Hist) Curve() []Point {
	if h == nil || h.Count() == 0 {
		return nil
	}
	qs := []float64{0, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100}
	out := make([]Point, 0, len(qs))
	for _, q := range qs {
		out = append(out, Point{Percentile: q, Micros: h.Quantile(q)})
	}
	return out
}
