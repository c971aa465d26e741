package report

import (
	"encoding/json"
	"os"
	"time"

	"github.com/chatd/chatd/bench/check"
	"github.com/chatd/chatd/bench/metrics"
	"github.com/chatd/chatd/bench/procfs"
)

// Report is the outcome of one run.
type Report struct {
	Scenario string    `json:"scenario"`
	URL      string    `json:"url"`
	Started  time.Time `json:"started"`
	Seconds  float64   `json:"seconds"` // wall time of the whole run
	Procs    int       `json:"procs"`
	Config   any       `json:"config"`

	Conns Conns `json:"conns"`
	// Metrics are the scenario's headline numbers, in display order.
	Metrics []Metric `json:"metrics"`
	// Latency summarises each histogram: "latency", "connect", "send_lag",
	// "first_member", "last_member", "drain".
	Latency  map[string]metrics.Summary `json:"latency"`
	Curves   map[string][]metrics.Point `json:"percentile_curves,omitempty"`
	Counters map[string]int64           `json:"counters,omitempty"`
	Errors   map[string]int64           `json:"errors"` // by cause
	Closes   map[string]int64           `json:"close_codes"`
	Server   *Server                    `json:"server,omitempty"`
	Phases   []Phase                    `json:"phases,omitempty"`
	Series   Series                     `json:"series"`

	Soak       *Soak             `json:"soak,omitempty"`
	Verdict    *check.Verdict    `json:"verdict,omitempty"`
	Invariants []check.Invariant `json:"invariants"`
	Passed     int               `json:"passed"`
	Failed     int               `json:"failed"`
}

// Conns counts connections.
type Conns struct {
	Requested int   `json:"requested"`
	Opened    int64 `json:"opened"`
	Failed    int64 `json:"failed"`
	Lost      int64 `json:"lost"` // closed by the server or the network before the end
}

// Metric is one named number.
type Metric struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit,omitempty"`
}

// Metric returns the value of the metric called name, and whether there is one.
func (r *Report) Metric(name string) (float64, bool) {
	for _, m := range r.Metrics {
		if m.Name == name {
			return m.Value, true
		}
	}
	return 0, false
}

// Server is what /proc said about the server process, or about the sum of
// the server processes (the nodes of a cluster) listed in PIDs.
type Server struct {
	PID           int             `json:"pid"`            // the first
	PIDs          []int           `json:"pids,omitempty"` // all, when more than one
	RSSBefore     int64           `json:"rss_before"`
	RSSHeld       int64           `json:"rss_held"` // at the end of the load phase (idle: of the hold)
	RSSPeak       int64           `json:"rss_peak"`
	RSSAfter      int64           `json:"rss_after"` // at the end of the run
	FDsBefore     int             `json:"fds_before"`
	FDsHeld       int             `json:"fds_held"`
	ThreadsBefore int             `json:"threads_before"`
	ThreadsHeld   int             `json:"threads_held"`
	CPUSecs       float64         `json:"cpu_secs"` // during the measured phase
	Samples       []procfs.Sample `json:"samples,omitempty"`
}

// Phase is when the parent released the workers from a phase, in seconds
// since the start of the run.
type Phase struct {
	Name string  `json:"name"`
	At   float64 `json:"at"`
}

// Series is per-step data since the start of the run (the step is the
// sampling interval, 1 s unless -interval says otherwise).
type Series struct {
	Seconds   []float64 `json:"seconds"`
	Sent      []int64   `json:"sent"`      // messages written per step
	Delivered []int64   `json:"delivered"` // deliveries (or connections, for connect/idle) per step
	P50       []float64 `json:"p50_us"`    // latency of the messages intended in that second
	P99       []float64 `json:"p99_us"`
	Max       []float64 `json:"max_us"`
}

// step is the series' step in seconds (1 when unknown).
func (s Series) step() float64 {
	if len(s.Seconds) > 1 && s.Seconds[1] > s.Seconds[0] {
		return s.Seconds[1] - s.Seconds[0]
	}
	return 1
}

// WriteJSON writes r to path, indented.
func (r *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// ReadJSON reads a report written by WriteJSON.
func ReadJSON(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// SeriesOf turns a merged metrics.Series into per-second columns. delivered
// names the counter plotted as deliveries.
func SeriesOf(s *metrics.Series, delivered string) Series {
	n := s.Len()
	out := Series{}
	step := s.Step.Seconds()
	for i := range n {
		out.Seconds = append(out.Seconds, float64(i)*step)
		out.Sent = append(out.Sent, at(s.Counts["sent"], i))
		out.Delivered = append(out.Delivered, at(s.Counts[delivered], i))
		var p50, p99, mx float64
		if i < len(s.Lat) && s.Lat[i] != nil && s.Lat[i].Count() > 0 {
			p50, p99, mx = s.Lat[i].Quantile(50), s.Lat[i].Quantile(99), s.Lat[i].Max()
		}
		out.P50 = append(out.P50, p50)
		out.P99 = append(out.P99, p99)
		out.Max = append(out.Max, mx)
	}
	return out
}

func at(c []int64, i int) int64 {
	if i < len(c) {
		return c[i]
	}
	return 0
}
