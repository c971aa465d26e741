package main

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// clientRun is `chatd client` running on a goroutine of the test, reading
// its stdin from in.
type clientRun struct {
	in      *io.PipeWriter
	stdout  *logLines
	stderr  *logLines
	signals chan os.Signal
	status  chan int
}

// startClient runs `chatd client args...`; the cleanup ends its input and
// waits for it.
func startClient(t *testing.T, args ...string) *clientRun {
	t.Helper()
	pr, pw := io.Pipe()
	c := &clientRun{in: pw, stdout: &logLines{}, stderr: &logLines{}, signals: make(chan os.Signal, 1), status: make(chan int, 1)}
	go func() {
		c.status <- runClient(args, pr, c.stdout, c.stderr, c.signals)
		pr.Close()
	}()
	t.Cleanup(func() {
		pw.Close()
		c.wait(t, 10*time.Second)
		if t.Failed() {
			t.Logf("client stdout:\n%s\nclient stderr:\n%s", c.stdout, c.stderr)
		}
	})
	return c
}

// send types line into the client.
func (c *clientRun) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(c.in, line+"\n"); err != nil {
		t.Fatalf("client stdin: %v", err)
	}
}

// waitOutput polls until the client has printed the line want.
func (c *clientRun) waitOutput(t *testing.T, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for line := range strings.Lines(c.stdout.String()) {
			if strings.TrimSuffix(line, "\n") == want {
				return
			}
		}
	}
	t.Fatalf("client did not print %q; stdout so far:\n%s", want, c.stdout)
}

// wait returns the client's exit status, failing the test after timeout.
func (c *clientRun) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case s := <-c.status:
		c.status <- s // for the cleanup
		return s
	case <-time.After(timeout):
		t.Fatalf("client did not exit within %v", timeout)
		return -1
	}
}

func TestClientEcho(t *testing.T) {
	r := startRun(t, testConfig)
	c := startClient(t, "-origin", "http://example.com", "-H", "X-Test: 1", "ws://"+r.logs.listenAddr(t)+"/echo")
	c.send(t, "Hello, Server")
	c.waitOutput(t, "Hello, Server")
	c.send(t, `{"type":"message","sender":"x","room":"lobby","data":"raw"}`)
	c.waitOutput(t, `{"type":"message","sender":"x","room":"lobby","data":"raw"}`)
	c.send(t, "close")
	if s := c.wait(t, 10*time.Second); s != 0 {
		t.Fatalf("exit status %d, want 0; stderr: %s", s, c.stderr)
	}
	if got := c.stderr.String(); got != "" {
		t.Errorf("stderr: %q, want nothing (a clean close)", got)
	}
	r.logs.noErrors(t)
}

func TestClientChat(t *testing.T) {
	r := startRun(t, testConfig)
	addr := r.logs.listenAddr(t)
	c := startClient(t, "ws://"+addr+"/ws")
	c.send(t, "alice")
	c.waitOutput(t, "True")

	bob := dialChat(t, addr)
	bob.login("bob", false)
	bob.send("hello everyone")
	c.waitOutput(t, "[lobby] bob: hello everyone")
	bob.send(map[string]any{"receiver": "alice", "data": "hi alice", "id": 1})
	c.waitOutput(t, "[bob -> you] hi alice")
	if m := bob.recv(); m["type"] != "sent" {
		t.Fatalf("bob got %v, want sent", m)
	}

	c.send(t, "/join dev")
	c.waitOutput(t, "* joined dev (1 members)")
	bob.send(map[string]any{"type": "join", "room": "dev"})
	c.waitOutput(t, "* bob joined dev")
	bob.send(map[string]any{"room": "dev", "data": "standup"})
	c.waitOutput(t, "[dev] bob: standup")

	c.send(t, "/msg bob hi bob")
	c.send(t, "/who dev")
	c.waitOutput(t, "* dev: alice, bob")
	c.send(t, "/rooms")
	c.waitOutput(t, "* rooms: dev (2, joined), lobby (2, joined)")
	c.send(t, "/leave nowhere")
	c.waitOutput(t, `! not in room "nowhere"`)
	m := bob.recv()
	for m["type"] != "message" {
		m = bob.recv()
	}
	if m["sender"] != "alice" || m["data"] != "hi bob" {
		t.Errorf("bob got %v, want alice's \"hi bob\"", m)
	}
	if out := c.stdout.String(); strings.Contains(out, `"sent"`) {
		t.Errorf("sent acknowledgements shown:\n%s", out)
	}

	c.in.Close() // end of input closes cleanly
	if s := c.wait(t, 10*time.Second); s != 0 {
		t.Fatalf("exit status %d, want 0; stderr: %s", s, c.stderr)
	}
	r.logs.noErrors(t)
}

// TestClientSubcommand: run dispatches "client" (stdin is not read here:
// the dial fails first).
func TestClientSubcommand(t *testing.T) {
	var stdout, stderr strings.Builder
	if s := run([]string{"client", "-timeout", "2s", "ws://127.0.0.1:1/echo"}, &stdout, &stderr, nil); s != 1 {
		t.Errorf("exit status %d, want 1", s)
	}
	if !strings.Contains(stderr.String(), "chatd client: dial") {
		t.Errorf("stderr %q, want the dial error", stderr.String())
	}
	stderr.Reset()
	if s := run([]string{"client", "-h"}, &stdout, &stderr, nil); s != 0 || !strings.Contains(stderr.String(), "/msg USER TEXT") {
		t.Errorf("client -h: status %d, stderr %q", s, stderr.String())
	}
}

func TestClientDialFails(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		status int
		stderr string
	}{
		{"not a URL", []string{"http://127.0.0.1:1/ws"}, 2, "not a ws:// or wss:// URL"},
		{"no URL", nil, 2, "want one URL"},
		{"bad header", []string{"-H", "nocolon", "ws://127.0.0.1:1/ws"}, 2, "want 'Name: value'"},
		{"refused", []string{"-timeout", "2s", "ws://127.0.0.1:1/ws"}, 1, "chatd client: dial ws://127.0.0.1:1/ws:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := startClient(t, tc.args...)
			if s := c.wait(t, 10*time.Second); s != tc.status {
				t.Errorf("exit status %d, want %d", s, tc.status)
			}
			if !strings.Contains(c.stderr.String(), tc.stderr) {
				t.Errorf("stderr %q does not contain %q", c.stderr, tc.stderr)
			}
		})
	}
}
