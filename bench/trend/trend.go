package trend

import (
	"fmt"
	"math"
	"slices"
)

// Limit is when a resource counts as grown: the last quarter's median may
// be at most Ratio times the first quarter's plus Slack (in the series'
// unit).
type Limit struct {
	Ratio float64 `json:"ratio"`
	Slack float64 `json:"slack"`
}

// Result is the verdict on one series.
type Result struct {
	Name string `json:"name"`
	Unit string `json:"unit"`
	// Points is the number of samples after the warm-up.
	Points int `json:"points"`
	// AtWarmup and AtEnd are the first and the last sample after the
	// warm-up.
	AtWarmup float64 `json:"at_warmup"`
	AtEnd    float64 `json:"at_end"`
	// First and Last are the medians of the first and the last quarter of
	// the post-warm-up window; Ratio is Last/First (0 when First is 0).
	First float64 `json:"first_quarter_median"`
	Last  float64 `json:"last_quarter_median"`
	Ratio float64 `json:"ratio"`
	// PerHour is the least-squares slope, in unit per hour.
	PerHour float64 `json:"per_hour"`
	Limit   Limit   `json:"limit"`
	Pass    bool    `json:"pass"`
	// Detail says why, in one line.
	Detail string `json:"detail"`
}

// MinPoints is the fewest post-warm-up samples a verdict needs (one per
// quarter at least).
const MinPoints = 4

// Judge judges series ys sampled at xs (seconds, increasing), leaving out
// the samples before from. NaN samples (not measured) are skipped.
func Judge(name, unit string, xs, ys []float64, from float64, lim Limit) Result {
	r := Result{Name: name, Unit: unit, Limit: lim}
	var wx, wy []float64
	for i := range xs {
		if i < len(ys) && xs[i] >= from && !math.IsNaN(ys[i]) {
			wx, wy = append(wx, xs[i]), append(wy, ys[i])
		}
	}
	r.Points = len(wy)
	if len(wy) < MinPoints {
		r.Detail = fmt.Sprintf("only %d samples after the warm-up; need %d", len(wy), MinPoints)
		return r
	}
	r.AtWarmup, r.AtEnd = wy[0], wy[len(wy)-1]
	q := len(wy) / 4
	r.First, r.Last = Median(wy[:q]), Median(wy[len(wy)-q:])
	if r.First != 0 {
		r.Ratio = r.Last / r.First
	}
	r.PerHour = Slope(wx, wy) * 3600
	bound := r.First*lim.Ratio + lim.Slack
	r.Pass = r.Last <= bound
	r.Detail = fmt.Sprintf("median %s → %s %s (×%.3f; limit %s: ×%.2f + %s), %+.4g %s/h; %s at warm-up end, %s at the end",
		num(r.First), num(r.Last), unit, r.Ratio, num(bound), lim.Ratio, num(lim.Slack), r.PerHour, unit,
		num(r.AtWarmup), num(r.AtEnd))
	return r
}

// Median is the median of v (0 for none). It does not modify v.
func Median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Slope is the least-squares slope of ys over xs (0 when undefined).
func Slope(xs, ys []float64) float64 {
	n := float64(len(xs))
	if n < 2 {
		return 0
	}
	var sx, sy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
	}
	mx, my := sx/n, sy/n
	var num, den float64
	for i := range xs {
		dx := xs[i] - mx
		num += dx * (ys[i] - my)
		den += dx * dx
	}
	if den == 0 {
		return 0
	}
	return num / den
}

// num formats v with few digits.
func num(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}
