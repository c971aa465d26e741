package main

import (
	"bytes"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionFrom(t *testing.T) {
	goVersion, platform := runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH
	checkout := &debug.BuildInfo{
		GoVersion: "go1.99.1",
		Main:      debug.Module{Path: "github.com/chatd/chatd", Version: "v0.0.0-20261207002949-5d9710b7bdc0+dirty"},
		Settings: []debug.BuildSetting{
			{Key: "-buildmode", Value: "exe"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "5d9710b7bdc08ad83b55c2736a381eb0dd09d01c"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	clean := &debug.BuildInfo{
		GoVersion: "go1.99.1",
		Main:      debug.Module{Path: "github.com/chatd/chatd", Version: "v1.4.0"},
		Settings:  []debug.BuildSetting{{Key: "vcs.revision", Value: "aaaa"}, {Key: "vcs.modified", Value: "false"}},
	}
	noVCS := &debug.BuildInfo{Main: debug.Module{Path: "github.com/chatd/chatd", Version: "(devel)"}}

	cases := []struct {
		name                string
		bi                  *debug.BuildInfo
		ldVersion, ldCommit string
		want                buildVersion
	}{
		{"no build info", nil, "", "", buildVersion{"(devel)", "unknown", false, goVersion, platform}},
		{"no vcs stamp", noVCS, "", "", buildVersion{"(devel)", "unknown", false, goVersion, platform}},
		{"checkout with changes", checkout, "", "",
			buildVersion{"v0.0.0-20261207002949-5d9710b7bdc0+dirty", "5d9710b7bdc08ad83b55c2736a381eb0dd09d01c", true, "go1.99.1", platform}},
		{"clean tag", clean, "", "", buildVersion{"v1.4.0", "aaaa", false, "go1.99.1", platform}},
		{"link-time override", noVCS, "v2.0.0", "bbbb", buildVersion{"v2.0.0", "bbbb", false, goVersion, platform}},
		{"override keeps modified", checkout, "v2.0.0", "cccc", buildVersion{"v2.0.0", "cccc", true, "go1.99.1", platform}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := versionFrom(tc.bi, tc.ldVersion, tc.ldCommit); got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}

	got := buildVersion{"v1.2.3", "abc", true, "go1.99.1", "linux/arm64"}.String()
	if want := "chatd v1.2.3\ncommit abc (modified)\ngo1.99.1 linux/arm64\n"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// TestVersionCommand: `chatd version` and `chatd -version` print the same.
func TestVersionCommand(t *testing.T) {
	var sub, flag bytes.Buffer
	if s := run([]string{"version"}, &sub, &bytes.Buffer{}, nil); s != 0 {
		t.Fatalf("chatd version: exit status %d", s)
	}
	if s := run([]string{"-version"}, &flag, &bytes.Buffer{}, nil); s != 0 {
		t.Fatalf("chatd -version: exit status %d", s)
	}
	if sub.String() != flag.String() {
		t.Errorf("chatd version printed %q, chatd -version %q", sub.String(), flag.String())
	}
	if want := readVersion().String(); sub.String() != want {
		t.Errorf("chatd version printed %q, want %q", sub.String(), want)
	}
	lines := strings.Split(strings.TrimSuffix(sub.String(), "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "chatd ") || !strings.HasPrefix(lines[1], "commit ") ||
		!strings.HasPrefix(lines[2], runtime.Version()+" ") {
		t.Errorf("chatd version printed %q, want chatd VERSION, commit COMMIT and the Go version", sub.String())
	}

	cases := []runCase{
		{"argument", []string{"version", "v1"}, 2, nil, []string{`unexpected argument "v1"`, "Usage:\n  chatd version"}},
		{"help", []string{"version", "-h"}, 0, nil, []string{"Usage:\n  chatd version", "-X main.version="}},
	}
	for _, tc := range cases {
		t.Run(tc.name, tc.check)
	}
}

// TestVersionLinkFlags builds the binary the way the documented release
// build does, so a renamed variable breaks this test rather than releases.
func TestVersionLinkFlags(t *testing.T) {
	bin := buildChatd(t, "-ldflags", "-X main.version=v9.8.7 -X main.commit=0123456789abcdef")
	for _, args := range [][]string{{"version"}, {"-version"}} {
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			t.Fatalf("chatd %v: %v", args, err)
		}
		want := "chatd v9.8.7\ncommit 0123456789abcdef\n" + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
		if string(out) != want {
			t.Errorf("chatd %v printed %q, want %q", args, out, want)
		}
	}
}

// TestHelp: -h and help list every command with one line each, and each
// listed command exists (its -h succeeds) and has its own help.
func TestHelp(t *testing.T) {
	commands := []string{"serve", "client", "passwd", "nats", "version", "help"}

	var help, dashH bytes.Buffer
	if s := run([]string{"help"}, &help, &bytes.Buffer{}, nil); s != 0 {
		t.Fatalf("chatd help: exit status %d", s)
	}
	if s := run([]string{"-h"}, &bytes.Buffer{}, &dashH, nil); s != 0 {
		t.Fatalf("chatd -h: exit status %d", s)
	}
	if help.String() != dashH.String() {
		t.Errorf("chatd help (stdout) and chatd -h (stderr) differ:\n%s\n---\n%s", help.String(), dashH.String())
	}
	_, listing, ok := strings.Cut(help.String(), "\nCommands:\n")
	if !ok {
		t.Fatalf("chatd help has no Commands: section:\n%s", help.String())
	}
	listing, _, _ = strings.Cut(listing, "\n\n")
	var listed []string
	for _, line := range strings.Split(listing, "\n") {
		name, desc, _ := strings.Cut(strings.TrimSpace(line), " ")
		if strings.TrimSpace(desc) == "" {
			t.Errorf("command %q has no description: %q", name, line)
		}
		listed = append(listed, name)
	}
	if strings.Join(listed, " ") != strings.Join(commands, " ") {
		t.Errorf("chatd help lists %q, want %q", listed, commands)
	}
	for _, flag := range []string{"-config FILE", "-check-config FILE", "-version"} {
		if !strings.Contains(help.String(), flag) {
			t.Errorf("chatd help does not list the flag %s", flag)
		}
	}

	for _, name := range commands {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if s := run([]string{name, "-h"}, &stdout, &stderr, nil); s != 0 {
				t.Errorf("chatd %s -h: exit status %d\n%s", name, s, stderr.String())
			}
			if !strings.Contains(stdout.String()+stderr.String(), "Usage:") {
				t.Errorf("chatd %s -h printed no usage", name)
			}
			stdout.Reset()
			stderr.Reset()
			if s := run([]string{"help", name}, &stdout, &stderr, nil); s != 0 || stderr.Len() > 0 {
				t.Errorf("chatd help %s: exit status %d, stderr %q", name, s, stderr.String())
			}
			if !strings.Contains(stdout.String(), "Usage:") {
				t.Errorf("chatd help %s printed %q, want its usage on stdout", name, stdout.String())
			}
		})
	}

	cases := []runCase{
		{"help unknown", []string{"help", "bogus"}, 2, nil, []string{`unknown command "bogus"`, "Usage:"}},
		{"help two", []string{"help", "client", "nats"}, 2, nil, []string{"at most one COMMAND"}},
		{"unknown command", []string{"bogus"}, 2, nil, []string{`unknown command "bogus"`, "Commands:"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, tc.check)
	}
}
