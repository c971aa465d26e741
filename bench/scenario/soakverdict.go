package scenario

import (
	"fmt"
	"math"
	"strconv"

	"github.com/chatd/chatd/bench/check"
	"github.com/chatd/chatd/bench/metrics"
	"github.com/chatd/chatd/bench/report"
	"github.com/chatd/chatd/bench/trend"
)

// summarizeSoak is Summarize for soak: the counts, the promises the
// workers judged, and the flatness of the server's resources.
func summarizeSoak(cfg Config, results []Result, tl Timeline) (*report.Report, error) {
	datas := make([]metrics.Data, len(results))
	marks := map[string][]int64{}
	var notes []string
	for i, r := range results {
		datas[i] = r.Metrics
		for k, v := range r.Marks {
			marks[k] = append(marks[k], v)
		}
		for _, n := range r.Notes {
			notes = append(notes, fmt.Sprintf("worker %d: %s", r.Proc, n))
		}
	}
	set, err := metrics.MergeData(datas, tl.Epoch, cfg.Interval.D())
	if err != nil {
		return nil, err
	}
	c := set.Counters
	r := &report.Report{
		Scenario: cfg.Scenario, URL: cfg.URL, Started: tl.Epoch, Seconds: tl.End.Sub(tl.Epoch).Seconds(),
		Procs: cfg.Procs, Config: cfg,
		Conns:   report.Conns{Requested: cfg.Users(), Opened: c["logins"], Failed: c["login_retries"], Lost: c["v_closed"]},
		Latency: map[string]metrics.Summary{}, Curves: map[string][]metrics.Point{},
		Counters: c, Errors: set.Errors, Closes: map[string]int64{},
	}
	for code, n := range set.Closes {
		r.Closes[strconv.Itoa(code)] = n
	}
	for name, h := range set.Hists {
		r.Latency[name] = h.Summary()
		r.Curves[name] = h.Curve()
	}
	r.Series = report.SeriesOf(&set.Series, "delivered")
	for _, p := range tl.Phases {
		r.Phases = append(r.Phases, report.Phase{Name: p.Name, At: p.At.Sub(tl.Epoch).Seconds()})
	}
	s := summary{cfg: cfg, set: set, tl: tl, marks: marks, r: r}
	s.server()
	ready, _ := tl.phase(PhaseReady)
	sent, _ := tl.phase(PhaseSent)
	from := ready.At.Add(cfg.Warmup.D()).Sub(tl.Epoch).Seconds()
	to := sent.At.Sub(tl.Epoch).Seconds()
	r.Phases = append(r.Phases, report.Phase{Name: report.WarmupMark, At: from})
	r.Soak = &report.Soak{WarmupEnd: from, Resources: resources(tl)}
	s.soakMetrics(ready, sent)
	s.soakInvariants()
	s.flatness(from, to)
	r.Soak.Notes = append(r.Soak.Notes, notes...)
	r.Passed, r.Failed = check.Count(r.Invariants)
	return r, nil
}

// resources turns the parent's samples into columns (-1: not measured).
func resources(tl Timeline) report.Resources {
	var out report.Resources
	for i, h := range tl.Host {
		out.Seconds = append(out.Seconds, h.At.Sub(tl.Epoch).Seconds())
		out.Goroutines = append(out.Goroutines, h.Goroutines)
		out.Load1 = append(out.Load1, h.Load1)
		rss, fds, cpu := -1.0, -1.0, -1.0
		if i < len(tl.Samples) && tl.Samples[i].RSS > 0 { // 0: the read failed
			x := tl.Samples[i]
			rss, fds = float64(x.RSS)/(1<<20), float64(x.FDs)
			if i > 0 && tl.Samples[i-1].RSS > 0 {
				p := tl.Samples[i-1]
				if dt := x.At.Sub(p.At).Seconds(); dt > 0 {
					cpu = 100 * (x.CPU - p.CPU).Seconds() / dt
				}
			}
		}
		out.RSSMiB, out.FDs, out.CPUPercent = append(out.RSSMiB, rss), append(out.FDs, fds), append(out.CPUPercent, cpu)
	}
	return out
}

// soakMetrics lists the run's headline numbers.
func (s *summary) soakMetrics(ready, sent PhaseAt) {
	c := s.set.Counters
	secs := sent.At.Sub(ready.At).Seconds()
	per := func(n int64) float64 {
		if secs <= 0 {
			return 0
		}
		return float64(n) / secs
	}
	s.metric("users", float64(s.cfg.N), "")
	s.metric("traffic time", secs, "s")
	s.metric("sent/s (private+room+lobby)", per(c["sent"]), "msg/s")
	s.metric("deliveries/s", per(c["delivered"]), "/s")
	for _, k := range []string{"sent_private", "sent_room", "sent_lobby", "delivered_private", "delivered_room",
		"acks_delivered", "acks_stored", "offline_delivered", "redelivered", "excused_dropped", "unsure_not_read",
		"rerouted_late", "own_gaps", "beyond_history", "recovered", "logins", "logouts", "drops", "resumes",
		"login_retries", "joins", "leaves", "moves", "skipped", "send_failed"} {
		s.metric(k, float64(c[k]), "")
	}
}

