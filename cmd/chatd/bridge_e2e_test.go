package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/server/wstest"
)

// TestBridgeEndToEnd: chatd with tutorial 003's program at /stdio (and a
// login-first /who, checked by chat's authenticator) serves it; a signal
// stops chatd and the program with it, reaped.
func TestBridgeEndToEnd(t *testing.T) {
	prog, err := filepath.Abs("../../server/bridge/testdata/tutorial003.py")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(testConfig, "    dir:", "    anonymous: true\n    dir:", 1)
	cfg = strings.Replace(cfg, "log:\n", `bridge:
  programs:
    - path: /stdio
      command: ["/usr/bin/python3", "-u", "`+prog+`"]
    - path: /who
      command: ["/bin/sh", "-c", "echo \"I am $CHATD_USER\"; exec cat"]
      login: true
  stdin_grace: "50ms"
  kill_grace: "500ms"
log:
`, 1)
	r := startRun(t, cfg)
	addr := r.logs.listenAddr(t)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := wstest.DialContext(ctx, "ws://"+addr+"/stdio", wstest.WithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	read := func() string {
		t.Helper()
		p, err := conn.ReadText(time.Until(deadline))
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		return p
	}
	if got := read(); !strings.HasPrefix(got, "S->C:[") || !strings.HasSuffix(got, "] Test Data per 5s ") {
		t.Fatalf("periodic line %q", got)
	}
	conn.SendText(t, "hello")
	if got := read(); got != "S->C:C->S:hello" {
		t.Fatalf("answer %q", got)
	}

	who, err := wstest.DialContext(ctx, "ws://"+addr+"/who", wstest.WithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer who.Close()
	deadline = time.Now().Add(10 * time.Second)
	for _, want := range []string{"True", "I am alice"} {
		if want == "True" {
			who.SendText(t, "alice")
		}
		if p, err := who.ReadText(time.Until(deadline)); err != nil || p != want {
			t.Fatalf("/who: %q, %v; want %q", p, err, want)
		}
	}

	r.signals <- os.Interrupt
	if s := r.wait(t, 15*time.Second); s != 0 {
		t.Fatalf("exit status %d\n%s", s, r.logs)
	}
	for _, pid := range childPids(t, "tutorial003.py") {
		t.Errorf("pid %d still a child after chatd stopped", pid)
	}
}

// TestBridgePathTaken: a program at a path chatd serves itself is refused
// at start.
func TestBridgePathTaken(t *testing.T) {
	for _, path := range []string{"/ws", "/ws/x", "/echo", "/"} {
		cfg := strings.Replace(testConfig, "log:\n", "bridge:\n  programs:\n    - path: "+path+"\n      command: [\"/bin/cat\"]\nlog:\n", 1)
		r := startRun(t, cfg)
		if s := r.wait(t, 10*time.Second); s != 1 {
			t.Fatalf("%s: exit status %d, want 1", path, s)
		}
		if !strings.Contains(r.logs.String(), "is served by chatd itself") {
			t.Fatalf("%s: no reason logged:\n%s", path, r.logs)
		}
	}
}

// childPids lists the test process's children whose command line contains
// name, zombies included.
func childPids(t *testing.T, name string) []int {
	t.Helper()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var pids []int
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		f := strings.Fields(s[i+1:])
		if len(f) < 2 || f[1] != strconv.Itoa(os.Getpid()) {
			continue
		}
		cmd, _ := os.ReadFile(filepath.Join(filepath.Dir(st), "cmdline"))
		if strings.Contains(string(cmd), name) {
			pid, _ := strconv.Atoi(strings.Fields(s)[0])
			pids = append(pids, pid)
		}
	}
	return pids
}
