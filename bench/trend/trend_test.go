package trend

import (
	"math"
	"testing"
)

// series returns n samples one every step seconds of f(t).
func series(n int, step float64, f func(t float64) float64) (xs, ys []float64) {
	for i := range n {
		t := float64(i) * step
		xs, ys = append(xs, t), append(ys, f(t))
	}
	return xs, ys
}

func TestJudge(t *testing.T) {
	lim := Limit{Ratio: 1.05, Slack: 8}
	cases := []struct {
		name string
		f    func(t float64) float64
		pass bool
	}{
		// 1,800 s at 5 s steps, warm-up 360 s; values in MiB.
		{"flat", func(t float64) float64 { return 300 }, true},
		{"warm-up ramp then flat", func(t float64) float64 { return 300 * math.Min(1, t/300) }, true},
		{"gc sawtooth", func(t float64) float64 { return 300 + 80*math.Mod(t, 120)/120 }, true},
		{"one spike at the end", func(t float64) float64 {
			if t > 1790 {
				return 900
			}
			return 300
		}, true},
		{"slow leak 50 MiB/h", func(t float64) float64 { return 300 + 50*t/3600 }, true},
		{"leak 2 MiB/min", func(t float64) float64 { return 300 + t/30 }, false},
		{"leak in steps", func(t float64) float64 { return 300 + 20*math.Floor(t/300) }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			xs, ys := series(361, 5, tc.f)
			r := Judge("rss", "MiB", xs, ys, 360, lim)
			if r.Pass != tc.pass {
				t.Fatalf("pass %v, want %v: %s", r.Pass, tc.pass, r.Detail)
			}
			if r.Points != 289 {
				t.Errorf("points %d, want 289", r.Points)
			}
		})
	}
}

func TestJudgeFDLeak(t *testing.T) {
	// 15,000 connections held, one fd leaked every 10 s: +180 over 30 min.
	xs, ys := series(361, 5, func(t float64) float64 { return 15012 + math.Floor(t/10) })
	r := Judge("fds", "fds", xs, ys, 360, Limit{Ratio: 1.002, Slack: 20})
	if r.Pass {
		t.Fatalf("a leak of one fd per 10 s passed: %s", r.Detail)
	}
	if math.Abs(r.PerHour-360) > 1 {
		t.Errorf("growth %.1f/h, want 360/h", r.PerHour)
	}
}

func TestJudgeTooFewPoints(t *testing.T) {
	r := Judge("rss", "MiB", []float64{0, 1, 2}, []float64{1, 1, 1}, 0, Limit{Ratio: 2})
	if r.Pass || r.Points != 3 {
		t.Fatalf("%+v", r)
	}
}

func TestJudgeSkipsNaN(t *testing.T) {
	xs, ys := series(40, 1, func(float64) float64 { return 7 })
	ys[30] = math.NaN()
	r := Judge("goroutines", "", xs, ys, 0, Limit{Ratio: 1})
	if !r.Pass || r.Points != 39 {
		t.Fatalf("%+v", r)
	}
}

func TestMedianAndSlope(t *testing.T) {
	if m := Median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median %v", m)
	}
	if m := Median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Errorf("median %v", m)
	}
	if m := Median(nil); m != 0 {
		t.Errorf("median of none %v", m)
	}
	if s := Slope([]float64{0, 1, 2, 3}, []float64{1, 3, 5, 7}); s != 2 {
		t.Errorf("slope %v", s)
	}
	if s := Slope([]float64{1, 1}, []float64{1, 2}); s != 0 {
		t.Errorf("slope of a vertical line %v", s)
	}
}
