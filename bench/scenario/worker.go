package scenario

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"net/netip"

	"github.com/chatd/chatd/bench/check"
	"github.com/chatd/chatd/bench/metrics"
	"github.com/chatd/chatd/bench/wsconn"
)

// Coord is a worker's link to the parent that runs the whole fleet.
type Coord interface {
	// Sync reports that this worker reached phase and blocks until the
	// parent releases it, which it does once every worker got there. It
	// returns the release time.
	Sync(ctx context.Context, phase string) (time.Time, error)
	// Progress reports live counters. It must not block for long.
	Progress(p Progress)
}

// Progress is a worker's live counters, for the progress display.
type Progress struct {
	Conns     int64 `json:"conns"`  // open now
	Opened    int64 `json:"opened"` // so far
	Sent      int64 `json:"sent"`
	Delivered int64 `json:"delivered"`
	Errors    int64 `json:"errors"`
}

// Shard is one worker's share of the users: global indexes First … First+N-1.
type Shard struct {
	Proc  int `json:"proc"`
	Procs int `json:"procs"`
	First int `json:"first"`
	N     int `json:"n"`
}

// Shards splits the users of cfg over cfg.Procs workers.
func Shards(cfg Config) []Shard {
	users, procs := cfg.Users(), cfg.Procs
	out := make([]Shard, procs)
	first := 0
	for p := range procs {
		n := users / procs
		if p < users%procs {
			n++
		}
		out[p] = Shard{Proc: p, Procs: procs, First: first, N: n}
		first += n
	}
	return out
}

// Job is what one worker runs.
type Job struct {
	Config Config    `json:"config"`
	Shard  Shard     `json:"shard"`
	Epoch  time.Time `json:"epoch"` // time zero of every series
}

// Result is what one worker measured.
type Result struct {
	Proc    int           `json:"proc"`
	Metrics metrics.Data  `json:"metrics"`
	Ledger  check.Partial `json:"ledger"`
	Fanout  []Fanout      `json:"fanout,omitempty"`
	// Marks are named instants in Unix nanoseconds (see the scenarios).
	Marks map[string]int64 `json:"marks,omitempty"`
	// Notes are the first broken promises a soak worker saw, as text.
	Notes []string `json:"notes,omitempty"`
}

// worker is the state of one running Job.
//
// Concurrency: the run goroutine owns the scenario's flow; readers (one
// per connection) and senders touch only the atomic fields, the Recorder,
// the fanout and their own user.
type worker struct {
	cfg   Config
	shard Shard
	epoch time.Time
	coord Coord
	// dialers has one Dialer per URL; user i dials dialers[spread.node(i)].
	dialers []*wsconn.Dialer
	spread  spread
	rec     *metrics.Recorder
	plan    check.Plan
	fan     *fanout // room only

	live struct {
		conns, opened, sent, delivered, errors atomic.Int64
	}
	lastDelivery atomic.Int64 // Unix ns
	measureFrom  atomic.Int64 // Unix ns; earlier intended times are not measured
	measureTo    atomic.Int64 // Unix ns; 0: open-ended
	closing      atomic.Bool  // connection ends are ours from now on
	readers      sync.WaitGroup

	corrupt  atomic.Int64
	corruptX atomic.Pointer[string] // first corrupt payload

	marksMu sync.Mutex // guards marks
	marks   map[string]int64

	notes []string // soak: the first violations, set by the run goroutine
}

