package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/chatd/chatd/bench/report"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serverConfig runs chatd on a free port with JSON logs (the test reads the
// "listening" line), a raised rate limit and a temporary mailbox.
const serverConfig = `server:
  listen: "127.0.0.1:0"
log:
  level: info
  format: json
chat:
  login:
    address_rate: 1000000
    address_burst: 1000000
  rate:
    messages_per_second: @RATE@
    burst: @RATE@
  rooms:
    presence: false
  mailbox:
    dir: "@DIR@"
    anonymous: true
`

// goBuild builds pkg into dir, once per test binary.
func goBuild(t *testing.T, dir, pkg, name string) string {
	t.Helper()
	bin := filepath.Join(dir, name)
	out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// chatdBinary is $CHATBENCH_CHATD when set, else a fresh build of ./cmd/chatd.
func chatdBinary(t *testing.T, dir string) string {
	if bin := os.Getenv("CHATBENCH_CHATD"); bin != "" {
		return bin
	}
	return goBuild(t, dir, "../chatd", "chatd")
}

// startChatd starts chatd with the given per-connection rate limit and
// returns its address and pid. It is killed when the test ends.
func startChatd(t *testing.T, bin, rate string) (addr string, pid int) {
	t.Helper()
	dir := t.TempDir()
	cfg := strings.NewReplacer("@RATE@", rate, "@DIR@", dir).Replace(serverConfig)
	path := filepath.Join(dir, "chatd.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
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
	lines := make(chan string, 1)
	var wg sync.WaitGroup
	wg.Go(func() { // read the log: the address, then discard
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			var e struct{ Msg, Addr string }
			if !sent && json.Unmarshal(sc.Bytes(), &e) == nil && e.Msg == "listening" {
				lines <- e.Addr
				sent = true
			}
		}
		if !sent {
			close(lines)
		}
	})
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); wg.Wait() })
	select {
	case addr, ok := <-lines:
		if !ok {
			t.Fatal("chatd exited before listening")
		}
		return addr, cmd.Process.Pid
	case <-time.After(30 * time.Second):
		t.Fatal("chatd did not log \"listening\" within 30s")
	}
	return "", 0
}

// quick are the flags that keep a scenario to a second or two.
var quick = []string{"-d", "1s", "-drain", "5s", "-quiet", "300ms", "-interval", "200ms", "-timeout", "5s"}

// runScenario runs chatbench in this process and returns its exit status,
// its output and the JSON report.
func runScenario(t *testing.T, args ...string) (int, string, *report.Report) {
	t.Helper()
	return runScenarioArgs(t, append(args, quick...))
}

// reportT is the report type, for helpers in other test files.
type reportT = report.Report

// runScenarioArgs runs chatbench with args as they are.
func runScenarioArgs(t *testing.T, args []string) (int, string, *report.Report) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "report.json")
	args = append(args, "-out", out)
	var stdout, stderr strings.Builder
	code := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	r, err := report.ReadJSON(out)
	if err != nil {
		t.Fatalf("chatbench %v: exit %d, no report: %v\nstdout:\n%s\nstderr:\n%s", args, code, err, stdout.String(), stderr.String())
	}
	return code, stdout.String(), r
}

