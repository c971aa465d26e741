package fleet

import (
	"bufio"
	"context"
	"encoding/json"

	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/chatd/chatd/bench/procfs"
	"github.com/chatd/chatd/bench/scenario"
)

// Options are the parent's seams and knobs.
type Options struct {
	// Exe is the binary started as "Exe worker" for each shard. Default:
	// this process's own executable. Unused with one shard unless Exec.
	Exe string
	// Exec starts a child process even for a single shard.
	Exec bool
	// Hold is how long the parent holds the workers at phase before it
	// releases them. Default: not at all.
	Hold func(phase string) time.Duration
	// Progress is called with the current phase and the workers' summed
	// counters whenever they change. It runs on the parent's loop.
	Progress func(phase string, p scenario.Progress)
	// Stderr receives the workers' standard error. Default os.Stderr.
	Stderr io.Writer
}

// event is one line from worker i, or its end (err set, io.EOF when clean).
type event struct {
	i   int
	msg fromWorker
	err error
}

// handle is a started worker.
type handle struct {
	in  io.WriteCloser
	enc *json.Encoder
	pid int    // the child process; 0 for a worker in this process
	end func() // waits for the worker to exit, killing it if it lingers
}

// Run runs cfg (which went through WithDefaults) over cfg.Procs workers and
// returns their results and the parent's timeline.
func Run(ctx context.Context, cfg scenario.Config, opt Options) ([]scenario.Result, scenario.Timeline, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tl := scenario.Timeline{Epoch: time.Now()}
	// With several PIDs (the nodes of a cluster) every sample is their sum.
	host := newHostSampler(cfg)
	defer host.close()
	sample := func() *procfs.Sample {
		if host != nil {
			tl.Host = append(tl.Host, host.sample(ctx))
		}
		if len(cfg.PIDs) == 0 {
			return nil
		}
		s, err := procfs.ReadSum(cfg.PIDs)
		if err != nil {
			if host != nil { // keep Samples aligned with Host: zeros are "not measured"
				tl.Samples = append(tl.Samples, procfs.Sample{At: time.Now()})
			}
			return nil
		}
		tl.Samples = append(tl.Samples, s)
		return &s
	}
	if len(cfg.PIDs) > 0 {
		s, err := procfs.ReadSum(cfg.PIDs)
		if err != nil {
			return nil, tl, fmt.Errorf("-pid %s: %w", cfg.PIDs, err)
		}
		tl.Before = &s
	}

	shards := scenario.Shards(cfg)
	events := make(chan event, 64)
	workers := make([]handle, 0, len(shards))
	defer func() {
		cancel()
		for _, w := range workers {
			w.in.Close()
		}
		for _, w := range workers {
			w.end()
		}
	}()
	for _, sh := range shards {
		w, err := start(ctx, len(workers), len(shards) > 1 || opt.Exec, opt, events)
		if err != nil {
			return nil, tl, err
		}
		workers = append(workers, w)
		job := scenario.Job{Config: cfg, Shard: sh, Epoch: tl.Epoch}
		if err := w.enc.Encode(toWorker{Job: &job}); err != nil {
			return nil, tl, fmt.Errorf("send job to worker %d: %w", sh.Proc, err)
		}
	}

	results := make([]scenario.Result, len(shards))
	got := 0
	progress := make([]scenario.Progress, len(shards))
	reached := map[string]int{}
	phase := "connecting"
	var hold <-chan time.Time
	holding := ""
	tick := time.NewTicker(cfg.Interval.D())
	defer tick.Stop()
	release := func(name string) error {
		at := time.Now()
		tl.Phases = append(tl.Phases, scenario.PhaseAt{Name: name, At: at, Sample: sample(), ClientCPU: clientCPU(workers)})
		for i, w := range workers {
			if err := w.enc.Encode(toWorker{Release: name, At: at}); err != nil {
				return fmt.Errorf("release worker %d from %s: %w", i, name, err)
			}
		}
		phase = "after " + name
		return nil
	}
	for got < len(shards) {
		select {
		case <-ctx.Done():
			return nil, tl, ctx.Err()
		case <-tick.C:
			sample()
		case <-hold:
			hold = nil
			if err := release(holding); err != nil {
				return nil, tl, err
			}
		case ev := <-events:
			switch m := ev.msg; {
			case ev.err != nil:
				return nil, tl, fmt.Errorf("worker %d ended without a result: %w", ev.i, ev.err)
			case m.Error != "":
				return nil, tl, fmt.Errorf("worker %d: %s", ev.i, m.Error)
			case m.Progress != nil:
				progress[ev.i] = *m.Progress
				if opt.Progress != nil {
					opt.Progress(phase, sum(progress))
				}
			case m.Sync != "":
				reached[m.Sync]++
				if reached[m.Sync] < len(shards) {
					continue
				}
				phase = m.Sync
				d := time.Duration(0)
				if opt.Hold != nil {
					d = opt.Hold(m.Sync)
				}
				if d <= 0 {
					if err := release(m.Sync); err != nil {
						return nil, tl, err
					}
					continue
				}
				phase = fmt.Sprintf("holding %s for %v", m.Sync, d)
				holding, hold = m.Sync, time.After(d)
			case m.Result != nil:
				results[ev.i] = *m.Result
				got++
			}
		}
	}
	tl.End = time.Now()
	if s := sample(); s != nil {
		tl.After = s
	}
	return results, tl, nil
}

