package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server/wstest"
)

// reloadConfig is testConfig at log level level, with more keys: server
// adds keys to server:, top adds sections. dataDir stands for the mailbox
// directory (see reloadRun.write).
func reloadConfig(level, server, top string) string {
	return fmt.Sprintf(`server:
  listen: "127.0.0.1:0"
  close_timeout: "2s"
  shutdown_timeout: "5s"
%schat:
  mailbox:
    dir: "%s"
%slog:
  level: %s
  format: json
`, server, dataDir, top, level)
}

// reloadRun is chatd run in-process on a config file the test rewrites and
// reloads with SIGHUP.
type reloadRun struct {
	*running
	path string
	data string // what dataDir stands for, the same in every version
}

func startReload(t *testing.T, cfg string) *reloadRun {
	t.Helper()
	r := &reloadRun{path: filepath.Join(t.TempDir(), "chatd.yaml"), data: t.TempDir()}
	r.write(t, cfg)
	r.running = startRunFile(t, r.path)
	return r
}

// write replaces the config file's content.
func (r *reloadRun) write(t *testing.T, cfg string) {
	t.Helper()
	if err := os.WriteFile(r.path, []byte(strings.ReplaceAll(cfg, dataDir, r.data)), 0o600); err != nil {
		t.Fatal(err)
	}
}

