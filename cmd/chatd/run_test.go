package main

import (
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server/wstest"
)

// running is chatd's run executing on a goroutine of the test.
type running struct {
	logs    *logLines
	signals chan os.Signal
	status  chan int
}

// startRun runs the command in-process with cfg as its -config file. The
// test is cleaned up by interrupting it twice if it is still running.
func startRun(t *testing.T, cfg string) *running {
	t.Helper()
	return startRunFile(t, writeFile(t, "chatd.yaml", cfg))
}

// startRunFile is startRun on the config file at path.
func startRunFile(t *testing.T, path string) *running {
	t.Helper()
	r := &running{logs: &logLines{}, signals: make(chan os.Signal, 2), status: make(chan int, 1)}
	go func() { r.status <- run([]string{"-config", path}, io.Discard, r.logs, r.signals) }()
	t.Cleanup(func() {
		select {
		case <-r.status:
		default:
			r.signals <- os.Interrupt
			r.signals <- os.Interrupt
			<-r.status
		}
		if t.Failed() {
			t.Logf("chatd log:\n%s", r.logs)
		}
	})
	return r
}

// wait returns run's exit status, failing the test after timeout.
func (r *running) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case s := <-r.status:
		r.status <- s // for the cleanup
		return s
	case <-time.After(timeout):
		t.Fatalf("run did not return within %v", timeout)
		return -1
	}
}

func TestRunGracefulShutdown(t *testing.T) {
	r := startRun(t, testConfig)
	addr := r.logs.listenAddr(t)
	clients := []*wstest.Conn{dialEcho(t, addr), dialEcho(t, addr)}

	r.signals <- syscall.SIGTERM
	for _, c := range clients {
		expectClose(t, c, ws.StatusGoingAway, 10*time.Second)
	}
	if s := r.wait(t, 10*time.Second); s != 0 {
		t.Fatalf("exit status %d, want 0", s)
	}
	r.logs.waitFor(t, "stopped", time.Second)
	r.logs.noErrors(t)
}

func TestRunShutdownWithoutClients(t *testing.T) {
	r := startRun(t, testConfig)
	r.logs.listenAddr(t)
	r.signals <- os.Interrupt
	if s := r.wait(t, 10*time.Second); s != 0 {
		t.Fatalf("exit status %d, want 0", s)
	}
	r.logs.noErrors(t)
}

// TestRunShutdownTimeout: a client that never answers close 1001 holds the
// shutdown until shutdown_timeout (plus slack), then chatd exits 1.
func TestRunShutdownTimeout(t *testing.T) {
	r := startRun(t, strings.NewReplacer(`close_timeout: "2s"`, `close_timeout: "1m"`,
		`shutdown_timeout: "5s"`, `shutdown_timeout: "500ms"`).Replace(testConfig))
	silentClient(t, r.logs.listenAddr(t))

	start := time.Now()
	r.signals <- syscall.SIGTERM
	if s := r.wait(t, 15*time.Second); s != 1 {
		t.Fatalf("exit status %d, want 1", s)
	}
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Errorf("returned after %v, before shutdown_timeout", d)
	}
	r.logs.waitFor(t, "graceful shutdown incomplete", time.Second)
}

// TestRunSecondSignal: a second signal stops waiting for a silent client.
func TestRunSecondSignal(t *testing.T) {
	r := startRun(t, strings.NewReplacer(`close_timeout: "2s"`, `close_timeout: "1m"`,
		`shutdown_timeout: "5s"`, `shutdown_timeout: "1m"`).Replace(testConfig))
	silentClient(t, r.logs.listenAddr(t))

	r.signals <- syscall.SIGTERM
	r.logs.waitFor(t, "shutting down", 5*time.Second)
	r.signals <- os.Interrupt
	if s := r.wait(t, 15*time.Second); s != 1 {
		t.Fatalf("exit status %d, want 1", s)
	}
	r.logs.waitFor(t, "second signal: dropping open connections", time.Second)
}

// TestRunSignalAtStartup: a signal that arrives before the server listens
// still ends in a clean exit.
func TestRunSignalAtStartup(t *testing.T) {
	r := startRun(t, testConfig)
	r.signals <- syscall.SIGTERM
	if s := r.wait(t, 10*time.Second); s != 0 {
		t.Fatalf("exit status %d, want 0", s)
	}
	r.logs.noErrors(t)
}

func TestRunListenFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := startRun(t, strings.Replace(testConfig, "127.0.0.1:0", ln.Addr().String(), 1))
	if s := r.wait(t, 10*time.Second); s != 1 {
		t.Fatalf("exit status %d, want 1", s)
	}
	e := r.logs.waitFor(t, "server failed", time.Second)
	if msg, _ := e["error"].(string); !strings.Contains(msg, "address already in use") {
		t.Errorf("error %q does not say the address is in use", msg)
	}
}
