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

	"github.com/chatd/chatd/bench/fleet"
	"github.com/chatd/chatd/bench/progress"
	"github.com/chatd/chatd/bench/report"
	"github.com/chatd/chatd/bench/scenario"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is the whole command. Exit status: 0 every invariant held, 1 one
// failed or the run could not finish, 2 bad usage.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "worker": // internal: one shard of a multi-process run
			if err := fleet.Serve(ctx, stdin, stdout); err != nil {
				fmt.Fprintf(stderr, "chatbench worker: %v\n", err)
				return 1
			}
			return 0
		case "compare", "suite":
			return runCompare(ctx, args[0], args[1:], stdout, stderr)
		case "plot": // plots and CSV again, from a JSON report
			return runPlot(args[1:], stderr)
		case "help", "-h", "-help", "--help":
			fmt.Fprint(stdout, helpText)
			return 0
		}
	}
	cfg, err := parseConfig("run", args, stderr)
	if err != nil {
		return exitFor(err)
	}
	r, err := runOnce(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "chatbench %s: %v\n", cfg.Scenario, err)
		return 1
	}
	if cfg.Out == "-" {
		if err := json.NewEncoder(stdout).Encode(r); err != nil {
			fmt.Fprintf(stderr, "chatbench: write report: %v\n", err)
			return 1
		}
	} else {
		r.Table(stdout)
	}
	if err := save(r, cfg, stderr); err != nil {
		return 1
	}
	if r.Failed > 0 {
		return 1
	}
	return 0
}

// runOnce runs cfg over its workers, with live progress on a terminal.
func runOnce(ctx context.Context, cfg scenario.Config, stderr io.Writer) (*report.Report, error) {
	limit := cfg.Warmup.D() + cfg.Duration.D() + 2*cfg.Drain.D() + 3*time.Minute
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	disp := &progress.Display{} // quiet
	if f, ok := stderr.(*os.File); ok {
		disp = progress.New(f, cfg.Users())
	}
	defer disp.Done()
	opt := fleet.Options{Progress: disp.Update, Stderr: stderr}
	if cfg.Scenario == scenario.Idle {
		hold := cfg.Duration.D()
		opt.Hold = func(phase string) time.Duration {
			if phase == scenario.PhaseReady {
				return hold
			}
			return 0
		}
	}
	results, tl, err := fleet.Run(ctx, cfg, opt)
	if err != nil {
		return nil, err
	}
	disp.Done()
	return scenario.Summarize(cfg, results, tl)
}

// save writes the JSON report and the plots that cfg asks for.
func save(r *report.Report, cfg scenario.Config, stderr io.Writer) error {
	if cfg.Out != "" && cfg.Out != "-" {
		if err := r.WriteJSON(cfg.Out); err != nil {
			fmt.Fprintf(stderr, "chatbench: %v\n", err)
			return err
		}
	}
	if cfg.Plots != "" {
		paths, err := r.Plots(cfg.Plots)
		if err != nil {
			fmt.Fprintf(stderr, "chatbench: %v\n", err)
			return err
		}
		for _, p := range paths {
			fmt.Fprintf(stderr, "wrote %s\n", p)
		}
	}
	return nil
}

func exitFor(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

// runPlot writes the plots of a saved JSON report (-in) into -plots.
func runPlot(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("plot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "JSON report `file` (-out of an earlier run)")
	dir := fs.String("plots", "", "write PNG plots (and soak's CSV) into `dir`")
	if err := fs.Parse(args); err != nil {
		return exitFor(err)
	}
	if *in == "" || *dir == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: chatbench plot -in REPORT.json -plots DIR")
		return 2
	}
	r, err := report.ReadJSON(*in)
	if err != nil {
		fmt.Fprintf(stderr, "chatbench plot: %v\n", err)
		return 1
	}
	paths, err := r.Plots(*dir)
	for _, p := range paths {
		fmt.Fprintf(stderr, "wrote %s\n", p)
	}
	if err != nil {
		fmt.Fprintf(stderr, "chatbench plot: %v\n", err)
		return 1
	}
	return 0
}
