package scenario

import (
	"strconv"
	"strings"
	"time"

	"github.com/chatd/chatd/bench/check"
	"github.com/chatd/chatd/bench/metrics"
	"github.com/chatd/chatd/bench/procfs"
	"github.com/chatd/chatd/bench/report"
)

// Timeline is what the parent saw of a run: when it released each phase,
// and the server samples (with PIDs; with several, each sample is their
// sum).
type Timeline struct {
	Epoch   time.Time // start of the run, time zero of every series
	End     time.Time
	Phases  []PhaseAt
	Before  *procfs.Sample // before any connection
	After   *procfs.Sample // after the run
	Samples []procfs.Sample
	// Host is sampled with Samples (soak): the machine's load and, with
	// an admin URL, the server's own gauges.
	Host []HostSample
}

// HostSample is what the parent saw besides /proc/PID at one instant.
type HostSample struct {
	At    time.Time `json:"at"`
	Load1 float64   `json:"load1"`
	// Goroutines is go_goroutines from the admin /metrics; -1 when not
	// scraped or the scrape failed.
	Goroutines float64 `json:"goroutines"`
}

// PhaseAt is one phase release, with the server sample taken then.
type PhaseAt struct {
	Name   string
	At     time.Time
	Sample *procfs.Sample
	// ClientCPU is the client's CPU time so far (user+system of the parent
	// and every worker process), 0 when unknown. On one box the client
	// competes with the server for the cores, so its cost is reported too.
	ClientCPU time.Duration
}

func (t Timeline) phase(name string) (PhaseAt, bool) {
	for _, p := range t.Phases {
		if p.Name == name {
			return p, true
		}
	}
	return PhaseAt{}, false
}

// cpuBetween is the server CPU time between two phases (or the start, "").
func (t Timeline) cpuBetween(from, to string) (time.Duration, bool) {
	sample := func(name string) *procfs.Sample {
		if name == "" {
			return t.Before
		}
		p, _ := t.phase(name)
		return p.Sample
	}
	a, b := sample(from), sample(to)
	if a == nil || b == nil {
		return 0, false
	}
	return b.CPU - a.CPU, true
}

// clientCPUBetween is the client's CPU time between two phases.
func (t Timeline) clientCPUBetween(from, to string) (time.Duration, bool) {
	a, ok1 := t.phase(from)
	b, ok2 := t.phase(to)
	if !ok1 || !ok2 || a.ClientCPU <= 0 || b.ClientCPU <= 0 {
		return 0, false
	}
	return b.ClientCPU - a.ClientCPU, true
}

// Summarize merges the workers' results into the run's report and checks
// the invariants.
func Summarize(cfg Config, results []Result, tl Timeline) (*report.Report, error) {
	if cfg.Scenario == Soak {
		return summarizeSoak(cfg, results, tl)
	}
	datas := make([]metrics.Data, len(results))
	parts := make([]check.Partial, len(results))
	marks := map[string][]int64{}
	var fan []Fanout
	for i, r := range results {
		datas[i], parts[i] = r.Metrics, r.Ledger
		for k, v := range r.Marks {
			marks[k] = append(marks[k], v)
		}
		fan = append(fan, r.Fanout...)
	}
	set, err := metrics.MergeData(datas, tl.Epoch, cfg.Interval.D())
	if err != nil {
		return nil, err
	}
	s := summary{cfg: cfg, set: set, tl: tl, marks: marks}
	r := &report.Report{
		Scenario: cfg.Scenario,
		URL:      cfg.URL,
		Started:  tl.Epoch,
		Seconds:  tl.End.Sub(tl.Epoch).Seconds(),
		Procs:    cfg.Procs,
		Config:   cfg,
		Conns: report.Conns{
			Requested: cfg.Users(),
			Opened:    set.Counters["opened"],
			Failed:    set.Counters["failed"],
			Lost:      set.Counters["lost"],
		},
		Latency:  map[string]metrics.Summary{},
		Curves:   map[string][]metrics.Point{},
		Counters: set.Counters,
		Errors:   set.Errors,
		Closes:   map[string]int64{},
	}
	s.r = r
	for code, n := range set.Closes {
		r.Closes[strconv.Itoa(code)] = n
	}
	if cfg.Scenario == Room {
		s.fanout(fan)
	}
	for name, h := range set.Hists {
		r.Latency[name] = h.Summary()
		r.Curves[name] = h.Curve()
	}
	delivered := "delivered"
	if cfg.Scenario == Connect || cfg.Scenario == Idle {
		delivered = "opened"
	}
	r.Series = report.SeriesOf(&set.Series, delivered)
	for _, p := range tl.Phases {
		r.Phases = append(r.Phases, report.Phase{Name: p.Name, At: p.At.Sub(tl.Epoch).Seconds()})
	}
	s.server()
	s.metrics()
	s.invariants(parts)
	r.Passed, r.Failed = check.Count(r.Invariants)
	return r, nil
}

