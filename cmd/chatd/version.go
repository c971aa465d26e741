package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// version and commit are set at link time by release builds, which may be
// built without the repository's .git (as configs/Containerfile does):
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.commit=$(git rev-parse HEAD)" ./cmd/chatd
//
// When empty, they come from the build information the go command records:
// the module version (a tag, or a pseudo-version such as
// v0.0.0-20261207004055-5d9710b95e41+dirty when built in a checkout) and
// the vcs.revision and vcs.modified settings (absent with -buildvcs=false
// or outside a checkout).
var (
	version string
	commit  string
)

// buildVersion is what `chatd version` and `chatd -version` print.
type buildVersion struct {
	Version  string // a release version, a pseudo-version, or "(devel)"
	Commit   string // the full commit hash, or "unknown"
	Modified bool   // built from a checkout with uncommitted changes
	Go       string // the Go toolchain's version, such as "go1.26.8"
	Platform string // GOOS/GOARCH, such as "linux/amd64"
}

// readVersion reports this binary's version.
func readVersion() buildVersion {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return versionFrom(bi, version, commit)
}

// versionFrom derives the version from bi (nil when the binary carries no
// build information) and the link-time overrides ldVersion and ldCommit,
// which win when set. Modified comes from bi alone: an override does not
// hide that the checkout had changes.
func versionFrom(bi *debug.BuildInfo, ldVersion, ldCommit string) buildVersion {
	v := buildVersion{
		Version:  "(devel)",
		Commit:   "unknown",
		Go:       runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH,
	}
	if bi != nil {
		if bi.Main.Version != "" {
			v.Version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			v.Go = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if s.Value != "" {
					v.Commit = s.Value
				}
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	if ldVersion != "" {
		v.Version = ldVersion
	}
	if ldCommit != "" {
		v.Commit = ldCommit
	}
	return v
}

// String is the text printed, three lines:
//
//	chatd v1.2.3
//	commit 5d9710b95e41c0ffee... (modified)
//	go1.26.8 linux/amd64
func (v buildVersion) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "chatd %s\ncommit %s", v.Version, v.Commit)
	if v.Modified {
		b.WriteString(" (modified)")
	}
	fmt.Fprintf(&b, "\n%s %s\n", v.Go, v.Platform)
	return b.String()
}

// runVersion is `chatd version`, which prints what `chatd -version` does.
// It takes no arguments (2 otherwise).
func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("chatd version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		_, _ = io.WriteString(fs.Output(), `Usage:
  chatd version

Prints chatd's version, the commit it was built from ("(modified)" when the
checkout had uncommitted changes) and the Go version and platform; the same
as chatd -version. Release builds set the version and commit with
  go build -ldflags "-X main.version=v1.2.3 -X main.commit=$(git rev-parse HEAD)" ./cmd/chatd
`)
	}
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "chatd version: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	fmt.Fprint(stdout, readVersion())
	return 0
}
