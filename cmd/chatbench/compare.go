package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/chatd/chatd/bench/compare"
	"github.com/chatd/chatd/bench/report"
	"github.com/chatd/chatd/bench/scenario"
)

// runCompare is "chatbench compare [flags] SCENARIO [flags]" and
// "chatbench suite [flags]".
func runCompare(ctx context.Context, mode string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	opt := compare.Options{Out: stdout, Log: stderr}
	fs.StringVar(&opt.Chatd, "chatd", "", "chatd `binary` (default: go build ./cmd/chatd into -dir)")
	fs.StringVar(&opt.Baseline, "baseline", "", "baseline `binary` (default: go build ./bench/baseline into -dir)")
	fs.StringVar(&opt.ServerConfig, "server-config", "", "chatd config `template`; listen and mailbox dir are set per run (default: configs/chatbench-server.yaml when present)")
	fs.IntVar(&opt.Reps, "reps", 0, "repetitions per server (compare 3, suite 1)")
	fs.StringVar(&opt.Dir, "dir", "", "work `directory` for configs, logs and JSON reports (default: a new one under /tmp)")
	servers := fs.String("servers", "chatd,baseline", "servers to run, comma-separated (compare only)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage:\n  chatbench compare [flags] SCENARIO [scenario flags]\n  chatbench suite [flags]\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitFor(err)
	}
	var cfg scenario.Config
	if mode == "compare" {
		var err error
		if cfg, err = parseConfig("compare", fs.Args(), stderr); err != nil {
			return exitFor(err)
		}
		if err := compare.OneURL(cfg); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		opt.Servers = strings.Split(*servers, ",")
		if opt.Reps == 0 {
			opt.Reps = 3
		}
	} else if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "suite takes no scenario: %q\n", fs.Arg(0))
		return 2
	}
	if opt.Dir == "" {
		dir, err := os.MkdirTemp("", "chatbench-"+mode+"-")
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		opt.Dir = dir
	}
	if opt.ServerConfig == "" {
		if _, err := os.Stat("configs/chatbench-server.yaml"); err == nil {
			opt.ServerConfig = "configs/chatbench-server.yaml"
		}
	}
	if err := buildMissing(&opt, stderr); err != nil {
		fmt.Fprintf(stderr, "chatbench %s: %v\n", mode, err)
		return 1
	}
	opt.Run = func(ctx context.Context, cfg scenario.Config) (*report.Report, error) {
		return runOnce(ctx, cfg, stderr)
	}
	fmt.Fprintf(stderr, "chatbench %s: work directory %s\n", mode, opt.Dir)

	var passed, failed int
	if mode == "compare" {
		cmp, err := compare.Compare(ctx, opt, cfg)
		if cmp != nil {
			cmp.Print(stdout)
			passed, failed = cmp.Invariants()
		}
		if err != nil {
			fmt.Fprintf(stderr, "chatbench compare: %v\n", err)
			return 1
		}
	} else {
		var err error
		passed, failed, err = compare.Suite(ctx, opt, compare.QuickSuite(), "s")
		if err != nil {
			fmt.Fprintf(stderr, "chatbench suite: %v\n", err)
			return 1
		}
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return 1
	}
	return 0
}

// buildMissing builds the server binaries that opt does not name.
func buildMissing(opt *compare.Options, stderr io.Writer) error {
	build := func(dst *string, pkg, name string) error {
		if *dst != "" {
			return nil
		}
		*dst = filepath.Join(opt.Dir, "bin", name)
		fmt.Fprintf(stderr, "building %s\n", pkg)
		out, err := exec.Command("go", "build", "-o", *dst, pkg).CombinedOutput()
		if err != nil {
			return fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
		return nil
	}
	if err := build(&opt.Chatd, "./cmd/chatd", "chatd"); err != nil {
		return err
	}
	return build(&opt.Baseline, "./bench/baseline", "baseline")
}
