package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server/wstest"
)

// testConfig is a config for a server on a free loopback port that logs JSON,
// so tests can read the address from the "listening" line. Its mailbox goes
// to a temporary directory (see writeFile).
const testConfig = `server:
  listen: "127.0.0.1:0"
  close_timeout: "2s"
  shutdown_timeout: "5s"
chat:
  mailbox:
    dir: "` + dataDir + `"
log:
  level: info
  format: json
`

// dataDir in a file's content stands for a fresh temporary directory.
const dataDir = "@DATA@"

// writeFile writes content to name in a fresh temporary directory and
// returns its path. Occurrences of dataDir become another fresh temporary
// directory, so a test's chatd never writes under the source tree.
func writeFile(tb testing.TB, name, content string) string {
	tb.Helper()
	content = strings.ReplaceAll(content, dataDir, tb.TempDir())
	path := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// logLines collects log output written concurrently (by a process or by run
// on another goroutine) and lets a test wait for a line. Safe for concurrent
// use.
type logLines struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// entries returns the complete JSON log lines written so far.
func (l *logLines) entries() []map[string]any {
	var out []map[string]any
	for line := range strings.Lines(l.String()) {
		var e map[string]any
		if strings.HasSuffix(line, "\n") && json.Unmarshal([]byte(line), &e) == nil {
			out = append(out, e)
		}
	}
	return out
}

// waitFor polls until a JSON line with msg appears, and returns it.
func (l *logLines) waitFor(tb testing.TB, msg string, timeout time.Duration) map[string]any {
	tb.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, e := range l.entries() {
			if e["msg"] == msg {
				return e
			}
		}
	}
	tb.Fatalf("no %q log line within %v; log so far:\n%s", msg, timeout, l)
	return nil
}

// noErrors fails tb if any JSON line was logged at error level or above.
func (l *logLines) noErrors(tb testing.TB) {
	tb.Helper()
	for _, e := range l.entries() {
		switch e["level"] {
		case "error", "dpanic", "panic", "fatal":
			tb.Errorf("unexpected %s log: %v", e["level"], e)
		}
	}
}

// listenAddr waits for the server's "listening" line and returns its addr.
func (l *logLines) listenAddr(tb testing.TB) string {
	tb.Helper()
	e := l.waitFor(tb, "listening", 30*time.Second)
	addr, _ := e["addr"].(string)
	if addr == "" {
		tb.Fatalf("listening line has no addr: %v", e)
	}
	return addr
}

// dialEcho opens a WebSocket to /echo on addr and checks one round trip.
// Its Conn's operations have 10 s.
func dialEcho(tb testing.TB, addr string) *wstest.Conn {
	tb.Helper()
	c := wstest.Dial(tb, "ws://"+addr+"/echo", wstest.WithTimeout(10*time.Second))
	c.SendText(tb, "hello")
	c.ExpectText(tb, "hello")
	return c
}

// expectClose reads until the server's close frame and checks its code,
// logging the messages before it. wstest answers the close frame,
// completing the closing handshake.
func expectClose(tb testing.TB, c *wstest.Conn, want ws.StatusCode, timeout time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		_, msg, err := c.ReadData(time.Until(deadline))
		var closed *wstest.CloseError
		switch {
		case errors.As(err, &closed):
			if closed.Code != want {
				tb.Fatalf("close code %d (%q), want %d", closed.Code, closed.Reason, want)
			}
			return
		case err != nil:
			tb.Fatalf("waiting for close %d: %v", want, err)
		default:
			tb.Logf("ignoring message %q before close", msg)
		}
	}
}

// silentClient opens a WebSocket that never reads, so it never answers the
// server's close frame.
func silentClient(tb testing.TB, addr string) *wstest.Conn {
	tb.Helper()
	return dialEcho(tb, addr)
}

// chatClient is a /ws client of a chatd process: sends have 5 s, receives
// 10 s.
type chatClient struct {
	t    *testing.T
	conn *wstest.Conn
}

func dialChat(t *testing.T, addr string) *chatClient {
	t.Helper()
	conn := wstest.Dial(t, "ws://"+addr+"/ws", wstest.WithTimeout(10*time.Second))
	conn.SetTimeout(5 * time.Second)
	return &chatClient{t: t, conn: conn}
}

// send sends v as JSON, or as it is if it is a string.
func (c *chatClient) send(v any) {
	c.t.Helper()
	if s, ok := v.(string); ok {
		c.conn.SendText(c.t, s)
		return
	}
	c.conn.SendJSON(c.t, v)
}

func (c *chatClient) recv() map[string]any {
	c.t.Helper()
	s, err := c.conn.ReadText(10 * time.Second)
	if err != nil {
		c.t.Fatalf("recv: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		c.t.Fatalf("not JSON: %q", s)
	}
	return m
}

func (c *chatClient) login(name string, ack bool) {
	c.t.Helper()
	c.send(map[string]any{"type": "login", "name": name, "ack": ack})
	if m := c.recv(); m["type"] != "login_ok" {
		c.t.Fatalf("login %s: %v", name, m)
	}
}
