package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/chatd/chatd/bench/procfs"
)

// maxConnsPerProcess keeps one client process under the 20,000 open-file
// cap with room for its own few descriptors.
const maxConnsPerProcess = 19000

// readyTimeout bounds opening the connections; the run is meant to stay
// well under a minute.
const readyTimeout = 60 * time.Second

// idleConfig configures idle mode.
type idleConfig struct {
	dialer   dialer
	n        int           // connections in all
	procs    int           // client processes (>= 1)
	dials    int           // concurrent dials per process
	pid      int           // server process to sample; 0: none
	hold     time.Duration // how long the connections are held and sampled
	interval time.Duration // sampling interval during hold
	worker   []string      // flags every child worker gets (url, sources, …)
}

// idleResult is what idle mode reports.
type idleResult struct {
	Mode        string  `json:"mode"`
	URL         string  `json:"url"`
	Conns       int     `json:"conns"`  // requested
	Opened      int     `json:"opened"` // opened and echoed once
	Failed      int     `json:"failed"`
	Alive       int     `json:"alive"` // echoed again after the hold
	Procs       int     `json:"procs"`
	ConnectSecs float64 `json:"connect_secs"`
	ConnectRate float64 `json:"connect_per_sec"`
	// ConnectCPU is the server's CPU time per opened connection while they
	// were opened: accept, handshake, registration and one echo.
	ConnectCPU    float64 `json:"server_cpu_us_per_connect"`
	HoldSecs      float64 `json:"hold_secs"`
	RSSBefore     int64   `json:"rss_before"` // bytes, before connecting
	RSSAfter      int64   `json:"rss_after"`  // bytes, last sample of the hold
	RSSPeak       int64   `json:"rss_peak"`
	BytesPerConn  float64 `json:"rss_bytes_per_conn"` // (RSSAfter-RSSBefore)/Opened
	FDsBefore     int     `json:"fds_before"`
	FDsAfter      int     `json:"fds_after"`
	ThreadsBefore int     `json:"threads_before"`
	ThreadsAfter  int     `json:"threads_after"`
	FirstErr      string  `json:"first_err,omitempty"`
}

// workerHandle is a running worker as the parent sees it.
type workerHandle struct {
	dec    *json.Decoder
	finish io.Writer // any line tells the worker to finish
	// end makes the worker exit, if it has not, and waits for it.
	end func()
}

