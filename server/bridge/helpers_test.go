package bridge_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/bridge"
	"github.com/chatd/chatd/server/internal/testserver"
	"github.com/chatd/chatd/server/wstest"
)

const python = "/usr/bin/python3"

// env is a bridge under test, served by a test server.
type env struct {
	ts   *testserver.Server
	b    *bridge.Bridge
	logs *observer.ObservedLogs
}

// start serves cfg's programs (with test-sized grace periods unless set)
// on a test server. Cleanup shuts the server down, then closes the bridge
// and checks that no child process is left.
func start(t *testing.T, cfg bridge.Config, authn auth.Authenticator, mutate func(*server.Config), opts ...bridge.Option) *env {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	b, err := bridge.New(cfg, authn, zap.New(core), opts...)
	if err != nil {
		t.Fatalf("bridge.New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := b.Close(ctx); err != nil {
			t.Errorf("bridge close: %v", err)
		}
		waitFor(t, 5*time.Second, "no child process", func() bool { return len(children(t)) == 0 })
	})
	ts := testserver.StartSetup(t, mutate, func(srv *server.Server) {
		for _, r := range b.Routes() {
			srv.Handle(r.Path, r.Endpoint)
		}
	})
	return &env{ts: ts, b: b, logs: logs}
}

// config returns a bridge config with programs and short grace periods.
func testConfig(programs ...bridge.Program) bridge.Config {
	cfg := bridge.Default()
	cfg.Programs = programs
	cfg.StdinGrace = 50 * time.Millisecond
	cfg.KillGrace = 300 * time.Millisecond
	cfg.RestartBackoff = 50 * time.Millisecond
	cfg.MaxRestartBackoff = 200 * time.Millisecond
	return cfg
}

func (e *env) dial(t *testing.T, path string) *wstest.Conn {
	t.Helper()
	return wstest.Dial(t, e.ts.URL(path), wstest.WithTimeout(10*time.Second))
}

// expectText reads the next message and checks it is text want.
func expectText(t *testing.T, c *wstest.Conn, want string) {
	t.Helper()
	c.ExpectMessage(t, ws.OpText, []byte(want))
}

// readText reads the next text message.
func readText(t *testing.T, c *wstest.Conn, d time.Duration) string {
	t.Helper()
	op, p, err := c.ReadMessage(d)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if op != ws.OpText {
		t.Fatalf("got opcode %v, want text", op)
	}
	return string(p)
}

// child is a process whose parent is the test binary.
type child struct {
	pid   int
	state string // R, S, Z...
	cmd   string
}

// children lists the test process's children from /proc, but for the
// browser of TestTutorial003Browser.
func children(t *testing.T) []child {
	t.Helper()
	me := os.Getpid()
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []child
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		if ppid, _ := strconv.Atoi(f[1]); ppid != me {
			continue
		}
		pid, _ := strconv.Atoi(strings.Fields(s)[0])
		cmd, _ := os.ReadFile(filepath.Join(filepath.Dir(d), "cmdline"))
		if strings.Contains(string(cmd), "chrom") {
			continue
		}
		out = append(out, child{pid: pid, state: f[0], cmd: strings.ReplaceAll(string(cmd), "\x00", " ")})
	}
	return out
}

// fds counts the test process's open file descriptors.
func fds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testdata(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}