// hup sends SIGHUP and waits for the next log line with msg (the reload's
// outcome) and returns it.
func (r *reloadRun) hup(t *testing.T, msg string) map[string]any {
	t.Helper()
	before := r.count(msg)
	r.signals <- syscall.SIGHUP
	deadline := time.Now().Add(10 * time.Second)
	for r.count(msg) == before {
		if time.Now().After(deadline) {
			t.Fatalf("no %q log line after SIGHUP; log so far:\n%s", msg, r.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var last map[string]any
	for _, e := range r.logs.entries() {
		if e["msg"] == msg {
			last = e
		}
	}
	return last
}

// count counts the log lines with msg.
func (r *reloadRun) count(msg string) int {
	n := 0
	for _, e := range r.logs.entries() {
		if e["msg"] == msg {
			n++
		}
	}
	return n
}

// httpGet sends a GET for path to addr and returns the status line.
func httpGet(t *testing.T, addr, path string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 256)
	n, err := io.ReadAtLeast(c, buf, len("HTTP/1.1 200"))
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
	return line
}

// TestReloadLogLevel: log.level reloaded to debug shows debug lines from
// then on, and none before; back to info hides them again.
func TestReloadLogLevel(t *testing.T) {
	r := startReload(t, reloadConfig("info", "", ""))
	addr := r.logs.listenAddr(t)
	httpGet(t, addr, "/healthz")
	const debugLine = "http request" // logged at debug for every HTTP request
	if n := r.count(debugLine); n != 0 {
		t.Fatalf("%d debug lines at level info", n)
	}

	r.write(t, reloadConfig("debug", "", ""))
	e := r.hup(t, "config reloaded")
	if got := fmt.Sprint(e["applied"]); !strings.Contains(got, "log.level: info → debug") {
		t.Errorf("applied %s, want log.level: info → debug", got)
	}
	httpGet(t, addr, "/healthz")
	r.logs.waitFor(t, debugLine, 5*time.Second)

	r.write(t, reloadConfig("info", "", ""))
	r.hup(t, "config reloaded")
	n := r.count(debugLine)
	httpGet(t, addr, "/healthz")
	time.Sleep(100 * time.Millisecond) // a line would be written before the answer; this is slack
	if got := r.count(debugLine); got != n {
		t.Fatalf("%d debug lines after level info was reloaded", got-n)
	}
	r.logs.noErrors(t)
}

// TestReloadMaxMessageBytes: a lowered server.limits.max_message_bytes
// holds a new connection (1009) and, as documented, the messages an open
// connection begins after the reload.
func TestReloadMaxMessageBytes(t *testing.T) {
	r := startReload(t, reloadConfig("info", "", ""))
	addr := r.logs.listenAddr(t)
	open := dialEcho(t, addr)
	big := strings.Repeat("x", 300)
	open.SendText(t, big)
	open.ExpectText(t, big)

	r.write(t, reloadConfig("info", "  limits:\n    max_message_bytes: 200\n", ""))
	e := r.hup(t, "config reloaded")
	if got := fmt.Sprint(e["applied"]); !strings.Contains(got, "server.limits.max_message_bytes: 65536 → 200") {
		t.Errorf("applied %s", got)
	}
	fresh := dialEcho(t, addr)
	fresh.SendText(t, big)
	expectClose(t, fresh, ws.StatusMessageTooBig, 5*time.Second)
	open.SendText(t, big)
	expectClose(t, open, ws.StatusMessageTooBig, 5*time.Second)
}

// TestReloadMaxPerAddress: a lowered server.connections.max_per_address
// refuses the next connection (429) and drops none of those open.
func TestReloadMaxPerAddress(t *testing.T) {
	r := startReload(t, reloadConfig("info", "  connections:\n    max_per_address: 4\n", ""))
	addr := r.logs.listenAddr(t)
	open := []*wstest.Conn{dialEcho(t, addr), dialEcho(t, addr)}
	if got := httpGet(t, addr, "/healthz"); !strings.HasPrefix(got, "HTTP/1.1 200") {
		t.Fatalf("3rd of 4: %q", got)
	}

	r.write(t, reloadConfig("info", "  connections:\n    max_per_address: 2\n", ""))
	r.hup(t, "config reloaded")
	if got := httpGet(t, addr, "/healthz"); !strings.HasPrefix(got, "HTTP/1.1 429") {
		t.Fatalf("3rd of 2: %q, want 429", got)
	}
	for i, c := range open {
		msg := fmt.Sprintf("still open %d", i)
		c.SendText(t, msg)
		c.ExpectText(t, msg)
	}
}

// TestReloadInvalidFileChangesNothing: a file that does not validate is
// logged, and nothing of it applies, not even its valid keys; chatd keeps
// serving.
func TestReloadInvalidFileChangesNothing(t *testing.T) {
	r := startReload(t, reloadConfig("info", "", ""))
	addr := r.logs.listenAddr(t)
	// Valid keys (debug, a lower limit) beside an invalid one.
	r.write(t, reloadConfig("debug", "  limits:\n    max_message_bytes: 200\n  event_loops: -1\n", ""))
	e := r.hup(t, "reload: config not applied; the running config is kept")
	if got := fmt.Sprint(e["error"]); !strings.Contains(got, "server.event_loops -1") {
		t.Errorf("error %q, want server.event_loops named", got)
	}
	// An unknown key is refused by the strict decoder too.
	r.write(t, reloadConfig("debug", "  no_such_key: 1\n", ""))
	e = r.hup(t, "reload: config not applied; the running config is kept")
	if got := fmt.Sprint(e["error"]); !strings.Contains(got, "no_such_key") {
		t.Errorf("error %q, want the unknown key named", got)
	}

	c := dialEcho(t, addr)
	big := strings.Repeat("x", 300)
	c.SendText(t, big)
	c.ExpectText(t, big) // max_message_bytes is still 65536
	httpGet(t, addr, "/healthz")
	time.Sleep(100 * time.Millisecond)
	if n := r.count("http request"); n != 0 {
		t.Fatalf("%d debug lines: log.level changed", n)
	}
}

// TestReloadInvalidOnlyWithRunningRestartKeys: a file valid in itself
// whose live keys are invalid beside the running values of its
// restart-only keys changes nothing. Here api.max_body_bytes (restart)
// must stay within half of server.limits.write_budget_bytes (live).
func TestReloadInvalidOnlyWithRunningRestartKeys(t *testing.T) {
	const api = "api:\n  listen: \"127.0.0.1:0\"\n  key: \"0123456789abcdef0123456789abcdef\"\n  max_body_bytes: %d\n"
	r := startReload(t, reloadConfig("info", "", fmt.Sprintf(api, 65536)))
	addr := r.logs.listenAddr(t)
	// Alone this file is valid (a 4 KiB body within a 64 KiB budget), but
	// the running 64 KiB body limit does not fit in a 64 KiB budget.
	r.write(t, reloadConfig("debug", "  limits:\n    write_budget_bytes: 65536\n    max_message_bytes: 4096\n", fmt.Sprintf(api, 4096)))
	e := r.hup(t, "reload: config not applied; the running config is kept")
	if got := fmt.Sprint(e["error"]); !strings.Contains(got, "api.max_body_bytes 65536") {
		t.Errorf("error %q, want api.max_body_bytes named", got)
	}
	c := dialEcho(t, addr)
	big := strings.Repeat("x", 5000)
	c.SendText(t, big)
	c.ExpectText(t, big)
}

// TestReloadRestartKeys: keys that need a restart are named in a warning
// and keep their running values, while the live keys of the same file
// apply.
func TestReloadRestartKeys(t *testing.T) {
	r := startReload(t, reloadConfig("info", "", ""))
	addr := r.logs.listenAddr(t)
	other, err := net.Listen("tcp", "127.0.0.1:0") // an address chatd must not move to
	if err != nil {
		t.Fatal(err)
	}
	otherAddr := other.Addr().String()
	other.Close()

	next := strings.Replace(reloadConfig("debug", "  event_loops: 3\n  compression:\n    enabled: true\n", ""),
		`listen: "127.0.0.1:0"`, fmt.Sprintf("listen: %q", otherAddr), 1)
	r.write(t, next)
	w := r.hup(t, "needs a restart: server.listen, server.event_loops, server.compression.enabled")
	if got := fmt.Sprint(w["level"]); got != "warn" {
		t.Errorf("restart line at level %s, want warn", got)
	}
	e := r.logs.waitFor(t, "config reloaded", 5*time.Second)
	if got := fmt.Sprint(e["applied"]); got != "[log.level: info → debug]" {
		t.Errorf("applied %s, want only log.level", got)
	}
	dialEcho(t, addr) // still on the old address
	if c, err := net.DialTimeout("tcp", otherAddr, time.Second); err == nil {
		c.Close()
		t.Fatalf("chatd listens on %s too", otherAddr)
	}
	// The next reload of the same file warns again: the keys still differ
	// from what runs.
	r.hup(t, "needs a restart: server.listen, server.event_loops, server.compression.enabled")
}

// TestReloadRacesTraffic: many reloads, alternating two files, while
// clients send. Under -race: no race report; and no connection closes.
func TestReloadRacesTraffic(t *testing.T) {
	a := reloadConfig("info", "  limits:\n    max_message_bytes: 8192\n  keepalive:\n    ping_interval: \"20s\"\n", "")
	b := reloadConfig("debug", "  limits:\n    max_message_bytes: 16384\n  keepalive:\n    ping_interval: \"25s\"\n  connections:\n    max_per_address: 500\n", "")
	r := startReload(t, a)
	addr := r.logs.listenAddr(t)

	const clients, messages = 8, 150
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		c := dialEcho(t, addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range messages {
				msg := strings.Repeat(string(rune('a'+i)), 1+j*53%8000)
				if err := c.WriteText([]byte(msg)); err != nil {
					errs <- fmt.Errorf("client %d send %d: %w", i, j, err)
					return
				}
				op, got, err := c.ReadData(10 * time.Second)
				if err != nil || op != ws.OpText || string(got) != msg {
					errs <- fmt.Errorf("client %d message %d: %v (op %v, %d bytes)", i, j, err, op, len(got))
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	reloads := 0
	for {
		select {
		case <-done:
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if reloads < 5 {
				t.Errorf("only %d reloads during the traffic", reloads)
			}
			r.logs.noErrors(t)
			return
		default:
		}
		if reloads%2 == 0 {
			r.write(t, b)
		} else {
			r.write(t, a)
		}
		r.hup(t, "config reloaded")
		reloads++
	}
}

// TestReloadMetrics: /metrics counts reloads by result and moves the
// last-success time only on success.
func TestReloadMetrics(t *testing.T) {
	const adminSection = "admin:\n  listen: \"127.0.0.1:0\"\n"
	r := startReload(t, reloadConfig("info", "", adminSection))
	adm := r.logs.adminAddr(t)
	r.logs.listenAddr(t) // the reload metrics are served from then on
	started := time.Now()
	fams := scrape(t, adm)
	first, ok := value(fams, "chatd_config_last_reload_success_timestamp_seconds")
	if !ok || first <= 0 {
		t.Fatalf("last reload success %v (present %v), want the start time", first, ok)
	}

	time.Sleep(20 * time.Millisecond) // the timestamps must differ
	r.write(t, reloadConfig("debug", "", adminSection))
	r.hup(t, "config reloaded")
	r.write(t, reloadConfig("verbose", "", adminSection))
	r.hup(t, "reload: config not applied; the running config is kept")

	fams = scrape(t, adm)
	for _, w := range []want{
		{"chatd_config_reloads_total", []string{"result=ok"}, 1},
		{"chatd_config_reloads_total", []string{"result=error"}, 1},
	} {
		if got, ok := value(fams, w.name, w.labels...); !ok || got != w.value {
			t.Errorf("%s%v = %v (present %v), want %v", w.name, w.labels, got, ok, w.value)
		}
	}
	last, _ := value(fams, "chatd_config_last_reload_success_timestamp_seconds")
	if last <= first || last < float64(started.UnixNano())/1e9 {
		t.Errorf("last reload success %v, want after the start (%v) and the first scrape (%v)", last, started.Unix(), first)
	}
}

// TestSIGHUPDuringShutdownIsIgnored: a SIGHUP while connections drain
// neither reloads nor cuts the shutdown short, as a second SIGTERM would.
func TestSIGHUPDuringShutdownIsIgnored(t *testing.T) {
	r := startReload(t, reloadConfig("info", "", ""))
	addr := r.logs.listenAddr(t)
	silentClient(t, addr) // never answers the close: the drain waits close_timeout (2s)
	r.signals <- syscall.SIGTERM
	r.logs.waitFor(t, "shutting down", 5*time.Second)
	r.signals <- syscall.SIGHUP
	r.logs.waitFor(t, "reload: ignored while shutting down", 5*time.Second)
	if s := r.wait(t, 15*time.Second); s != 0 {
		t.Fatalf("exit status %d, want 0", s)
	}
	if n := r.count("second signal: dropping open connections"); n != 0 {
		t.Fatal("SIGHUP cut the shutdown short")
	}
}

// TestReloadShutdownTimeout: the shutdown uses server.shutdown_timeout as
// last reloaded.
func TestReloadShutdownTimeout(t *testing.T) {
	r := startReload(t, reloadConfig("info", "", ""))
	r.logs.listenAddr(t)
	r.write(t, strings.Replace(reloadConfig("info", "", ""), `shutdown_timeout: "5s"`, `shutdown_timeout: "7s"`, 1))
	r.hup(t, "config reloaded")
	r.signals <- syscall.SIGTERM
	e := r.logs.waitFor(t, "shutting down", 5*time.Second)
	if e["timeout"] != "7s" {
		t.Fatalf("shutting down with timeout %v, want 7s", e["timeout"])
	}
}
