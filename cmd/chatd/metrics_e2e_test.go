package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/chatd/chatd/server/wstest"
)

// metricsConfig is testConfig with the admin listener on a free port, the
// static backend (alice, bob, carol, dave), and a chat.rate a test can
// trip quickly (4029) without the others' few messages coming near it.
var metricsConfig = strings.Replace(strings.Replace(testConfig, "chat:\n", `chat:
  rate:
    messages_per_second: 0.5
    burst: 10
    max_rejected: 3
    window: "1m"
`, 1), "log:\n", `auth:
  backend: static
  static:
    users: [alice, bob, carol, dave]
admin:
  listen: "127.0.0.1:0"
  pprof: true
log:
`, 1)

// adminAddr waits for the "admin listening" line and returns its addr.
func (l *logLines) adminAddr(tb testing.TB) string {
	tb.Helper()
	e := l.waitFor(tb, "admin listening", 30*time.Second)
	addr, _ := e["addr"].(string)
	if addr == "" {
		tb.Fatalf("admin listening line has no addr: %v", e)
	}
	return addr
}

// scrape reads /metrics on the admin listener at addr.
func scrape(tb testing.TB, addr string) map[string]*dto.MetricFamily {
	tb.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		tb.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		tb.Fatalf("scrape: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		tb.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value is the value of the sample of family name whose labels include
// labels ("k=v" pairs), and whether there is one: a counter's or a
// gauge's value, a histogram's count.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		for _, kv := range labels {
			k, v, _ := strings.Cut(kv, "=")
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == k && lp.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// want is one expected sample: a metric, its labels, its value.
type want struct {
	name   string
	labels []string
	value  float64
}

func (w want) String() string {
	return fmt.Sprintf("%s{%s}", w.name, strings.Join(w.labels, ","))
}

// waitMetrics scrapes until every sample of wants has its value, failing
// with the differences after timeout.
func waitMetrics(t *testing.T, addr string, wants []want, timeout time.Duration) map[string]*dto.MetricFamily {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		fams := scrape(t, addr)
		var bad []string
		for _, w := range wants {
			if got, ok := value(fams, w.name, w.labels...); !ok || got != w.value {
				bad = append(bad, fmt.Sprintf("%v = %v (present %v), want %v", w, got, ok, w.value))
			}
		}
		if len(bad) == 0 {
			return fams
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics after %v:\n%s", timeout, strings.Join(bad, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// recvType reads c's messages until one of type typ, skipping the others
// (presence, for one).
func (c *chatClient) recvType(typ string) map[string]any {
	c.t.Helper()
	for {
		if m := c.recv(); m["type"] == typ {
			return m
		}
	}
}

// rawRequest sends an HTTP request head to addr and returns the status line.
func rawRequest(t *testing.T, addr, head string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("read answer to %q: %v", head, err)
	}
	return strings.TrimSpace(line)
}

// TestMetricsCountKnownTraffic drives known traffic through a real chatd
// and checks the exact counts /metrics reports for it.
func TestMetricsCountKnownTraffic(t *testing.T) {
	r := startRun(t, metricsConfig)
	addr := r.logs.listenAddr(t)
	adm := r.logs.adminAddr(t)

	// Logins: three ok, one refused on its merits (unknown name).
	alice, bob := dialChat(t, addr), dialChat(t, addr)
	alice.login("alice", false)
	bob.login("bob", false)
	mallory := dialChat(t, addr)
	mallory.send(map[string]any{"type": "login", "name": "mallory"})
	if m := mallory.recvType("login_error"); m["error"] == nil {
		t.Fatalf("mallory: %v", m)
	}

	// Private: one delivered to bob, one stored for carol (offline).
	alice.send(map[string]any{"receiver": "bob", "data": "hi bob", "id": 1})
	bob.recvType("message")
	if m := alice.recvType("sent"); m["status"] != "delivered" {
		t.Fatalf("to bob: %v", m)
	}
	alice.send(map[string]any{"receiver": "carol", "data": "hi carol", "id": 2})
	if m := alice.recvType("sent"); m["status"] != "stored" {
		t.Fatalf("to carol: %v", m)
	}
	// Lobby: one message, to bob (the sender does not get it).
	alice.send("hello lobby")
	bob.recvType("message")
	// Room r1, both members: one message, to bob.
	alice.send(map[string]any{"type": "join", "room": "r1"})
	alice.recvType("joined")
	bob.send(map[string]any{"type": "join", "room": "r1"})
	bob.recvType("joined")
	alice.send(map[string]any{"room": "r1", "data": "hi r1"})
	if m := bob.recvType("message"); m["room"] != "r1" {
		t.Fatalf("bob got %v, want the r1 message", m)
	}
	// carol logs in and is given her stored message.
	carol := dialChat(t, addr)
	carol.login("carol", false)
	if m := carol.recvType("message"); m["data"] != "hi carol" {
		t.Fatalf("carol: %v", m)
	}

	// dave trips the rate limit: a burst of 10 requests, then 4 over the
	// rate (max_rejected 3) close the connection with 4029.
	dave := dialChat(t, addr)
	dave.login("dave", false)
	for range 14 {
		dave.send(map[string]any{"type": "rooms"})
	}
	expectClose(t, dave.conn, ws.StatusCode(4029), 10*time.Second)

	// Refused handshakes: an upgrade to no endpoint, a plain GET of /ws.
	upgrade := "GET /nope HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if got := rawRequest(t, addr, upgrade); !strings.Contains(got, " 404 ") {
		t.Fatalf("upgrade to /nope: %q", got)
	}
	if got := rawRequest(t, addr, "GET /ws HTTP/1.1\r\nHost: x\r\n\r\n"); !strings.Contains(got, " 426 ") {
		t.Fatalf("GET /ws: %q", got)
	}
	// One echo round trip.
	echo := dialEcho(t, addr)
	echo.Close()

	fams := waitMetrics(t, adm, []want{
		{"chatd_logins_total", []string{"result=ok"}, 4},
		{"chatd_logins_total", []string{"result=refused", "reason=rejected"}, 1},
		{"chatd_chat_messages_received_total", []string{"kind=private"}, 2},
		{"chatd_chat_messages_received_total", []string{"kind=lobby"}, 1},
		{"chatd_chat_messages_received_total", []string{"kind=room"}, 1},
		{"chatd_chat_messages_delivered_total", []string{"kind=private"}, 1},
		{"chatd_chat_messages_delivered_total", []string{"kind=lobby"}, 1},
		{"chatd_chat_messages_delivered_total", []string{"kind=room"}, 1},
		{"chatd_delivery_latency_seconds", []string{"kind=private"}, 1},
		{"chatd_room_fanout_members", nil, 2}, // the lobby and r1 messages
		{"chatd_mailbox_stored_total", nil, 1},
		{"chatd_mailbox_delivered_total", nil, 1},
		{"chatd_mailbox_queue_jobs", nil, 0},
		{"chatd_sessions_online", nil, 3}, // alice, bob, carol; dave was closed
		{"chatd_users_online", nil, 3},
		{"chatd_ws_closes_total", []string{"code=4029"}, 1},
		{"chatd_ws_closes_total", []string{"code=1006"}, 1}, // the echo client hung up
		{"chatd_handshakes_failed_total", []string{"reason=not_found"}, 1},
		{"chatd_handshakes_failed_total", []string{"reason=not_websocket"}, 1},
		{"chatd_connections_opened_total", []string{"endpoint=/ws"}, 5},
		{"chatd_connections_open", []string{"endpoint=/ws"}, 4}, // mallory's is still open
		{"chatd_connections_opened_total", []string{"endpoint=/echo"}, 1},
		{"chatd_connections_open", []string{"endpoint=/echo"}, 0},
		{"chatd_ws_messages_received_total", []string{"endpoint=/echo"}, 1},
		{"chatd_ws_messages_sent_total", []string{"endpoint=/echo"}, 1},
		{"chatd_connections_refused_total", []string{"reason=max_total"}, 0},
	}, 10*time.Second)

	// Counted, but not to an exact figure: traffic and the loops.
	for _, name := range []string{"chatd_ws_received_bytes_total", "chatd_ws_sent_bytes_total",
		"chatd_connections_accepted_total", "chatd_event_loop_wakes_total", "chatd_event_loop_busy_seconds_total",
		"go_goroutines", "process_open_fds"} {
		if v, ok := value(fams, name); !ok || v <= 0 {
			t.Errorf("%s = %v (present %v), want > 0", name, v, ok)
		}
	}
	// No label value from client input: no user or room name anywhere.
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			for _, lp := range m.GetLabel() {
				switch lp.GetValue() {
				case "alice", "bob", "carol", "dave", "mallory", "r1", "/nope":
					t.Errorf("%s has label %s=%q from client input", name, lp.GetName(), lp.GetValue())
				}
			}
		}
	}
	_ = mallory
}

