package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/chatd/chatd/bench/wsconn"
)

// dialTimeout bounds one TCP connect plus WebSocket handshake.
const dialTimeout = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is the whole command, returning the exit status: 0 success, 1 the run
// failed or lost connections, 2 bad flags.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		return 2
	}
	d := dialer{
		url:     o.url,
		src:     wsconn.Sources{First: o.src, PerSource: o.perSource},
		bufSize: max(o.size, 256),
		timeout: dialTimeout,
	}
	if o.worker {
		job := workerJob{dialer: d, first: o.first, n: o.n, dials: o.dials}
		if err := runWorker(ctx, job, stdin, stdout); err != nil {
			fmt.Fprintf(stderr, "quick worker: %v\n", err)
			return 1
		}
		return 0
	}

	// Progress and the human report go to stdout, unless -json claims it.
	report, progress := stdout, stdout
	if o.json {
		progress = stderr
	}
	var res any
	failed := false
	switch o.mode {
	case "idle":
		cfg := idleConfig{
			dialer: d, n: o.n, procs: o.procs, dials: o.dials, pid: o.pid,
			hold: o.hold, interval: o.interval, worker: o.workerArgs(),
		}
		r, err := runIdle(ctx, cfg, progress)
		if err != nil {
			fmt.Fprintf(stderr, "quick: idle: %v\n", err)
			return 1
		}
		res, failed = r, r.Failed > 0 || r.Alive < r.Opened
		if !o.json {
			printIdle(report, r)
		}
	case "echo":
		cfg := echoConfig{
			dialer: d, conns: o.conns, size: o.size, dials: o.dials,
			warmup: o.warmup, dur: o.dur, pid: o.pid,
		}
		r, err := runEcho(ctx, cfg)
		if err != nil {
			fmt.Fprintf(stderr, "quick: echo: %v\n", err)
			return 1
		}
		res, failed = r, r.Errors > 0
		if !o.json {
			printEcho(report, r)
		}
	}
	if o.json {
		if err := json.NewEncoder(report).Encode(res); err != nil {
			fmt.Fprintf(stderr, "quick: %v\n", err)
			return 1
		}
	}
	if failed {
		return 1
	}
	return 0
}
