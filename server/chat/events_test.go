package chat_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"go.uber.org/zap"

	"github.com/chatd/chatd/server/chat"
	"github.com/chatd/chatd/server/webhook"
	"github.com/chatd/chatd/server/wire"
)

// recorder is an EventSink that keeps every event. Safe for concurrent use.
type recorder struct {
	mu  sync.Mutex // guards evs
	evs []wire.Event
}

func (r *recorder) Emit(e wire.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, e)
}

// lines renders the events as "type user room/code/sender": what the
// tests compare.
func (r *recorder) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.evs {
		l := e.Type + " " + e.User
		switch e.Type {
		case wire.EventJoin, wire.EventLeave:
			l += " " + e.Room
		case wire.EventLogout:
			l += fmt.Sprintf(" %d offline=%v", e.Code, e.Offline)
		case wire.EventStored:
			l += fmt.Sprintf(" from %s id>0=%v", e.Sender, e.Message > 0)
		}
		out = append(out, l)
	}
	return out
}

// TestEvents: a login, real joins and leaves (not refused ones), a message
// stored for an offline user, and the close, in the order they happened,
// each with the session's connection id.
func TestEvents(t *testing.T) {
	rec := &recorder{}
	e := start(t, options{opts: []chat.Option{chat.WithEvents(rec)}, chat: func(c *chat.Config) { c.Rooms.Presence = false }})
	alice := e.login(t, "alice")
	alice.sendJSON(map[string]any{"type": "join", "room": "dev"})
	alice.expect(map[string]any{"type": "joined", "room": "dev"})
	alice.sendJSON(map[string]any{"type": "join", "room": "dev"})
	alice.expect(map[string]any{"type": "error"})
	alice.sendJSON(map[string]any{"type": "leave", "room": "dev"})
	alice.expect(map[string]any{"type": "left", "room": "dev"})
	alice.sendJSON(map[string]any{"type": "leave", "room": "dev"})
	alice.expect(map[string]any{"type": "error"})
	alice.sendJSON(map[string]any{"receiver": "bob", "data": "hi", "id": 1})
	alice.expect(map[string]any{"type": "sent", "status": "stored"})
	_ = alice.c.WriteClose(ws.StatusNormalClosure, "bye")
	alice.closeCode()
	want := []string{
		"login alice",
		"join alice lobby",
		"join alice dev",
		"leave alice dev",
		"stored bob from alice id>0=true",
		"leave alice lobby",
		"logout alice 1000 offline=true",
	}
	waitFor(t, func() bool { return len(rec.lines()) >= len(want) })
	if got := rec.lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	conn := rec.evs[0].Conn
	for _, ev := range rec.evs {
		if ev.Type != wire.EventStored && (ev.Conn == 0 || ev.Conn != conn) {
			t.Errorf("event %+v: want conn %d", ev, conn)
		}
	}
}

// TestEventsNeverBlockLogins: with the webhook receiver stuck and a queue
// of one event, logins complete promptly; the events are dropped and
// counted.
func TestEventsNeverBlockLogins(t *testing.T) {
	release := make(chan struct{})
	rcv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	t.Cleanup(rcv.Close)
	t.Cleanup(func() { close(release) })
	sink, err := webhook.New(webhook.Config{URL: rcv.URL, QueueEvents: 1, Timeout: time.Minute}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_ = sink.Close(ctx)
	})
	e := start(t, options{opts: []chat.Option{chat.WithEvents(sink)}, authn: &fakeAuth{maxSessions: 100}})
	for i := range 20 {
		begin := time.Now()
		e.login(t, fmt.Sprintf("user%d", i))
		if d := time.Since(begin); d > 2*time.Second {
			t.Fatalf("login %d took %v with the webhook queue full", i, d)
		}
	}
	if st := sink.Stats(); st.Dropped < 30 || st.Queued != 1 {
		t.Fatalf("stats %+v: want 1 queued and the other logins and joins dropped", st)
	}
}

// BenchmarkLoginEvents is a login's round trip (dial, log in, close)
// without events and with a webhook sink posting to a receiver in the same
// process (so its CPU counts too), with and without batch_wait: the
// difference is what the events (login, join, leave, logout) cost a login.
func BenchmarkLoginEvents(b *testing.B) {
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()
	for _, tc := range []struct {
		name  string
		hooks bool
		wait  time.Duration // webhooks.batch_wait
	}{{"off", false, 0}, {"webhooks", true, webhook.DefaultBatchWait}, {"webhooks-no-batch-wait", true, 0}} {
		b.Run(tc.name, func(b *testing.B) {
			var opts []chat.Option
			if tc.hooks {
				cfg := webhook.Default()
				cfg.URL, cfg.QueueEvents, cfg.QueueBytes, cfg.BatchWait = rcv.URL, 1<<20, 1<<28, tc.wait
				sink, err := webhook.New(cfg, zap.NewNop())
				if err != nil {
					b.Fatal(err)
				}
				defer sink.Close(context.Background())
				opts = append(opts, chat.WithEvents(sink))
			}
			e := start(b, options{opts: opts, authn: &fakeAuth{maxSessions: 1 << 20}})
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				c := e.login(b, fmt.Sprintf("u%d", i))
				c.c.Close()
			}
		})
	}
}