// TestMetricsRefusedConnection: a connection over
// server.connections.max_per_address is counted as refused by that limit,
// and a slow consumer's close by its code.
func TestMetricsRefusedConnection(t *testing.T) {
	cfg := strings.Replace(metricsConfig, "  shutdown_timeout: \"5s\"\n", `  shutdown_timeout: "5s"
  connections:
    max_per_address: 1
`, 1)
	r := startRun(t, cfg)
	addr := r.logs.listenAddr(t)
	adm := r.logs.adminAddr(t)
	c := dialEcho(t, addr)
	defer c.Close()
	upgrade := "GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if got := rawRequest(t, addr, upgrade); !strings.Contains(got, " 429 ") {
		t.Fatalf("second connection: %q, want 429", got)
	}
	waitMetrics(t, adm, []want{
		{"chatd_connections_refused_total", []string{"reason=address_connections"}, 1},
		{"chatd_connections_accepted_total", nil, 1},
		{"chatd_connections_open", []string{"endpoint=/echo"}, 1},
	}, 10*time.Second)

	// A close code the peer made up is counted as other, not by number.
	if err := c.Write(wstest.Close(4567, "made up")); err != nil {
		t.Fatal(err)
	}
	c.ExpectClose(t, 4567)
	fams := waitMetrics(t, adm, []want{
		{"chatd_ws_closes_total", []string{"code=other"}, 1},
		{"chatd_connections_open", []string{"endpoint=/echo"}, 0},
	}, 10*time.Second)
	if _, ok := value(fams, "chatd_ws_closes_total", "code=4567"); ok {
		t.Error("close code 4567, from the peer, has a label of its own")
	}
}

