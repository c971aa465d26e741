package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

// options are the parsed command-line flags of serve, the default command.
type options struct {
	configFile  string // -config: run with this file; "" means built-in defaults
	checkConfig string // -check-config: validate this file and exit
	version     bool   // -version: print the version and exit, as `chatd version` does
}

// commandsUsage lists the commands, one line each; `chatd -h` and
// `chatd help` print it, followed by serve's flags.
const commandsUsage = `Usage:
  chatd [serve] [-config FILE]   run the chat server
  chatd COMMAND [ARGS]

Commands:
  serve     run the chat server on FILE or the built-in defaults (the default command)
  client    a terminal client for any WebSocket URL: chatd client [FLAGS] URL
  passwd    add a user or change a password: chatd passwd FILE NAME (password on stdin)
  nats      run only the embedded NATS server of a cluster: chatd nats -config FILE
  version   print the version, the commit and the Go version
  help      print this help, or a command's: chatd help COMMAND

Flags of serve:
`

// serveFlags defines serve's flags on a new flag set writing to out, storing
// into o.
func serveFlags(o *options, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("chatd", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.configFile, "config", "", "run with the YAML config `FILE` (default: built-in defaults, as in configs/chatd.yaml)")
	fs.StringVar(&o.checkConfig, "check-config", "", "validate the YAML config `FILE`, print \"FILE: ok\" or the errors, and exit")
	fs.BoolVar(&o.version, "version", false, "print the version and exit (as chatd version)")
	fs.Usage = func() { printUsage(fs.Output()) }
	return fs
}

// printUsage writes the commands and serve's flags to w.
func printUsage(w io.Writer) {
	fs := serveFlags(&options{}, w)
	_, _ = io.WriteString(w, commandsUsage)
	fs.PrintDefaults()
	_, _ = io.WriteString(w, "\nRun chatd help COMMAND (or chatd COMMAND -h) for a command's arguments and flags.\n")
}

// parseFlags parses serve's args (without the program name). Errors and the
// usage text go to stderr; -h and -help return flag.ErrHelp.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := serveFlags(&o, stderr)
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return usageError(fs, "unexpected argument %q (flags come first; the config file goes after -config)", fs.Arg(0))
	}
	if o.configFile != "" && o.checkConfig != "" {
		return usageError(fs, "-config and -check-config are exclusive")
	}
	return o, nil
}

// usageError prints the error and the usage, as the flag package does.
func usageError(fs *flag.FlagSet, format string, args ...any) (options, error) {
	err := fmt.Errorf(format, args...)
	fmt.Fprintln(fs.Output(), err)
	fs.Usage()
	return options{}, err
}

// runHelp is `chatd help [COMMAND]`: the usage of chatd, or of COMMAND, on
// stdout. An unknown COMMAND is a usage error (2).
func runHelp(args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 {
		switch args[0] {
		case "serve", "help", "-h", "-help", "--help":
			args = nil // chatd's own usage, serve's flags included
		}
	}
	switch {
	case len(args) == 0:
		printUsage(stdout)
		return 0
	case len(args) > 1:
		fmt.Fprintln(stderr, "chatd help: want at most one COMMAND")
		printUsage(stderr)
		return 2
	}
	// Each command prints its usage for -h on what it takes as stderr.
	switch args[0] {
	case "client":
		return runClient([]string{"-h"}, os.Stdin, stdout, stdout, nil)
	case "passwd":
		return runPasswd([]string{"-h"}, os.Stdin, stdout, stdout)
	case "nats":
		return runNats([]string{"-h"}, stdout, nil)
	case "version":
		return runVersion([]string{"-h"}, stdout, stdout)
	}
	fmt.Fprintf(stderr, "chatd help: unknown command %q\n", args[0])
	printUsage(stderr)
	return 2
}
