package chat_test

import (
	"testing"

	"github.com/chatd/chatd/server/chat"
)

// TestReconfigureRate: a lowered chat.rate holds sessions that send their
// first message after it; a session limited before keeps its own rate,
// while max_rejected applies to it at once.
func TestReconfigureRate(t *testing.T) {
	cfgFor := func(perSecond float64, burst, maxRejected int) chat.Config {
		c := chat.DefaultConfig()
		c.Login.AddressRate, c.Login.AddressBurst = 1e6, 1e6
		c.Mailbox.Anonymous = true
		c.Rate.MessagesPerSecond, c.Rate.Burst, c.Rate.MaxRejected = perSecond, burst, maxRejected
		return c
	}
	e := start(t, options{chat: func(c *chat.Config) { *c = cfgFor(0.001, 2, 100) }})
	alice := e.login(t, "alice")
	alice.sendJSON(map[string]any{"type": "rooms"}) // makes her limiter: burst 2
	alice.expect(map[string]any{"type": "rooms"})

	if err := e.svc.Reconfigure(cfgFor(0.002, 1, 1)); err != nil {
		t.Fatal(err)
	}
	bob := e.login(t, "bob")
	bob.sendJSON(map[string]any{"type": "rooms"})
	bob.expect(map[string]any{"type": "rooms"})
	bob.sendJSON(map[string]any{"type": "rooms"})
	bob.expect(map[string]any{"type": "error", "error": "rate limit: at most 0.002 messages per second"})

	alice.sendJSON(map[string]any{"type": "rooms"}) // her second token
	alice.expect(map[string]any{"type": "rooms"})
	alice.sendJSON(map[string]any{"type": "rooms"})
	alice.expect(map[string]any{"type": "error", "error": "rate limit: at most 0.001 messages per second"})
	alice.sendJSON(map[string]any{"type": "rooms"}) // second rejection: over max_rejected 1
	if code := alice.closeCode(); code != 4029 {
		t.Fatalf("close = %d, want 4029", code)
	}
}

// TestReconfigureInvalid: an invalid chat config changes nothing.
func TestReconfigureInvalid(t *testing.T) {
	e := start(t, options{})
	bad := chat.DefaultConfig()
	bad.Rate.Burst = 0
	if err := e.svc.Reconfigure(bad); err == nil {
		t.Fatal("Reconfigure accepted chat.rate.burst 0")
	}
	alice := e.login(t, "alice")
	alice.sendJSON(map[string]any{"type": "rooms"})
	alice.expect(map[string]any{"type": "rooms"})
}

// TestReconfigureMaxPerSession: a lowered chat.rooms.max_per_session holds
// the next join of a session already open, which keeps its rooms.
func TestReconfigureMaxPerSession(t *testing.T) {
	e := start(t, options{chat: func(c *chat.Config) { c.Rooms.MaxPerSession = 3 }})
	alice := e.login(t, "alice")
	for _, room := range []string{"a", "b"} {
		alice.sendJSON(map[string]any{"type": "join", "room": room})
		alice.expect(map[string]any{"type": "joined"})
	}
	cfg := chat.DefaultConfig()
	cfg.Rooms.MaxPerSession = 1
	if err := e.svc.Reconfigure(cfg); err != nil {
		t.Fatal(err)
	}
	alice.sendJSON(map[string]any{"type": "join", "room": "c"})
	alice.expect(map[string]any{"type": "error", "error": "too many rooms: leave one first"})
	alice.sendJSON(map[string]any{"type": "leave", "room": "a"})
	alice.expect(map[string]any{"type": "left"})
	alice.sendJSON(map[string]any{"type": "join", "room": "c"}) // still 1 extra room: over the cap
	alice.expect(map[string]any{"type": "error", "error": "too many rooms: leave one first"})
}