// TestAdminReadyzAndPprof: /readyz is 200 once serving and 503 once
// draining; /healthz answers as the main listener's; /debug/pprof/ is
// served with admin.pprof and 404 without.
func TestAdminReadyzAndPprof(t *testing.T) {
	for _, pprofOn := range []bool{true, false} {
		t.Run(fmt.Sprintf("pprof=%v", pprofOn), func(t *testing.T) {
			cfg := metricsConfig
			if !pprofOn {
				cfg = strings.Replace(cfg, "pprof: true", "pprof: false", 1)
			}
			r := startRun(t, cfg)
			r.logs.listenAddr(t)
			adm := r.logs.adminAddr(t)
			waitStatus(t, "http://"+adm+"/readyz", 200, "ready")
			waitStatus(t, "http://"+adm+"/healthz", 200, "ok")
			wantPprof := 404
			if pprofOn {
				wantPprof = 200
			}
			waitStatus(t, "http://"+adm+"/debug/pprof/", wantPprof, "")
			if pprofOn {
				waitStatus(t, "http://"+adm+"/debug/pprof/goroutine?debug=1", 200, "goroutine profile")
			}
		})
	}
}

// TestAdminReadyzDraining: a client holding its connection open past the
// signal keeps the drain going; /readyz says 503 draining meanwhile.
func TestAdminReadyzDraining(t *testing.T) {
	cfg := strings.Replace(metricsConfig, `close_timeout: "2s"`, `close_timeout: "3s"`, 1)
	r := startRun(t, cfg)
	addr := r.logs.listenAddr(t)
	adm := r.logs.adminAddr(t)
	waitStatus(t, "http://"+adm+"/readyz", 200, "ready")
	c := silentClient(t, addr) // never answers the close: the drain waits for it
	defer c.Close()
	r.signals <- syscall.SIGTERM
	waitStatus(t, "http://"+adm+"/readyz", 503, "not ready: draining")
	// Metrics are still served while draining.
	scrape(t, adm)
}

// waitStatus polls url until it answers code with a body containing
// body, failing after 10 s.
func waitStatus(t *testing.T, url string, code int, body string) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(url)
		if err != nil {
			last = err.Error()
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == code && strings.Contains(string(b), body) {
			return
		}
		last = fmt.Sprintf("%s %q", resp.Status, b)
	}
	t.Fatalf("%s: %s, want %d with %q", url, last, code, body)
}

// sortedKeys is for failure messages.
func sortedKeys(m map[string]*dto.MetricFamily) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
