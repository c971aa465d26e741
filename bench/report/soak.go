package report

import (
	"encoding/csv"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/chatd/chatd/bench/trend"
)

// Soak is the long-run part of a soak report: the server's resources and
// the machine's load over time, and the flatness verdict after the warm-up.
type Soak struct {
	// WarmupEnd is where the verdict's window starts, in seconds since
	// the start of the run (marked on the plots).
	WarmupEnd float64 `json:"warmup_end"`
	// Resources are sampled every interval. A value of -1 was not measured.
	Resources Resources      `json:"resources"`
	Flat      []trend.Result `json:"flat"`
	// Notes say what was not measured, and list the first violations.
	Notes []string `json:"notes,omitempty"`
}

// Resources are columns of samples, one row per sample.
type Resources struct {
	Seconds    []float64 `json:"seconds"`
	RSSMiB     []float64 `json:"rss_mib"`
	FDs        []float64 `json:"fds"`
	Goroutines []float64 `json:"goroutines"`
	CPUPercent []float64 `json:"cpu_percent"` // of one core, over the step before
	Load1      []float64 `json:"load1"`
}

// soakSize is the size of the soak plots: 800×400 pixels at vgimg's 96 dpi.
var soakSize = [2]vg.Length{800.0 / 96 * vg.Inch, 400.0 / 96 * vg.Inch}

// soakPlots writes the soak plots and the time series as CSV into dir.
func (r *Report) soakPlots(dir string) ([]string, error) {
	var paths []string
	s := r.Soak.Resources
	mk := func(name, what, unit string, series ...namedSeries) error {
		p := plot.New()
		p.Title.Text = r.title(what)
		p.X.Label.Text = "seconds since start"
		p.Y.Label.Text = unit
		p.Y.Min = 0
		p.Legend.Top = true
		for _, ns := range series {
			line(p, ns.name, ns.color, ns.xs, ns.ys)
		}
		r.phaseMarks(p)
		path := filepath.Join(dir, r.Scenario+"-"+name+".png")
		if err := p.Save(soakSize[0], soakSize[1], path); err != nil {
			return fmt.Errorf("plot %s: %w", name, err)
		}
		paths = append(paths, path)
		return nil
	}
	for _, err := range []error{
		mk("rss", "server RSS", "MiB", namedSeries{"RSS", blue, s.Seconds, s.RSSMiB}),
		mk("fds", "server open files", "fds", namedSeries{"fds", blue, s.Seconds, s.FDs}),
		mk("goroutines", "server goroutines (admin /metrics)", "goroutines", namedSeries{"goroutines", blue, s.Seconds, s.Goroutines}),
		mk("load", "machine load and server CPU", "load average / CPU cores",
			namedSeries{"load 1 min (whole machine)", red, s.Seconds, s.Load1},
			namedSeries{"server CPU (cores)", blue, s.Seconds, scale(s.CPUPercent, 0.01)}),
	} {
		if err != nil {
			return paths, err
		}
	}
	path := filepath.Join(dir, r.Scenario+"-resources.csv")
	if err := r.writeResourcesCSV(path); err != nil {
		return paths, err
	}
	paths = append(paths, path)
	path = filepath.Join(dir, r.Scenario+"-traffic.csv")
	if err := r.writeTrafficCSV(path); err != nil {
		return paths, err
	}
	return append(paths, path), nil
}

// writeTrafficCSV writes the per-interval series: messages sent and
// delivered per second, and the latency of the messages intended in the
// interval.
func (r *Report) writeTrafficCSV(path string) error {
	s := r.Series
	rows := [][]string{{"seconds", "sent_per_s", "delivered_per_s", "p50_ms", "p99_ms", "max_ms"}}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	step := s.step()
	for i := range s.Seconds {
		rows = append(rows, []string{f(s.Seconds[i]), f(float64(at(s.Sent, i)) / step),
			f(float64(at(s.Delivered, i)) / step), f(s.P50[i] / 1000), f(s.P99[i] / 1000), f(s.Max[i] / 1000)})
	}
	return writeCSV(path, rows)
}

func writeCSV(path string, rows [][]string) error {
	fh, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(fh)
	if err := w.WriteAll(rows); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

type namedSeries struct {
	name   string
	color  color.Color
	xs, ys []float64
}

func (r *Report) writeResourcesCSV(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	s := r.Soak.Resources
	_ = w.Write([]string{"seconds", "rss_mib", "fds", "goroutines", "cpu_percent", "load1"})
	g := func(v []float64, i int) string {
		if i >= len(v) || math.IsNaN(v[i]) {
			return ""
		}
		return strconv.FormatFloat(v[i], 'f', -1, 64)
	}
	for i := range s.Seconds {
		_ = w.Write([]string{g(s.Seconds, i), g(s.RSSMiB, i), g(s.FDs, i), g(s.Goroutines, i), g(s.CPUPercent, i), g(s.Load1, i)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