// soakInvariants turns the workers' violation counters into invariants.
func (s *summary) soakInvariants() {
	c := s.set.Counters
	v := func(kinds ...string) (n int64) {
		for _, k := range kinds {
			n += c["v_"+k]
		}
		return n
	}
	add := func(name string, n int64, format string, args ...any) {
		s.r.Invariants = append(s.r.Invariants, check.Invariant{Name: name, Pass: n == 0, Detail: fmt.Sprintf(format, args...)})
	}
	add("every user logged in, every login worked", v("login"), "%d logins (%d resumes), %d retries, %d users gave up",
		c["logins"], c["resumes"], c["login_retries"], v("login"))
	add("no connection closed by the server", v("closed"), "%d closed; close codes %v", v("closed"), s.r.Closes)
	add("private: nothing lost", v("private_lost"),
		"%d lost of %d written (%d read, %d of them from the mailbox); not promised: %d delivered to a connection we dropped, %d written just before our drop",
		v("private_lost"), c["sent_private"], c["delivered_private"]-c["redelivered"], c["offline_delivered"], c["excused_dropped"], c["unsure_not_read"])
	add("rooms and lobby: nothing lost while a member", v("room_lost"),
		"%d seqs missing; %d room deliveries; explained: %d own messages; not promised: %d beyond the kept history",
		v("room_lost"), c["delivered_room"], c["own_gaps"], c["beyond_history"])
	add("exactly once", v("private_dup", "room_dup", "phantom"),
		"%d private duplicates, %d room duplicates, %d never written; allowed: %d mailbox messages sent again after a drop before their ack",
		v("private_dup"), v("room_dup"), v("phantom"), c["redelivered"])
	add("per-sender order kept", v("private_order", "room_order", "room_seq"),
		"%d private, %d room out of order, %d seqs given twice; allowed: %d rerouted private messages late",
		v("private_order"), v("room_order"), v("room_seq"), c["rerouted_late"])
	add("nothing reached a non-member", v("nonmember"), "%d deliveries outside membership", v("nonmember"))
	add("every private message answered, none refused", v("unanswered", "refused", "answer"),
		"%d unanswered after the deadline, %d refused, %d stray answers", v("unanswered"), v("refused"), v("answer"))
	add("resume and since recover every room", v("resume", "recovery"),
		"%d resumes without a room, %d joins with a wrong recovery; %d recovered", v("resume"), v("recovery"), c["recovered"])
	add("payloads intact, no server errors", v("corrupt", "server_error"), "%d corrupt, %d errors", v("corrupt"), v("server_error"))
}

// flatness judges the resources and the per-interval p99 between the end
// of the warm-up and the end of the traffic.
func (s *summary) flatness(from, to float64) {
	cfg, r := s.cfg, s.r
	res := r.Soak.Resources
	window := func(xs, ys []float64) ([]float64, []float64) {
		var wx, wy []float64
		for i := range xs {
			if xs[i] <= to && i < len(ys) {
				y := ys[i]
				if y < 0 {
					y = math.NaN()
				}
				wx, wy = append(wx, xs[i]), append(wy, y)
			}
		}
		return wx, wy
	}
	judge := func(inv, name, unit string, xs, ys []float64, lim trend.Limit) {
		wx, wy := window(xs, ys)
		t := trend.Judge(name, unit, wx, wy, from, lim)
		r.Soak.Flat = append(r.Soak.Flat, t)
		r.Invariants = append(r.Invariants, check.Invariant{Name: inv, Pass: t.Pass, Detail: t.Detail})
	}
	if len(cfg.PIDs) == 0 {
		r.Invariants = append(r.Invariants, check.Invariant{Name: "server resources sampled", Detail: "no -pid: RSS and fds not measured"})
	} else {
		judge("server RSS flat after warm-up", "rss", "MiB", res.Seconds, res.RSSMiB, trend.Limit{Ratio: cfg.RSSRatio, Slack: cfg.RSSSlackMiB})
		judge("server fds flat after warm-up", "fds", "fds", res.Seconds, res.FDs, trend.Limit{Ratio: cfg.FDRatio, Slack: cfg.FDSlack})
	}
	if cfg.Admin == "" {
		r.Soak.Notes = append(r.Soak.Notes, "goroutines not sampled: no -admin URL (chatd's admin.listen)")
	} else {
		judge("server goroutines flat after warm-up", "goroutines", "", res.Seconds, res.Goroutines,
			trend.Limit{Ratio: cfg.GoroutineRatio, Slack: cfg.GoroutineSlack})
	}
	p99 := make([]float64, len(r.Series.P99))
	for i, us := range r.Series.P99 {
		p99[i] = -1
		if us > 0 {
			p99[i] = us / 1000
		}
	}
	judge("p99 latency stable after warm-up", "p99", "ms", r.Series.Seconds, p99,
		trend.Limit{Ratio: cfg.P99Ratio, Slack: cfg.P99SlackMillis})
}