// Run runs job and returns what it measured. It returns an error only when
// the run could not go on (the parent went away, ctx ended); failures of
// the server under test are measurements.
func Run(ctx context.Context, job Job, coord Coord) (Result, error) {
	cfg := job.Config
	src, err := netip.ParseAddr(cfg.Src)
	if err != nil {
		return Result{}, fmt.Errorf("src: %w", err)
	}
	w := &worker{
		cfg:    cfg,
		shard:  job.Shard,
		epoch:  job.Epoch,
		coord:  coord,
		spread: cfg.spread(),
		rec:    metrics.NewRecorder(job.Epoch, cfg.Interval.D()),
		plan:   PlanFor(cfg),
		marks:  map[string]int64{},
	}
	tlsCfg, err := cfg.tlsConfig()
	if err != nil {
		return Result{}, err
	}
	for _, u := range cfg.URLs() {
		w.dialers = append(w.dialers, &wsconn.Dialer{
			URL:     u,
			Sources: wsconn.Sources{First: src, PerSource: cfg.PerSrc},
			Timeout: cfg.Timeout.D(),
			TLS:     tlsCfg,
		})
	}
	if len(w.dialers) == 0 {
		return Result{}, fmt.Errorf("url %q: no endpoint", cfg.URL)
	}
	stop := w.reportProgress(ctx)
	var users []*user
	switch cfg.Scenario {
	case Connect:
		users, err = w.connect(ctx)
	case Idle:
		users, err = w.idle(ctx)
	case Echo:
		users, err = w.echo(ctx)
	case Private:
		users, err = w.private(ctx)
	case Room:
		users, err = w.room(ctx)
	case Mailbox:
		users, err = w.mailbox(ctx)
	case Soak:
		err = w.soak(ctx)
	default:
		err = fmt.Errorf("unknown scenario %q", cfg.Scenario)
	}
	w.closeAll(users)
	stop()
	if err != nil {
		return Result{}, err
	}
	return w.result(users)
}

// reportProgress sends live counters every interval until the returned
// function is called.
func (w *worker) reportProgress(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(min(w.cfg.Interval.D(), 500*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				w.coord.Progress(w.progress())
			}
		}
	}()
	return func() { cancel(); <-done; w.coord.Progress(w.progress()) }
}

func (w *worker) progress() Progress {
	return Progress{
		Conns: w.live.conns.Load(), Opened: w.live.opened.Load(), Sent: w.live.sent.Load(),
		Delivered: w.live.delivered.Load(), Errors: w.live.errors.Load(),
	}
}

// mark records a named instant.
func (w *worker) mark(name string, t time.Time) {
	w.marksMu.Lock()
	defer w.marksMu.Unlock()
	w.marks[name] = t.UnixNano()
}

// error counts one error of cause.
func (w *worker) error(key int, cause string) {
	w.live.errors.Add(1)
	w.rec.Error(key, cause)
}

// measured reports whether a message intended at at is inside the
// measured window.
func (w *worker) measured(at time.Time) bool {
	ns := at.UnixNano()
	to := w.measureTo.Load()
	return ns >= w.measureFrom.Load() && (to == 0 || ns < to)
}

// corruptPayload counts a payload that did not parse or did not match.
func (w *worker) corruptPayload(p []byte) {
	w.corrupt.Add(1)
	ex := string(p[:min(len(p), 120)])
	w.corruptX.CompareAndSwap(nil, &ex)
}

// closeAll closes every connection and waits for the readers.
func (w *worker) closeAll(users []*user) {
	w.closing.Store(true)
	for _, u := range users {
		if u != nil {
			u.c.Close()
		}
	}
	w.readers.Wait()
}

// result assembles the Result once the readers are done.
func (w *worker) result(users []*user) (Result, error) {
	set := w.rec.Set()
	data, err := set.Data()
	if err != nil {
		return Result{}, err
	}
	res := Result{Proc: w.shard.Proc, Metrics: data, Marks: w.marks, Notes: w.notes}
	if v := w.lastDelivery.Load(); v != 0 {
		res.Marks["last_delivery"] = v
	}
	for _, u := range users {
		if u == nil {
			continue
		}
		res.Ledger.Sent = append(res.Ledger.Sent, u.out.Sent()...)
		if u.inbox != nil {
			res.Ledger.Tracks = append(res.Ledger.Tracks, u.inbox.Tracks()...)
		}
	}
	res.Ledger.Corrupt = w.corrupt.Load()
	if x := w.corruptX.Load(); x != nil {
		res.Ledger.CorruptExample = *x
	}
	if w.fan != nil {
		res.Fanout = w.fan.records()
	}
	return res, nil
}

// drain waits until nothing was delivered for cfg.Quiet (counted from
// since at the earliest), or cfg.Drain passed.
func (w *worker) drain(ctx context.Context, since time.Time) {
	deadline := since.Add(w.cfg.Drain.D())
	quiet := w.cfg.Quiet.D()
	for ctx.Err() == nil {
		now := time.Now()
		last := since
		if t := time.Unix(0, w.lastDelivery.Load()); t.After(last) {
			last = t
		}
		if now.Sub(last) >= quiet || now.After(deadline) {
			return
		}
		sleep(ctx, min(quiet/10, 100*time.Millisecond))
	}
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
