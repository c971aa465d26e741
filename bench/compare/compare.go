package compare

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"

	"github.com/chatd/chatd/bench/report"
	"github.com/chatd/chatd/bench/scenario"
)

// Runner runs one scenario and returns its report (cmd/chatbench's run).
type Runner func(ctx context.Context, cfg scenario.Config) (*report.Report, error)

// Options configure Compare and Suite.
type Options struct {
	Chatd        string   // chatd binary
	Baseline     string   // baseline binary
	ServerConfig string   // chatd config template; "" for a built-in one
	Servers      []string // default: chatd and baseline
	Reps         int      // repetitions; default 3
	Dir          string   // work directory for configs, logs and reports
	Run          Runner
	Out          io.Writer // tables
	Log          io.Writer // one line per run
}

// Run is one repetition on one server.
type Run struct {
	Server string
	Rep    int
	Report *report.Report // nil when the run failed
	Err    error
}

// Comparison is the outcome of Compare.
type Comparison struct {
	Scenario string
	Runs     []Run
}

// Compare runs cfg against every server, opt.Reps times, alternating the
// order, each time on a freshly started server.
func Compare(ctx context.Context, opt Options, cfg scenario.Config) (*Comparison, error) {
	if err := OneURL(cfg); err != nil {
		return nil, err
	}
	servers := opt.Servers
	if len(servers) == 0 {
		servers = []string{Chatd, Baseline}
	}
	reps := max(opt.Reps, 1)
	if err := os.MkdirAll(opt.Dir, 0o755); err != nil {
		return nil, err
	}
	cmp := &Comparison{Scenario: cfg.Scenario}
	n := 0
	for rep := range reps {
		order := slices.Clone(servers)
		if rep%2 == 1 {
			slices.Reverse(order)
		}
		for _, name := range order {
			if ctx.Err() != nil {
				return cmp, ctx.Err()
			}
			n++
			run := Run{Server: name, Rep: rep}
			run.Report, run.Err = runOn(ctx, opt, cfg, name, n)
			cmp.Runs = append(cmp.Runs, run)
			if opt.Log != nil {
				if run.Err != nil {
					fmt.Fprintf(opt.Log, "%s %s rep %d: %v\n", cfg.Scenario, name, rep+1, run.Err)
				} else {
					fmt.Fprintf(opt.Log, "%s %s rep %d: %d passed, %d failed\n", cfg.Scenario, name, rep+1, run.Report.Passed, run.Report.Failed)
				}
			}
		}
	}
	return cmp, nil
}

// OneURL reports an error when cfg names several URLs: Compare starts one
// server per run and points cfg's URL at it.
func OneURL(cfg scenario.Config) error {
	if n := len(cfg.URLs()); n > 1 {
		return fmt.Errorf("compare runs one server at a time: give one -url, not %d", n)
	}
	return nil
}

// runOn starts a fresh server, runs cfg against it and stops it.
func runOn(ctx context.Context, opt Options, cfg scenario.Config, name string, n int) (*report.Report, error) {
	srv, err := startServer(ctx, opt, name, opt.Dir, n)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, err
	}
	u.Host = srv.addr
	cfg.URL = u.String()
	cfg.PIDs = scenario.PIDs{srv.pid()}
	cfg.Out = filepath.Join(opt.Dir, fmt.Sprintf("%s-%s-%d.json", cfg.Scenario, name, n))
	cfg.Plots = ""
	r, err := opt.Run(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := r.WriteJSON(cfg.Out); err != nil {
		return r, err
	}
	return r, nil
}

// Row is one metric across the servers: the median of each server's runs.
type Row struct {
	Metric string
	Unit   string
	Median map[string]float64
	Runs   map[string]int // runs with this metric
}

// Rows computes the medians of every metric, plus the latency p50 and p99
// of the scenario's main histogram.
func (c *Comparison) Rows() []Row {
	var rows []Row
	index := map[string]int{}
	values := map[string]map[string][]float64{}
	add := func(metric, unit, server string, v float64) {
		if _, ok := index[metric]; !ok {
			index[metric] = len(rows)
			rows = append(rows, Row{Metric: metric, Unit: unit, Median: map[string]float64{}, Runs: map[string]int{}})
			values[metric] = map[string][]float64{}
		}
		values[metric][server] = append(values[metric][server], v)
	}
	for _, run := range c.Runs {
		if run.Report == nil {
			continue
		}
		for _, m := range run.Report.Metrics {
			add(m.Name, m.Unit, run.Server, m.Value)
		}
		for _, h := range []string{"latency", "drain", "connect"} {
			if s, ok := run.Report.Latency[h]; ok && s.Count > 0 {
				add(h+" p50", "ms", run.Server, s.P50/1000)
				add(h+" p99", "ms", run.Server, s.P99/1000)
				break
			}
		}
		if s, ok := run.Report.Latency["last_member"]; ok && s.Count > 0 {
			add("last member p99", "ms", run.Server, s.P99/1000)
		}
		add("invariants failed", "", run.Server, float64(run.Report.Failed))
	}
	for i := range rows {
		for server, vs := range values[rows[i].Metric] {
			rows[i].Median[server] = median(vs)
			rows[i].Runs[server] = len(vs)
		}
	}
	return rows
}

// median of vs (the mean of the middle two for an even count).
func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Print writes the medians of every metric per server and the ratio
// chatd / baseline.
func (c *Comparison) Print(w io.Writer) {
	servers := []string{}
	for _, r := range c.Runs {
		if !slices.Contains(servers, r.Server) {
			servers = append(servers, r.Server)
		}
	}
	slices.Sort(servers) // baseline, chatd
	slices.Reverse(servers)
	fmt.Fprintf(w, "compare %s: medians over %d run(s)\n", c.Scenario, len(c.Runs))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "  metric\t")
	for _, s := range servers {
		fmt.Fprintf(tw, "%s\t", s)
	}
	if len(servers) == 2 {
		fmt.Fprintf(tw, "%s/%s\t", servers[0], servers[1])
	}
	fmt.Fprintln(tw, " unit\t")
	for _, row := range c.Rows() {
		fmt.Fprintf(tw, "  %s\t", row.Metric)
		for _, s := range servers {
			if row.Runs[s] == 0 {
				fmt.Fprint(tw, "-\t")
			} else {
				fmt.Fprintf(tw, "%s\t", report.Number(row.Median[s]))
			}
		}
		if len(servers) == 2 {
			a, b := row.Median[servers[0]], row.Median[servers[1]]
			if row.Runs[servers[0]] > 0 && row.Runs[servers[1]] > 0 && b != 0 {
				fmt.Fprintf(tw, "%.2f\t", a/b)
			} else {
				fmt.Fprint(tw, "-\t")
			}
		}
		fmt.Fprintf(tw, " %s\t\n", row.Unit)
	}
	tw.Flush()
	for _, r := range c.Runs {
		if r.Err != nil {
			fmt.Fprintf(w, "  %s rep %d failed: %v\n", r.Server, r.Rep+1, r.Err)
		}
	}
}

// Invariants counts the invariants over every run; a run that could not
// finish counts as one failure.
func (c *Comparison) Invariants() (passed, failed int) {
	for _, r := range c.Runs {
		if r.Report == nil {
			failed++
			continue
		}
		passed += r.Report.Passed
		failed += r.Report.Failed
	}
	return passed, failed
}
