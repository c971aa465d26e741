package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// TestReloadSIGHUPProcess sends a real SIGHUP to a built chatd: it reloads
// (not stops), applies the live keys, keeps serving the connection open
// before, and still stops gracefully on SIGTERM.
func TestReloadSIGHUPProcess(t *testing.T) {
	bin := buildChatd(t)
	data := t.TempDir()
	path := filepath.Join(t.TempDir(), "chatd.yaml")
	write := func(cfg string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(strings.ReplaceAll(cfg, dataDir, data)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(reloadConfig("info", "", ""))
	p := startProcess(t, bin, "-config", path)
	addr := p.logs.listenAddr(t)
	open := dialEcho(t, addr)

	write(reloadConfig("debug", "  limits:\n    max_message_bytes: 200\n", ""))
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	e := p.logs.waitFor(t, "config reloaded", 10*time.Second)
	if got := fmt.Sprint(e["applied"]); !strings.Contains(got, "log.level: info → debug") || !strings.Contains(got, "server.limits.max_message_bytes: 65536 → 200") {
		t.Errorf("applied %s", got)
	}
	open.SendText(t, "still open")
	open.ExpectText(t, "still open")
	fresh := dialEcho(t, addr)
	fresh.SendText(t, strings.Repeat("x", 300))
	expectClose(t, fresh, ws.StatusMessageTooBig, 5*time.Second)
	p.logs.waitFor(t, "connection closing", 5*time.Second) // a debug line

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if s := p.exitStatus(t, 20*time.Second); s != 0 {
		t.Fatalf("exit status %d after SIGTERM, want 0", s)
	}
	p.logs.noErrors(t)
}
