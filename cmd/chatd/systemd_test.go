package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// unitFile is the systemd unit operators install (docs/OPERATIONS.md).
const unitFile = "../../configs/chatd.service"

// unitBinary is where the unit expects the binary.
const unitBinary = "/usr/local/bin/chatd"

// unit is a parsed systemd unit file: section, then key, then every value
// the key was given, in order (a key may repeat).
type unit map[string]map[string][]string

// parseUnit reads a unit file. It knows the syntax the shipped unit uses:
// [Section] lines, Key=Value lines, and comments starting with # or ;.
func parseUnit(t *testing.T, file string) unit {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	u := unit{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "", line[0] == '#', line[0] == ';':
		case line[0] == '[' && line[len(line)-1] == ']':
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
		case section == "":
			t.Fatalf("%s:%d: %q before any section", file, n, line)
		case strings.HasSuffix(line, `\`):
			t.Fatalf("%s:%d: continuation lines are not parsed here", file, n)
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s:%d: %q is not Key=Value", file, n, line)
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			u[section][k] = append(u[section][k], v)
		}
	}
	return u
}

// get returns the key's last value, which is the one systemd uses for a
// single-valued setting, and whether it is set.
func (u unit) get(section, key string) (string, bool) {
	vs := u[section][key]
	if len(vs) == 0 {
		return "", false
	}
	return vs[len(vs)-1], true
}

// TestSystemdUnit checks configs/chatd.service: the hardening operators are
// promised, a state directory that holds what the default config writes,
// and, where systemd-analyze exists, that systemd accepts the file without a
// warning and rates its exposure low.
func TestSystemdUnit(t *testing.T) {
	u := parseUnit(t, unitFile)

	want := map[string]string{
		"Type":             "exec",
		"User":             "chatd",
		"NoNewPrivileges":  "yes",
		"ProtectSystem":    "strict",
		"ProtectHome":      "yes",
		"PrivateTmp":       "yes",
		"PrivateDevices":   "yes",
		"Restart":          "on-failure",
		"StateDirectory":   "chatd",
		"WorkingDirectory": "/var/lib/chatd",
		// No capability: the default port is not privileged.
		"CapabilityBoundingSet": "",
		"AmbientCapabilities":   "",
	}
	for k, v := range want {
		if got, ok := u.get("Service", k); !ok || got != v {
			t.Errorf("[Service] %s=%q (set %v), want %q", k, got, ok, v)
		}
	}

	execStart, _ := u.get("Service", "ExecStart")
	if args := strings.Fields(execStart); len(args) != 3 || args[0] != unitBinary || args[1] != "-config" || args[2] != "/etc/chatd/chatd.yaml" {
		t.Errorf("ExecStart=%s, want %s -config /etc/chatd/chatd.yaml", execStart, unitBinary)
	}

	// Every connection costs a descriptor: the default max_total must fit,
	// with room for the stores, the bridge and NATS.
	nofile, _ := u.get("Service", "LimitNOFILE")
	if n, err := strconv.Atoi(nofile); err != nil || n < DefaultConfig().Server.Connections.MaxTotal+1024 {
		t.Errorf("LimitNOFILE=%s, want at least server.connections.max_total (%d) + 1024",
			nofile, DefaultConfig().Server.Connections.MaxTotal)
	}

	// ProtectSystem=strict leaves only the state directory writable, and
	// chatd runs in it: the default config's relative paths must land there.
	stateDir := "/var/lib/" + want["StateDirectory"]
	cfg := DefaultConfig()
	for name, p := range map[string]string{
		"chat.mailbox.dir":                cfg.Chat.Mailbox.Dir,
		"auth.passwords.file":             cfg.Auth.Passwords.File,
		"cluster.nats.embedded.store_dir": cfg.Cluster.NATS.Embedded.StoreDir,
	} {
		if abs := path.Join(want["WorkingDirectory"], p); !strings.HasPrefix(abs, stateDir+"/") {
			t.Errorf("%s %q is %s under the unit, outside its state directory %s", name, p, abs, stateDir)
		}
	}

	// ExecReload only when chatd handles SIGHUP: without a handler, the
	// signal would stop it.
	handlesHUP := sourceMentions(t, "syscall.SIGHUP")
	execReload, reload := u.get("Service", "ExecReload")
	if reload != handlesHUP {
		t.Errorf("ExecReload set: %v, but chatd handles SIGHUP: %v (a non-test file of cmd/chatd names syscall.SIGHUP)",
			reload, handlesHUP)
	}
	// systemctl reload must send SIGHUP to chatd itself (reload.go).
	if reload && execReload != "/bin/kill -HUP $MAINPID" {
		t.Errorf("ExecReload=%s, want /bin/kill -HUP $MAINPID", execReload)
	}

	if _, ok := u.get("Install", "WantedBy"); !ok {
		t.Error("[Install] has no WantedBy: systemctl enable would do nothing")
	}

	t.Run("systemd-analyze", func(t *testing.T) { analyzeUnit(t) })
}

// sourceMentions reports whether a non-test Go file of this package
// contains s.
func sourceMentions(t *testing.T, s string) bool {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(s)) {
			return true
		}
	}
	return false
}

// analyzeUnit runs systemd-analyze verify and security on a copy of the
// unit whose ExecStart names a stand-in for the binary (verify insists the
// binary exists); nothing else of the unit is changed.
func analyzeUnit(t *testing.T) {
	tool := requireSystemdAnalyze(t)
	dir := t.TempDir()
	stub := filepath.Join(dir, "chatd")
	if err := os.WriteFile(stub, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(data, []byte("ExecStart="+unitBinary+" ")) != 1 {
		t.Fatalf("%s: want one ExecStart=%s line", unitFile, unitBinary)
	}
	data = bytes.Replace(data, []byte("ExecStart="+unitBinary+" "), []byte("ExecStart="+stub+" "), 1)
	copied := filepath.Join(dir, "chatd.service")
	if err := os.WriteFile(copied, data, 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// verify exits 0 on warnings such as an unknown key or a bad value
	// (which systemd then ignores), so any output at all fails the test.
	out, err := exec.CommandContext(ctx, tool, "verify", "--man=no", copied).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify %s: %v\n%s", unitFile, err, out)
	}

	// The exposure score, 0.0 (best) to 10.0: chatd's sandbox keeps it
	// under 2.0, systemd's "OK" band. The threshold is in tenths.
	out, err = exec.CommandContext(ctx, tool, "security", "--offline=true", "--threshold=20", copied).CombinedOutput()
	score := regexp.MustCompile(`Overall exposure level for chatd.service: ([0-9.]+)`).FindSubmatch(out)
	if err != nil || score == nil {
		t.Errorf("systemd-analyze security %s: %v (want an exposure level of at most 2.0)\n%s", unitFile, err, out)
	} else {
		t.Logf("exposure level %s", score[1])
	}
}

// requireSystemdAnalyze returns the path of systemd-analyze, or skips the
// test, or fails it when CI=true: CI must check the unit.
func requireSystemdAnalyze(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("systemd-analyze")
	if err == nil {
		return p
	}
	msg := "systemd-analyze not found (" + err.Error() + "); install it with `make deps` or, as root, " +
		"`apt-get install -y --no-install-recommends systemd`"
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatalf("%s [CI=true: missing tools fail instead of skipping]", msg)
	}
	t.Skip(msg)
	return ""
}
