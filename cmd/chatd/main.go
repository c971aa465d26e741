package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// Room for a second signal, which cuts a graceful shutdown short.
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, signals))
}

// run is the whole command behind main, returning the exit status. It writes
// results to stdout and diagnostics and logs to stderr, and shuts the server
// down on the first value from signals.
func run(args []string, stdout, stderr io.Writer, signals <-chan os.Signal) int {
	if len(args) > 0 && args[0] == "passwd" {
		return runPasswd(args[1:], os.Stdin, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "client" {
		return runClient(args[1:], os.Stdin, stdout, stderr, signals)
	}
	if len(args) > 0 && args[0] == "nats" {
		return runNats(args[1:], stderr, signals)
	}
	opts, err := parseFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		return 2 // parseFlags already printed the error and the usage
	}

	switch {
	case opts.version:
		fmt.Fprintln(stdout, versionString())
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
	log, err := newLogger(cfg.Log, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "chatd: %v\n", err)
		return 1
	}
	defer func() { _ = log.Sync() }() // stderr may not support fsync
	if opts.configFile == "" {
		log.Info("no -config given; using built-in defaults")
	}
	return serve(cfg, log, signals)
}
