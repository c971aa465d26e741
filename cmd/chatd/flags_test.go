package main

import (
	"bytes"
	"strings"
	"testing"
)

// shippedConfig is the commented reference config, which equals the defaults.
const shippedConfig = "../../configs/chatd.yaml"

// runCase runs the command without a server and checks its output.
type runCase struct {
	name       string
	args       []string
	wantStatus int
	wantStdout []string // substrings; nil means stdout must be empty
	wantStderr []string // substrings; nil means stderr must be empty
}

func (tc runCase) check(t *testing.T) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	status := run(tc.args, &stdout, &stderr, nil)
	if status != tc.wantStatus {
		t.Errorf("exit status %d, want %d", status, tc.wantStatus)
	}
	checkOutput(t, "stdout", stdout.String(), tc.wantStdout)
	checkOutput(t, "stderr", stderr.String(), tc.wantStderr)
}

func checkOutput(t *testing.T, name, got string, wants []string) {
	t.Helper()
	if wants == nil && got != "" {
		t.Errorf("%s = %q, want it empty", name, got)
	}
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s = %q, want it to mention %q", name, got, w)
		}
	}
}

func TestCheckConfig(t *testing.T) {
	unknownKey := writeFile(t, "unknown.yaml", "server:\n  listen: \":8080\"\n  limits:\n    max_mesage_bytes: 1024\n")
	intDuration := writeFile(t, "duration.yaml", "server:\n  shutdown_timeout: 10\n")
	invalid := writeFile(t, "invalid.yaml", "server:\n  listen: \"127.0.0.1:99999\"\nlog:\n  format: text\n")
	empty := writeFile(t, "empty.yaml", "# nothing set: the defaults\n")

	cases := []runCase{
		{"shipped file", []string{"-check-config", shippedConfig}, 0, []string{shippedConfig + ": ok\n"}, nil},
		{"comment-only file", []string{"-check-config", empty}, 0, []string{empty + ": ok\n"}, nil},
		{"port zero", []string{"-check-config", writeFile(t, "port0.yaml", testConfig)}, 0, []string{": ok\n"}, nil},
		{"unknown key", []string{"-check-config", unknownKey}, 1, nil,
			[]string{"chatd: config " + unknownKey, "line 4", "max_mesage_bytes"}},
		{"duration without unit", []string{"-check-config", intDuration}, 1, nil,
			[]string{intDuration, "line 2", "time.Duration"}},
		{"invalid values", []string{"-check-config", invalid}, 1, nil,
			[]string{invalid, `server.listen "127.0.0.1:99999"`, `log.format "text"`}},
		{"missing file", []string{"-check-config", "no/such/file.yaml"}, 1, nil,
			[]string{"no/such/file.yaml", "no such file"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, tc.check)
	}
}

func TestFlags(t *testing.T) {
	cases := []runCase{
		{"unknown flag", []string{"-port", "80"}, 2, nil,
			[]string{"flag provided but not defined: -port", "Usage:", "-config FILE"}},
		{"config file without -config", []string{"chatd.yaml"}, 2, nil,
			[]string{`unknown command "chatd.yaml"`, "the config file goes after -config", "Usage:"}},
		{"stray argument", []string{"-check-config", shippedConfig, "extra"}, 2, nil,
			[]string{`unexpected argument "extra"`, "Usage:"}},
		{"serve named", []string{"serve", "-check-config", shippedConfig}, 0, []string{shippedConfig + ": ok\n"}, nil},
		{"config and check-config", []string{"-config", "a.yaml", "-check-config", "b.yaml"}, 2, nil,
			[]string{"exclusive", "Usage:"}},
		{"missing flag value", []string{"-config"}, 2, nil,
			[]string{"flag needs an argument: -config"}},
		{"help", []string{"-h"}, 0, nil,
			[]string{"Usage:", "-check-config FILE", "-version"}},
		{"version", []string{"-version"}, 0, []string{"chatd ", "go1."}, nil},
		{"bad config file", []string{"-config", "no/such/file.yaml"}, 1, nil,
			[]string{"chatd: open config", "no/such/file.yaml"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, tc.check)
	}
}