// summary is Summarize's working state.
type summary struct {
	cfg   Config
	set   *metrics.Set
	tl    Timeline
	marks map[string][]int64
	r     *report.Report
}

func (s *summary) metric(name string, v float64, unit string) {
	s.r.Metrics = append(s.r.Metrics, report.Metric{Name: name, Value: v, Unit: unit})
}

// first and last are the earliest and the latest of a mark over the workers.
func (s *summary) first(name string) (time.Time, bool) {
	v := s.marks[name]
	if len(v) == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, minOf(v)), true
}

func (s *summary) last(name string) (time.Time, bool) {
	v := s.marks[name]
	if len(v) == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, maxOf(v)), true
}

// rate is n per second over [from, to].
func rate(n int64, from, to time.Time) float64 {
	d := to.Sub(from).Seconds()
	if d <= 0 {
		return 0
	}
	return float64(n) / d
}

// fanout turns the workers' per-message records into the first- and
// last-member histograms, for the messages intended after the warm-up.
func (s *summary) fanout(recs []Fanout) {
	type agg struct{ at, first, last, n int64 }
	all := map[fanKey]*agg{}
	for _, f := range recs {
		k := fanKey{f.Stream, f.Seq}
		a := all[k]
		if a == nil {
			all[k] = &agg{f.At, f.First, f.Last, f.N}
			continue
		}
		a.first, a.last, a.n = min(a.first, f.First), max(a.last, f.Last), a.n+f.N
	}
	ready, _ := s.tl.phase(PhaseReady)
	from := ready.At.Add(s.cfg.Warmup.D()).UnixNano()
	first, last := s.set.Hist("first_member"), s.set.Hist("last_member")
	for _, a := range all {
		if a.at < from {
			continue
		}
		first.Record(time.Duration(a.first - a.at))
		last.Record(time.Duration(a.last - a.at))
	}
}

// server fills the server section from the samples.
func (s *summary) server() {
	tl := s.tl
	if tl.Before == nil || len(s.cfg.PIDs) == 0 {
		return
	}
	held := tl.After
	heldPhase := map[string]string{Idle: PhaseReady, Connect: PhaseReady, Echo: PhaseMeasured,
		Private: PhaseSent, Room: PhaseSent, Mailbox: PhaseDrained}[s.cfg.Scenario]
	if p, ok := tl.phase(heldPhase); ok && p.Sample != nil {
		held = p.Sample
	}
	srv := &report.Server{
		PID:       s.cfg.PIDs[0],
		RSSBefore: tl.Before.RSS, FDsBefore: tl.Before.FDs, ThreadsBefore: tl.Before.Threads,
		Samples: tl.Samples,
	}
	if len(s.cfg.PIDs) > 1 {
		srv.PIDs = s.cfg.PIDs
	}
	if held != nil {
		srv.RSSHeld, srv.FDsHeld, srv.ThreadsHeld = held.RSS, held.FDs, held.Threads
	}
	if tl.After != nil {
		srv.RSSAfter = tl.After.RSS
	}
	for _, x := range tl.Samples {
		srv.RSSPeak = max(srv.RSSPeak, x.RSS)
	}
	if tl.After != nil {
		srv.CPUSecs = (tl.After.CPU - tl.Before.CPU).Seconds()
	}
	s.r.Server = srv
}

// refused counts the server's error replies.
func (s *summary) refused() (n int64, first string) {
	for cause, c := range s.set.Errors {
		if strings.HasPrefix(cause, "server: ") {
			n += c
			if first == "" || cause < first {
				first = cause
			}
		}
	}
	return n, first
}

func minOf(v []int64) int64 {
	m := v[0]
	for _, x := range v[1:] {
		m = min(m, x)
	}
	return m
}

func maxOf(v []int64) int64 {
	m := v[0]
	for _, x := range v[1:] {
		m = max(m, x)
	}
	return m
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
