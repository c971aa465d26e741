package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	// Room for a second signal, which cuts a graceful shutdown short, and
	// for SIGHUPs queued while a reload runs: signal.Notify drops what does
	// not fit, and a SIGTERM behind them must not be dropped.
	signals := make(chan os.Signal, 8)
	// SIGHUP reloads the config (serve); the other commands stop on it.
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, signals))
}

// run is the whole command behind main, returning the exit status. It writes
// results to stdout and diagnostics and logs to stderr, and shuts the server
// down on the first value from signals other than syscall.SIGHUP, which
// reloads the config instead (reload.go). The first argument names the
// command unless it is a flag; serve is the default.
func run(args []string, stdout, stderr io.Writer, signals <-chan os.Signal) int {
	name := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	switch name {
	case "serve":
		return runServe(args, stdout, stderr, signals)
	case "client":
		return runClient(args, os.Stdin, stdout, stderr, signals)
	case "passwd":
		return runPasswd(args, os.Stdin, stdout, stderr)
	case "nats":
		return runNats(args, stderr, signals)
	case "version":
		return runVersion(args, stdout, stderr)
	case "help":
		return runHelp(args, stdout, stderr)
	}
	fmt.Fprintf(stderr, "chatd: unknown command %q (flags come first; the config file goes after -config)\n", name)
	printUsage(stderr)
	return 2
}

// runServe is the default command: it runs the server, or answers -version
// or -check-config.
func runServe(args []string, stdout, stderr io.Writer, signals <-chan os.Signal) int {
	opts, err := parseFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		return 2 // parseFlags already printed the error and the usage
	}

	switch {
	case opts.version:
		fmt.Fprint(stdout, readVersion())
		return 0
	case opts.checkConfig != "":
		if _, err := LoadConfig(opts.checkConfig); err != nil {
			fmt.Fprintf(stderr, "chatd: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s: ok\n", opts.checkConfig)
		return 0
	}

	cfg := DefaultConfig()
	if opts.configFile != "" {
		if cfg, err = LoadConfig(opts.configFile); err != nil {
			fmt.Fprintf(stderr, "chatd: %v\n", err)
			return 1
		}
	}
	log, level, err := newLeveledLogger(cfg.Log, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "chatd: %v\n", err)
		return 1
	}
	defer func() { _ = log.Sync() }() // stderr may not support fsync
	if opts.configFile == "" {
		log.Info("no -config given; using built-in defaults")
	}
	return serve(cfg, log, signals, reloadFrom{path: opts.configFile, level: level})
}
