package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
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

// wsClient is a client connection; rw reads through the dialer's buffer.
type wsClient struct {
	conn net.Conn
	rw   io.ReadWriter
}

// dialEcho opens a WebSocket to /echo on addr and checks one round trip.
func dialEcho(tb testing.TB, addr string) *wsClient {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, br, _, err := ws.Dial(ctx, "ws://"+addr+"/echo")
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	tb.Cleanup(func() { conn.Close() })
	c := &wsClient{conn: conn, rw: conn}
	if br != nil { // the server wrote past the handshake response
		c.rw = struct {
			io.Reader
			io.Writer
		}{io.MultiReader(br, conn), conn}
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if err := wsutil.WriteClientText(conn, []byte("hello")); err != nil {
		tb.Fatalf("write: %v", err)
	}
	got, err := wsutil.ReadServerText(c.rw)
	if err != nil || string(got) != "hello" {
		tb.Fatalf("echo: got %q, %v; want \"hello\"", got, err)
	}
	_ = conn.SetDeadline(time.Time{})
	return c
}

// expectClose reads until the server's close frame and checks its code.
// wsutil answers the close frame, completing the closing handshake.
func (c *wsClient) expectClose(tb testing.TB, want ws.StatusCode, timeout time.Duration) {
	tb.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(timeout))
	for {
		msg, _, err := wsutil.ReadServerData(c.rw)
		var closed wsutil.ClosedError
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
func silentClient(tb testing.TB, addr string) net.Conn {
	tb.Helper()
	c := dialEcho(tb, addr)
	return c.conn
}
