package report

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Plots writes three PNGs into dir, named after the scenario:
// <scenario>-latency.png (p50, p99 and max per second), <scenario>-
// percentiles.png (the percentile curve of every latency histogram) and
// <scenario>-throughput.png (sent and delivered per second). It returns the
// paths written.
func (r *Report) Plots(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	save := func(p *plot.Plot, name string) error {
		path := filepath.Join(dir, r.Scenario+"-"+name+".png")
		w, h := 6*vg.Inch, 3.5*vg.Inch
		if r.Soak != nil {
			w, h = soakSize[0], soakSize[1]
		}
		if err := p.Save(w, h, path); err != nil {
			return fmt.Errorf("plot %s: %w", name, err)
		}
		paths = append(paths, path)
		return nil
	}
	for _, mk := range []struct {
		name string
		make func() *plot.Plot
	}{
		{"latency", r.latencyPlot},
		{"percentiles", r.percentilePlot},
		{"throughput", r.throughputPlot},
	} {
		if err := save(mk.make(), mk.name); err != nil {
			return paths, err
		}
	}
	if r.Soak != nil {
		more, err := r.soakPlots(dir)
		return append(paths, more...), err
	}
	return paths, nil
}

var (
	blue   = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	orange = color.RGBA{R: 255, G: 127, B: 14, A: 255}
	red    = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	green  = color.RGBA{R: 44, G: 160, B: 44, A: 255}
	purple = color.RGBA{R: 148, G: 103, B: 189, A: 255}
	grey   = color.RGBA{R: 127, G: 127, B: 127, A: 255}
)

func (r *Report) title(what string) string {
	return fmt.Sprintf("chatbench %s: %s", r.Scenario, what)
}

// line adds a line of (x, y) points, skipping points where y is 0 (no data).
func line(p *plot.Plot, name string, c color.Color, xs []float64, ys []float64) {
	pts := make(plotter.XYs, 0, len(xs))
	for i := range xs {
		if i < len(ys) && ys[i] > 0 {
			pts = append(pts, plotter.XY{X: xs[i], Y: ys[i]})
		}
	}
	if len(pts) == 0 {
		return
	}
	l, err := plotter.NewLine(pts)
	if err != nil {
		return
	}
	l.Color = c
	l.Width = vg.Points(1.5)
	p.Add(l)
	p.Legend.Add(name, l)
}

func (r *Report) latencyPlot() *plot.Plot {
	p := plot.New()
	p.Title.Text = r.title("latency over time")
	p.X.Label.Text = "seconds since start (intended send time)"
	p.Y.Label.Text = "latency (ms)"
	p.Legend.Top = true
	s := r.Series
	line(p, "max", red, s.Seconds, scale(s.Max, 1e-3))
	line(p, "p99", orange, s.Seconds, scale(s.P99, 1e-3))
	line(p, "p50", blue, s.Seconds, scale(s.P50, 1e-3))
	r.phaseMarks(p)
	return p
}

func (r *Report) throughputPlot() *plot.Plot {
	p := plot.New()
	p.Title.Text = r.title("throughput over time")
	p.X.Label.Text = "seconds since start"
	p.Y.Label.Text = "per second"
	p.Legend.Top = true
	s := r.Series
	per := 1 / s.step() // the series counts per step
	line(p, "sent", blue, s.Seconds, scale(floats(s.Sent), per))
	label := "delivered"
	if r.Scenario == "connect" || r.Scenario == "idle" {
		label = "connections opened"
	}
	line(p, label, green, s.Seconds, scale(floats(s.Delivered), per))
	r.phaseMarks(p)
	return p
}

// percentilePlot draws latency against percentile on the usual HDR axis:
// x = log10(1/(1-p)), so 90%, 99%, 99.9% are evenly spaced.
func (r *Report) percentilePlot() *plot.Plot {
	p := plot.New()
	p.Title.Text = r.title("latency by percentile")
	p.X.Label.Text = "percentile"
	p.Y.Label.Text = "latency (ms)"
	p.Legend.Top = true
	p.Legend.Left = true
	p.X.Tick.Marker = plot.ConstantTicks([]plot.Tick{
		{Value: 0, Label: "0%"}, {Value: 1, Label: "90%"}, {Value: 2, Label: "99%"},
		{Value: 3, Label: "99.9%"}, {Value: 4, Label: "99.99%"}, {Value: 5, Label: "max"},
	})
	colors := []color.Color{blue, orange, green, red, purple, grey}
	i := 0
	for _, name := range histOrder {
		curve := r.Curves[name]
		if len(curve) == 0 || name == "connect" && r.Scenario != "connect" && r.Scenario != "idle" {
			continue
		}
		var xs, ys []float64
		for _, pt := range curve {
			q := min(pt.Percentile, 99.999)
			xs = append(xs, math.Log10(100/(100-q)))
			ys = append(ys, pt.Micros/1000)
		}
		line(p, name, colors[i%len(colors)], xs, ys)
		i++
	}
	return p
}

// WarmupMark names the Phase drawn in red: where a soak's flatness
// verdict starts.
const WarmupMark = "warm-up end"

// phaseMarks draws a vertical grey line at each phase release, and a red
// one at the warm-up end.
func (r *Report) phaseMarks(p *plot.Plot) {
	for _, ph := range r.Phases {
		l, err := plotter.NewLine(plotter.XYs{{X: ph.At, Y: p.Y.Min}, {X: ph.At, Y: math.Max(p.Y.Max, p.Y.Min+1)}})
		if err != nil {
			continue
		}
		l.Color = grey
		l.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
		if ph.Name == WarmupMark {
			l.Color, l.Width = red, vg.Points(1.5)
			p.Legend.Add("warm-up end", l)
		}
		p.Add(l)
	}
}

func scale(v []float64, f float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x * f
	}
	return out
}

func floats(v []int64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
