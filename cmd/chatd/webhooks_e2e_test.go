package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server/webhook"
	"github.com/chatd/chatd/server/wire"
)

// hookReceiver is a webhook endpoint that fails its first fail requests
// with 500, then records what it accepts. Safe for concurrent use.
type hookReceiver struct {
	secret string
	fail   int

	mu       sync.Mutex // guards the fields below
	down     bool       // answer 500
	requests int
	badSig   int
	events   []wire.Event
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.requests++
	if !webhook.Verify([]byte(h.secret), body, r.Header.Get(webhook.SignatureHeader)) {
		h.badSig++
	}
	if h.requests <= h.fail || h.down {
		http.Error(w, "not yet", http.StatusInternalServerError)
		return
	}
	var evs wire.Events
	if err := json.Unmarshal(body, &evs); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.events = append(h.events, evs.Events...)
}

// lines returns the distinct events, in id order, as "type user detail".
func (h *hookReceiver) lines() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	byID := map[uint64]wire.Event{}
	for _, e := range h.events {
		byID[e.ID] = e
	}
	ids := make([]uint64, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []string
	for _, id := range ids {
		e := byID[id]
		l := e.Type + " " + e.User
		switch e.Type {
		case wire.EventJoin, wire.EventLeave:
			l += " " + e.Room
		case wire.EventLogout:
			l += fmt.Sprintf(" %d offline=%v", e.Code, e.Offline)
		case wire.EventStored:
			l += " from " + e.Sender
		}
		out = append(out, l)
	}
	return out
}

// TestWebhooksEndToEnd runs chatd with webhooks.url set to a receiver that
// fails at first: real WebSocket logins, a join, a leave, a message stored
// for an offline user, a client's close and the server's shutdown all
// reach it, signed, each once at least, and the shutdown flushes the last
// ones (the logout with 1001) before run returns.
func TestWebhooksEndToEnd(t *testing.T) {
	rcv := &hookReceiver{secret: "e2e-secret", fail: 2}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	cfg := strings.Replace(testConfig, "    dir:", "    anonymous: true\n    dir:", 1)
	cfg = strings.Replace(cfg, "log:\n", `webhooks:
  url: "`+srv.URL+`/hook"
  secret: "e2e-secret"
  retry_min: "10ms"
  retry_max: "50ms"
  durable: true
log:
`, 1)
	r := startRun(t, cfg)
	addr := r.logs.listenAddr(t)

	alice := dialChat(t, addr)
	alice.login("alice", false)
	alice.send(map[string]any{"type": "join", "room": "dev"})
	for m := alice.recv(); m["type"] != "joined"; m = alice.recv() {
	}
	alice.send(map[string]any{"type": "leave", "room": "dev"})
	for m := alice.recv(); m["type"] != "left"; m = alice.recv() {
	}
	alice.send(map[string]any{"receiver": "bob", "data": "ping me", "id": 1})
	for m := alice.recv(); m["type"] != "sent"; m = alice.recv() {
		if m["type"] == "error" {
			t.Fatalf("message to offline bob: %v", m)
		}
	}
	_ = alice.conn.WriteClose(ws.StatusNormalClosure, "")
	// carol logs in once alice's logout is out, so that the events' order
	// below is the test's (a login racing a close may come first).
	deadline := time.Now().Add(10 * time.Second)
	for !slices.Contains(rcv.lines(), "logout alice 1000 offline=true") {
		if time.Now().After(deadline) {
			t.Fatalf("no logout of alice within 10s; events: %q", rcv.lines())
		}
		time.Sleep(10 * time.Millisecond)
	}

	carol := dialChat(t, addr)
	carol.login("carol", false)
	r.signals <- os.Interrupt
	if s := r.wait(t, 30*time.Second); s != 0 {
		t.Fatalf("exit status %d", s)
	}
	got := rcv.lines()
	want := []string{
		"start ",
		"login alice", "join alice lobby", "join alice dev", "leave alice dev", "stored bob from alice",
		"leave alice lobby", "logout alice 1000 offline=true",
		"login carol", "join carol lobby", "leave carol lobby", "logout carol 1001 offline=true",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events in id order:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if rcv.badSig != 0 || rcv.requests < 3 {
		t.Fatalf("%d requests, %d with a bad signature: want the 2 failures retried, all signed", rcv.requests, rcv.badSig)
	}
	r.logs.waitFor(t, "webhooks stopped", time.Second)
}

// waitLines polls until the receiver's distinct events, in id order, are
// want, failing after timeout.
func (h *hookReceiver) waitLines(t *testing.T, want []string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for got := h.lines(); strings.Join(got, "\n") != strings.Join(want, "\n"); got = h.lines() {
		if time.Now().After(deadline) {
			t.Fatalf("events in id order after %v:\n%s\nwant:\n%s", timeout, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestWebhooksSurviveKill9: with webhooks.durable, events the receiver
// could not take before chatd was killed with SIGKILL are sent after the
// restart, ahead of the new run's "start".
func TestWebhooksSurviveKill9(t *testing.T) {
	bin := buildChatd(t)
	rcv := &hookReceiver{secret: "k9"}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	cfg := writeFile(t, "chatd.yaml", strings.Replace(testConfig, "log:\n", `webhooks:
  url: "`+srv.URL+`"
  secret: "k9"
  retry_min: "10ms"
  retry_max: "50ms"
  durable: true
log:
`, 1))
	p := startProcess(t, bin, "-config", cfg)
	addr := p.logs.listenAddr(t)
	rcv.waitLines(t, []string{"start "}, 10*time.Second)
	rcv.mu.Lock()
	rcv.down = true
	rcv.mu.Unlock()
	alice := dialChat(t, addr)
	alice.login("alice", false)
	alice.send(map[string]any{"type": "join", "room": "dev"})
	for m := alice.recv(); m["type"] != "joined"; m = alice.recv() {
	}
	// The file takes new events every 100 ms: wait well past that (the
	// promise under test is a time), then kill.
	time.Sleep(500 * time.Millisecond)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done

	rcv.mu.Lock()
	rcv.down = false
	rcv.mu.Unlock()
	startProcess(t, bin, "-config", cfg)
	// No logout for alice: the killed process never saw her go. The new
	// run's start says so.
	rcv.waitLines(t, []string{"start ", "login alice", "join alice lobby", "join alice dev", "start "}, 20*time.Second)
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if rcv.badSig != 0 {
		t.Errorf("%d bodies with a bad signature", rcv.badSig)
	}
}