// runIdle opens cfg.n connections over cfg.procs workers, samples the server
// during the hold and reports. progress receives one line per sample.
func runIdle(ctx context.Context, cfg idleConfig, progress io.Writer) (idleResult, error) {
	res := idleResult{Mode: "idle", URL: cfg.dialer.url, Conns: cfg.n, Procs: cfg.procs}
	var cpu0 time.Duration
	if cfg.pid > 0 {
		before, err := procfs.Read(cfg.pid)
		if err != nil {
			return res, err
		}
		res.RSSBefore, res.FDsBefore, res.ThreadsBefore = before.RSS, before.FDs, before.Threads
		if cpu0, err = procfs.CPUTime(cfg.pid); err != nil {
			return res, err
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := make([]workerHandle, 0, cfg.procs)
	finished := false
	defer func() {
		if !finished {
			cancel() // stops in-process workers, kills child processes
		}
		for _, w := range workers {
			w.end()
		}
	}()
	start := time.Now()
	first := 0
	for p := range cfg.procs {
		n := cfg.n / cfg.procs
		if p < cfg.n%cfg.procs {
			n++
		}
		job := workerJob{dialer: cfg.dialer, first: first, n: n, dials: cfg.dials}
		w, err := startWorker(ctx, cfg, job)
		if err != nil {
			return res, err
		}
		workers = append(workers, w)
		first += n
	}

	readyCtx, readyCancel := context.WithTimeout(ctx, readyTimeout)
	defer readyCancel()
	for _, w := range workers {
		r, err := readReport(readyCtx, w, "ready")
		if err != nil {
			return res, err
		}
		res.Opened += r.Opened
		res.Failed += r.Failed
		if res.FirstErr == "" {
			res.FirstErr = r.FirstErr
		}
	}
	res.ConnectSecs = time.Since(start).Seconds()
	res.ConnectRate = float64(res.Opened) / res.ConnectSecs
	if cfg.pid > 0 && res.Opened > 0 {
		cpu1, err := procfs.CPUTime(cfg.pid)
		if err != nil {
			return res, err
		}
		res.ConnectCPU = micros(cpu1-cpu0) / float64(res.Opened)
	}
	fmt.Fprintf(progress, "opened %d of %d connections in %.2fs (%.0f/s), %d failed\n",
		res.Opened, res.Conns, res.ConnectSecs, res.ConnectRate, res.Failed)

	holdStart := time.Now()
	if cfg.pid > 0 {
		tick := time.NewTicker(cfg.interval)
		for time.Since(holdStart) < cfg.hold {
			select {
			case <-ctx.Done():
				tick.Stop()
				return res, ctx.Err()
			case <-tick.C:
			}
			s, err := procfs.Read(cfg.pid)
			if err != nil {
				tick.Stop()
				return res, fmt.Errorf("during hold: %w", err)
			}
			res.RSSAfter, res.FDsAfter, res.ThreadsAfter = s.RSS, s.FDs, s.Threads
			res.RSSPeak = max(res.RSSPeak, s.RSS)
			fmt.Fprintf(progress, "t=%4.1fs server rss=%7.1f MiB fds=%6d threads=%3d\n",
				time.Since(holdStart).Seconds(), mib(s.RSS), s.FDs, s.Threads)
		}
		tick.Stop()
	} else {
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(cfg.hold):
		}
	}
	res.HoldSecs = time.Since(holdStart).Seconds()

	for _, w := range workers {
		if _, err := io.WriteString(w.finish, "finish\n"); err != nil {
			return res, fmt.Errorf("tell worker to finish: %w", err)
		}
	}
	for _, w := range workers {
		r, err := readReport(ctx, w, "done")
		if err != nil {
			return res, err
		}
		res.Alive += r.Alive
		if r.FirstErr != "" && res.FirstErr == "" {
			res.FirstErr = r.FirstErr
		}
	}
	finished = true
	if cfg.pid > 0 && res.Opened > 0 {
		res.BytesPerConn = float64(res.RSSAfter-res.RSSBefore) / float64(res.Opened)
	}
	return res, nil
}

// startWorker runs job in this process when there is one worker, otherwise
// in a child process running this same binary with -worker.
func startWorker(ctx context.Context, cfg idleConfig, job workerJob) (workerHandle, error) {
	if cfg.procs == 1 {
		inR, inW := io.Pipe()
		outR, outW := io.Pipe()
		done := make(chan struct{})
		go func() {
			err := runWorker(ctx, job, inR, outW)
			if err == nil {
				err = io.EOF // the parent's decoder sees a clean end
			}
			outW.CloseWithError(err)
			inR.Close()
			close(done)
		}()
		end := func() {
			inW.Close()
			outR.Close() // a report nobody reads any more must not block
			<-done
		}
		return workerHandle{dec: json.NewDecoder(outR), finish: inW, end: end}, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return workerHandle{}, fmt.Errorf("find own binary to start workers: %w", err)
	}
	args := append([]string{"-worker", "-first", strconv.Itoa(job.first), "-n", strconv.Itoa(job.n)}, cfg.worker...)
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Stderr = os.Stderr
	cmd.WaitDelay = 5 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return workerHandle{}, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return workerHandle{}, err
	}
	if err := cmd.Start(); err != nil {
		return workerHandle{}, fmt.Errorf("start worker: %w", err)
	}
	end := func() {
		stdin.Close() // EOF also tells the worker to finish
		_ = cmd.Wait()
	}
	return workerHandle{dec: json.NewDecoder(stdout), finish: stdin, end: end}, nil
}

// readReport reads the worker's next report and checks its phase.
func readReport(ctx context.Context, w workerHandle, phase string) (workerReport, error) {
	type result struct {
		r   workerReport
		err error
	}
	ch := make(chan result, 1)
	go func() {
		var r workerReport
		err := w.dec.Decode(&r)
		ch <- result{r, err}
	}()
	select {
	case <-ctx.Done():
		return workerReport{}, fmt.Errorf("waiting for worker %q report: %w", phase, ctx.Err())
	case res := <-ch:
		if res.err != nil {
			return workerReport{}, fmt.Errorf("worker %q report: %w", phase, res.err)
		}
		if res.r.Phase != phase {
			return workerReport{}, fmt.Errorf("worker sent phase %q, want %q", res.r.Phase, phase)
		}
		return res.r, nil
	}
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