// TestScenariosAgainstChatd runs every scenario, small, against a real
// chatd process and expects every invariant to hold.
func TestScenariosAgainstChatd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs chatd; skipped with -short")
	}
	bin := chatdBinary(t, t.TempDir())
	addr, pid := startChatd(t, bin, "100000")
	ws, echo := "ws://"+addr+"/ws", "ws://"+addr+"/echo"
	p := func(i int) string { return itoa(i) }
	// Two URLs of this one server: the spread code path (a dialer per URL,
	// partners on different URLs) with every invariant checked. Across
	// real nodes it needs cluster mode.
	_, port, _ := net.SplitHostPort(addr)
	ws2 := ws + ",ws://localhost:" + port + "/ws"
	cases := []struct {
		name string
		args []string
		want []string // metrics that must be there and positive
	}{
		{"connect", []string{"connect", "-url", ws, "-n", "40", "-rate", "400"}, []string{"connects/s"}},
		{"idle", []string{"idle", "-url", ws, "-n", "40", "-pid", p(pid)}, []string{"server RSS per connection", "alive after hold"}},
		{"idle on /echo", []string{"idle", "-url", echo, "-n", "40", "-pid", p(pid)}, []string{"server RSS per connection", "alive after hold"}},
		{"echo closed loop", []string{"echo", "-url", echo, "-n", "8", "-warmup", "200ms", "-pid", p(pid)}, []string{"round trips/s", "server CPU per round trip", "client CPU per round trip"}},
		{"echo fixed rate", []string{"echo", "-url", echo, "-n", "8", "-rate", "400", "-warmup", "200ms"}, []string{"round trips/s"}},
		{"private partner", []string{"private", "-url", ws, "-n", "40", "-rate", "400", "-pid", p(pid)}, []string{"deliveries/s"}},
		{"private random", []string{"private", "-url", ws, "-n", "30", "-rate", "300", "-receiver", "random"}, []string{"deliveries/s"}},
		{"room lobby", []string{"room", "-url", ws, "-n", "30", "-publishers", "3", "-rate", "30"}, []string{"deliveries/s"}},
		{"room with observers", []string{"room", "-url", ws, "-room", "dev", "-n", "25", "-observers", "5", "-publishers", "2", "-rate", "20"}, []string{"deliveries/s"}},
		{"mailbox", []string{"mailbox", "-url", ws, "-n", "10", "-senders", "3", "-messages", "300"}, []string{"drain rate"}},
		{"private partner over two urls", []string{"private", "-url", ws2, "-n", "40", "-rate", "400", "-pid", p(pid)}, []string{"deliveries/s"}},
		{"room over two urls", []string{"room", "-url", ws2, "-room", "dev2", "-n", "25", "-observers", "5", "-publishers", "2", "-rate", "20"}, []string{"deliveries/s"}},
		{"mailbox over two urls", []string{"mailbox", "-url", ws2, "-n", "10", "-senders", "3", "-messages", "300"}, []string{"drain rate"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, r := runScenario(t, tc.args...)
			if code != 0 || r.Failed != 0 || r.Passed < 2 {
				t.Fatalf("exit %d, %d passed, %d failed:\n%s", code, r.Passed, r.Failed, out)
			}
			if !strings.Contains(out, itoa(r.Passed)+" passed, 0 failed\n") {
				t.Errorf("no closing line:\n%s", out)
			}
			for _, m := range tc.want {
				if v, ok := r.Metric(m); !ok || v <= 0 {
					t.Errorf("metric %q = %v, %v:\n%s", m, v, ok, out)
				}
			}
			if r.Conns.Opened != int64(r.Conns.Requested) {
				t.Errorf("opened %d of %d", r.Conns.Opened, r.Conns.Requested)
			}
			if tc.name != "connect" && !strings.HasPrefix(tc.name, "idle") {
				if r.Verdict == nil || r.Verdict.Expected == 0 || r.Verdict.Delivered != r.Verdict.Expected {
					t.Errorf("verdict %+v", r.Verdict)
				}
			}
		})
	}

	// Two worker processes: the parent merges their histograms and ledgers.
	t.Run("private over two processes", func(t *testing.T) {
		exe := goBuild(t, t.TempDir(), ".", "chatbench")
		out, err := exec.Command(exe, append([]string{"private", "-url", ws, "-n", "40", "-rate", "400", "-procs", "2", "-out", "-"}, quick...)...).Output()
		if err != nil {
			t.Fatalf("chatbench: %v\n%s", err, out)
		}
		var r report.Report
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatal(err)
		}
		if r.Procs != 2 || r.Failed != 0 || r.Verdict.Expected != 400 || r.Latency["latency"].Count != 400 {
			t.Fatalf("procs %d, failed %d, verdict %+v, latency %+v", r.Procs, r.Failed, r.Verdict, r.Latency["latency"])
		}
	})
}

// TestDetectsRefusals runs private faster than chatd's default per-connection
// rate limit: the refused messages must fail the run.
func TestDetectsRefusals(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs chatd; skipped with -short")
	}
	addr, _ := startChatd(t, chatdBinary(t, t.TempDir()), "20")
	code, out, r := runScenario(t, "private", "-url", "ws://"+addr+"/ws", "-n", "2", "-rate", "400")
	if code != 1 || r.Failed == 0 || r.Verdict.Missing == 0 {
		t.Fatalf("exit %d, %d failed, verdict %+v:\n%s", code, r.Failed, r.Verdict, out)
	}
	for _, want := range []string{"FAIL  no message refused by the server", "FAIL  every message reached each intended receiver", "rate limit"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestUsage(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"help"}, 0, "Usage:"},
		{[]string{"private", "-h"}, 0, "-receiver"},
		{[]string{"flood"}, 2, "scenario \"flood\""},
		{[]string{"private", "-n", "1"}, 2, "at least 2 users"},
		{[]string{"echo", "-nope"}, 2, "flag provided but not defined"},
		{[]string{"-config", "../../configs/chatbench-private.yaml", "-n", "1"}, 2, "at least 2 users"},
		{[]string{"private", "-n", "5", "-url", "ws://127.0.0.1:1/ws,ws://127.0.0.1:2/ws"}, 2, "needs an even n"},
		{[]string{"idle", "-pid", "chatd"}, 2, "want a process id"},
		{[]string{"plot"}, 2, "usage: chatbench plot"},
		{[]string{"plot", "-in", "/nonexistent.json", "-plots", "/tmp"}, 1, "no such file"},
		{[]string{"soak", "-n", "2"}, 2, "at least 4 users"},
		{[]string{"soak", "-churn", "2"}, 2, "at most 1"},
		{[]string{"compare", "echo", "-url", "ws://127.0.0.1:1/echo,ws://127.0.0.1:2/echo"}, 2, "one server at a time"},
	}
	for _, tc := range cases {
		var stdout, stderr strings.Builder
		code := run(context.Background(), tc.args, strings.NewReader(""), &stdout, &stderr)
		if code != tc.code || !strings.Contains(stdout.String()+stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, output %q; want %d and %q", tc.args, code, stdout.String()+stderr.String(), tc.code, tc.want)
		}
	}
}

// TestConfigFiles checks that every configs/chatbench-*.yaml scenario file
// loads and validates.
func TestConfigFiles(t *testing.T) {
	files, _ := filepath.Glob("../../configs/chatbench-*.yaml")
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "chatbench-server.yaml") {
			continue // a chatd config
		}
		n++
		if _, err := parseConfig("run", []string{"-config", f}, io.Discard); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if n < 6 {
		t.Errorf("%d scenario files, want one per scenario", n)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
