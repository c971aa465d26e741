package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is set at link time: go build -ldflags "-X main.version=v1.2.3".
// When empty, the module version from the build info is used.
var version string

// options are the parsed command-line flags.
type options struct {
	configFile  string // -config: run with this file; "" means built-in defaults
	checkConfig string // -check-config: validate this file and exit
	version     bool   // -version: print the version and exit
}

// parseFlags parses args (without the program name). Errors and the usage
// text go to stderr; -h and -help return flag.ErrHelp.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("chatd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.configFile, "config", "", "run with the YAML config `FILE` (default: built-in defaults, as in configs/chatd.yaml)")
	fs.StringVar(&o.checkConfig, "check-config", "", "validate the YAML config `FILE`, print \"FILE: ok\" or the errors, and exit")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage:\n  chatd [-config FILE]\n  chatd -check-config FILE\n  chatd -version\n  chatd passwd FILE NAME    (password on stdin)\n  chatd client URL          (a terminal client; chatd client -h)\n  chatd nats -config FILE   (only the embedded NATS server; chatd nats -h)\n\nFlags:\n")
		fs.PrintDefaults()
	}
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

// versionString reports the chatd and Go versions.
func versionString() string {
	v := version
	if v == "" {
		v = "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			v = bi.Main.Version
		}
	}
	return fmt.Sprintf("chatd %s %s", v, runtime.Version())
}
