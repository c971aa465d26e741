package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// soakServerConfig is configs/chatd-soak.yaml for a test: default rate
// limits and presence, per-address limits raised, anonymous offline mail,
// and an admin listener for the goroutines.
const soakServerConfig = `server:
  listen: "127.0.0.1:0"
  connections:
    max_per_address: 1000000
    max_handshakes_per_address: 1000000
    rate_per_address: 1000000000
    burst_per_address: 1000000000
log:
  level: info
  format: json
chat:
  login:
    address_rate: 1000000
    address_burst: 1000000
  mailbox:
    dir: "@DIR@"
    anonymous: true
admin:
  listen: "127.0.0.1:0"
`

// startSoakChatd starts chatd for a soak test and returns its chat
// address, its admin address and its pid.
func startSoakChatd(t *testing.T, bin string) (addr, admin string, pid int) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "chatd.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(soakServerConfig, "@DIR@", dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-config", path)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	type addrs struct{ chat, admin string }
	got := make(chan addrs, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		var a addrs
		sent := false
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var e struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &e) != nil {
				continue
			}
			switch e.Msg {
			case "listening":
				a.chat = e.Addr
			case "admin listening":
				a.admin = e.Addr
			}
			if a.chat != "" && a.admin != "" && !sent {
				got <- a
				sent = true
			}
		}
		if !sent {
			close(got)
		}
	})
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); wg.Wait() })
	select {
	case a, ok := <-got:
		if !ok {
			t.Fatal("chatd exited before listening")
		}
		return a.chat, a.admin, cmd.Process.Pid
	case <-time.After(30 * time.Second):
		t.Fatal("chatd did not log both listeners within 30s")
	}
	return "", "", 0
}

// soakQuick is a short soak with every kind of action frequent enough to
// happen many times in seconds.
func soakQuick(url string, extra ...string) []string {
	return append([]string{"soak", "-url", url, "-n", "200", "-rate", "150", "-lobby-rate", "1",
		"-d", "12s", "-interval", "500ms", "-deadline", "2s", "-drain", "4s", "-timeout", "5s",
		"-offline", "2s", "-room-size", "20"}, extra...)
}

// TestSoakAgainstChatd runs a short soak against a real chatd, with logins
// and logouts, drops and resumes, offline mail and room moves every few
// hundred milliseconds, and expects every invariant to hold and the plots
// to be written.
func TestSoakAgainstChatd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs chatd; skipped with -short")
	}
	addr, admin, pid := startSoakChatd(t, chatdBinary(t, t.TempDir()))
	plots := t.TempDir()
	// -p99-slack: a 12 s run on a shared machine sees others' load in its
	// p99; here the verdict is run, not judged (TestJudge judges it).
	code, out, r := runSoak(t, soakQuick("ws://"+addr+"/ws", "-churn", "0.5", "-drops", "0.3", "-moves", "0.5",
		"-pid", itoa(pid), "-admin", "http://"+admin, "-plots", plots, "-p99-slack", "10000")...)
	if code != 0 || r.Failed != 0 || r.Passed < 14 {
		t.Fatalf("exit %d, %d passed, %d failed:\n%s", code, r.Passed, r.Failed, out)
	}
	for _, m := range []string{"sent_private", "sent_room", "delivered_room", "acks_stored", "offline_delivered",
		"logouts", "drops", "resumes", "recovered", "moves", "own_gaps"} {
		if v, ok := r.Metric(m); !ok || v <= 0 {
			t.Errorf("metric %q = %v: that part of the soak did not happen\n%s", m, v, out)
		}
	}
	if r.Soak == nil || len(r.Soak.Flat) != 4 {
		t.Fatalf("soak section %+v", r.Soak)
	}
	for _, name := range []string{"rss", "fds", "goroutines", "load", "latency", "throughput"} {
		if fi, err := os.Stat(filepath.Join(plots, "soak-"+name+".png")); err != nil || fi.Size() == 0 {
			t.Errorf("plot %s: %v", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(plots, "soak-resources.csv")); err != nil {
		t.Error(err)
	}
}

// runSoak is runScenario without the quick flags (soak has its own).
func runSoak(t *testing.T, args ...string) (int, string, *reportT) {
	t.Helper()
	return runScenarioArgs(t, args)
}