// clientCPU is the CPU time (user+system) the client has used so far: this
// process and every worker process. It is 0 when a reading failed. The
// workers are alive while they wait at a phase, so a release can read them.
func clientCPU(workers []handle) time.Duration {
	total, err := procfs.CPUTime(os.Getpid())
	if err != nil {
		return 0
	}
	for _, w := range workers {
		if w.pid == 0 {
			continue
		}
		d, err := procfs.CPUTime(w.pid)
		if err != nil {
			return 0
		}
		total += d
	}
	return total
}

func sum(ps []scenario.Progress) scenario.Progress {
	var t scenario.Progress
	for _, p := range ps {
		t.Conns += p.Conns
		t.Opened += p.Opened
		t.Sent += p.Sent
		t.Delivered += p.Delivered
		t.Errors += p.Errors
	}
	return t
}

// start starts worker i, in a child process or in this one, and forwards
// its lines to events.
func start(ctx context.Context, i int, child bool, opt Options, events chan<- event) (handle, error) {
	var (
		in  io.WriteCloser
		out io.ReadCloser
		pid int
		end func()
	)
	if child {
		exe := opt.Exe
		if exe == "" {
			var err error
			if exe, err = os.Executable(); err != nil {
				return handle{}, fmt.Errorf("find own binary to start workers: %w", err)
			}
		}
		cmd := exec.Command(exe, "worker")
		cmd.Stderr = opt.Stderr
		if cmd.Stderr == nil {
			cmd.Stderr = os.Stderr
		}
		var err error
		if in, err = cmd.StdinPipe(); err != nil {
			return handle{}, err
		}
		if out, err = cmd.StdoutPipe(); err != nil {
			return handle{}, err
		}
		if err := cmd.Start(); err != nil {
			return handle{}, fmt.Errorf("start worker %d: %w", i, err)
		}
		pid = cmd.Process.Pid
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		end = func() {
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
		}
	} else {
		inR, inW := io.Pipe()
		outR, outW := io.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			err := Serve(ctx, inR, outW)
			if err == nil {
				err = io.EOF
			}
			outW.CloseWithError(err)
		}()
		in, out = inW, outR
		end = func() { outR.Close(); <-done }
	}
	go func() {
		lines := bufio.NewScanner(out)
		lines.Buffer(make([]byte, 64<<10), maxLine)
		for lines.Scan() {
			var m fromWorker
			if err := json.Unmarshal(lines.Bytes(), &m); err != nil {
				if !send(ctx, events, event{i: i, err: fmt.Errorf("bad line from worker: %w", err)}) {
					return
				}
				continue
			}
			if !send(ctx, events, event{i: i, msg: m}) {
				return
			}
			if m.Result != nil || m.Error != "" {
				return
			}
		}
		err := lines.Err()
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		send(ctx, events, event{i: i, err: err})
	}()
	return handle{in: in, enc: json.NewEncoder(in), pid: pid, end: end}, nil
}

func send(ctx context.Context, events chan<- event, ev event) bool {
	select {
	case events <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}
