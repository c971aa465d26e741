package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// buildChatd builds the real binary into a temporary directory, with -race
// when the tests run with it, so the child reports data races by failing,
// and with the extra go build flags given.
func buildChatd(t *testing.T, flags ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "chatd")
	args := append([]string{"build", "-o", bin}, flags...)
	if raceEnabled {
		args = append(args, "-race")
	}
	out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// process is a started chatd binary.
type process struct {
	cmd    *exec.Cmd
	logs   *logLines
	stdout *logLines
	done   chan struct{} // closed when cmd.Wait returned
	err    error         // from cmd.Wait, valid after done
}

func startProcess(t *testing.T, bin string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...), logs: &logLines{}, stdout: &logLines{}, done: make(chan struct{})}
	p.cmd.Stderr, p.cmd.Stdout = p.logs, p.stdout
	// The race runtime sleeps 1s before a clean exit by default.
	p.cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=50")
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("chatd stderr:\n%s", p.logs)
		}
	})
	return p
}

// exitStatus waits for the process and returns its exit status.
func (p *process) exitStatus(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("chatd still running %v later", timeout)
	}
	var exit *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &exit):
		if st, ok := exit.Sys().(syscall.WaitStatus); ok && st.Signaled() {
			t.Fatalf("chatd killed by %v", st.Signal())
		}
		return exit.ExitCode()
	default:
		t.Fatalf("wait: %v", p.err)
		return -1
	}
}

// TestBinary runs the built command as a process: real signals, real exit
// statuses.
func TestBinary(t *testing.T) {
	bin := buildChatd(t)
	cfg := writeFile(t, "chatd.yaml", testConfig)

	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run("graceful shutdown on "+sig.String(), func(t *testing.T) {
			p := startProcess(t, bin, "-config", cfg)
			addr := p.logs.listenAddr(t)
			c := dialEcho(t, addr)

			start := time.Now()
			if err := p.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			expectClose(t, c, ws.StatusGoingAway, 5*time.Second)
			if s := p.exitStatus(t, 10*time.Second); s != 0 {
				t.Fatalf("exit status %d, want 0", s)
			}
			t.Logf("close 1001 received and exit 0 in %v", time.Since(start))
			if strings.Contains(p.logs.String(), "DATA RACE") {
				t.Error("the race detector fired")
			}
			p.logs.noErrors(t)
		})
	}

	cases := []struct {
		name       string
		args       []string
		wantStatus int
		wantStdout string
		wantStderr string
	}{
		{"check-config ok", []string{"-check-config", shippedConfig}, 0, shippedConfig + ": ok\n", ""},
		{"check-config bad", []string{"-check-config", writeFile(t, "bad.yaml", "server:\n  lisen: x\n")}, 1, "", "line 2: field lisen not found"},
		{"unknown flag", []string{"-listen", ":80"}, 2, "", "flag provided but not defined: -listen"},
		{"version", []string{"-version"}, 0, "chatd ", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := startProcess(t, bin, tc.args...)
			if s := p.exitStatus(t, 10*time.Second); s != tc.wantStatus {
				t.Errorf("exit status %d, want %d", s, tc.wantStatus)
			}
			if got := p.stdout.String(); !strings.Contains(got, tc.wantStdout) || (tc.wantStdout == "") != (got == "") {
				t.Errorf("stdout %q, want %q", got, tc.wantStdout)
			}
			if got := p.logs.String(); !strings.Contains(got, tc.wantStderr) || (tc.wantStderr == "") != (got == "") {
				t.Errorf("stderr %q, want %q", got, tc.wantStderr)
			}
		})
	}
}
