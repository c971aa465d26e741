package main

import (
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"time"
)

// options are the parsed command-line flags.
type options struct {
	mode      string
	url       string
	pid       int
	json      bool
	src       netip.Addr
	perSource int
	dials     int

	// idle
	n        int
	procs    int
	hold     time.Duration
	interval time.Duration

	// echo
	conns  int
	size   int
	dur    time.Duration
	warmup time.Duration

	// worker (internal: a child process of idle mode)
	worker bool
	first  int
}

// parseFlags parses args (without the program name). Errors and usage go to
// stderr; -h returns flag.ErrHelp.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	var src string
	fs := flag.NewFlagSet("quick", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.mode, "mode", "", "`idle` (hold many connections, measure server memory) or `echo` (round trips, latency, server CPU)")
	fs.StringVar(&o.url, "url", "ws://127.0.0.1:8080/echo", "WebSocket echo endpoint `URL`")
	fs.IntVar(&o.pid, "pid", 0, "server process `PID` to sample from /proc (0: do not sample)")
	fs.BoolVar(&o.json, "json", false, "print the result as one JSON object on stdout (progress goes to stderr)")
	fs.StringVar(&src, "src", "127.0.0.2", "first source `address`; later ones follow (127.0.0.3, …)")
	fs.IntVar(&o.perSource, "per-src", 15000, "most connections per source address")
	fs.IntVar(&o.dials, "dials", 64, "concurrent dials per client process")
	fs.IntVar(&o.n, "n", 10000, "idle: connections to open and hold")
	fs.IntVar(&o.procs, "procs", 0, fmt.Sprintf("idle: client processes (0: enough for at most %d connections each)", maxConnsPerProcess))
	fs.DurationVar(&o.hold, "hold", 20*time.Second, "idle: how long to hold the connections while sampling the server")
	fs.DurationVar(&o.interval, "interval", time.Second, "idle: server sampling interval during the hold")
	fs.IntVar(&o.conns, "c", 1, "echo: connections, each running one closed loop")
	fs.IntVar(&o.size, "size", 32, "echo: payload `bytes` per message")
	fs.DurationVar(&o.dur, "dur", 10*time.Second, "echo: measured duration")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "echo: unmeasured warm-up before the measured duration")
	fs.BoolVar(&o.worker, "worker", false, "internal: run as an idle-mode child worker")
	fs.IntVar(&o.first, "first", 0, "internal: the worker's first connection index")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage:
  quick -mode idle -n N -url ws://127.0.0.1:PORT/echo -pid PID [-hold 20s] [-procs K]
  quick -mode echo -c C -size 32 -dur 10s -url ws://127.0.0.1:PORT/echo -pid PID

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return usageError(fs, "unexpected argument %q", fs.Arg(0))
	}
	var err error
	if o.src, err = netip.ParseAddr(src); err != nil || !o.src.Is4() || !o.src.IsLoopback() {
		return usageError(fs, "-src %q: want an IPv4 loopback address such as 127.0.0.2", src)
	}
	if o.perSource < 1 || o.perSource > 28000 {
		return usageError(fs, "-per-src %d: want 1 to 28000 (the ephemeral port range holds ~28k)", o.perSource)
	}
	if o.dials < 1 {
		return usageError(fs, "-dials %d: want at least 1", o.dials)
	}
	if o.worker {
		return o, nil
	}
	switch o.mode {
	case "idle":
		if o.n < 1 {
			return usageError(fs, "-n %d: want at least 1", o.n)
		}
		if o.procs == 0 {
			o.procs = (o.n + maxConnsPerProcess - 1) / maxConnsPerProcess
		}
		if o.procs < 1 || (o.n+o.procs-1)/o.procs > maxConnsPerProcess {
			return usageError(fs, "-procs %d for -n %d: each process may hold at most %d connections (20,000 open files)",
				o.procs, o.n, maxConnsPerProcess)
		}
		if o.hold <= 0 || o.interval <= 0 {
			return usageError(fs, "-hold and -interval must be positive")
		}
	case "echo":
		if o.conns < 1 || o.conns > maxConnsPerProcess {
			return usageError(fs, "-c %d: want 1 to %d", o.conns, maxConnsPerProcess)
		}
		if o.size < 1 || o.size > 16<<20 {
			return usageError(fs, "-size %d: want 1 to 16777216", o.size)
		}
		if o.dur <= 0 || o.warmup < 0 {
			return usageError(fs, "-dur must be positive and -warmup not negative")
		}
	case "":
		return usageError(fs, "-mode is required")
	default:
		return usageError(fs, "-mode %q: want idle or echo", o.mode)
	}
	return o, nil
}

// workerArgs are the flags a child worker needs besides -worker, -first and
// -n: everything that shapes how it dials.
func (o options) workerArgs() []string {
	return []string{
		"-url", o.url,
		"-src", o.src.String(),
		"-per-src", strconv.Itoa(o.perSource),
		"-dials", strconv.Itoa(o.dials),
	}
}

func usageError(fs *flag.FlagSet, format string, args ...any) (options, error) {
	err := fmt.Errorf(format, args...)
	fmt.Fprintln(fs.Output(), err)
	fs.Usage()
	return options{}, err
}
