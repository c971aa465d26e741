package chat_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/chat"
)

// TestLargeRepliesPaced: a slow reader that sends joins with since for 24
// rooms and history requests at once, 20 times the write budget in
// replies, gets every reply whole, in the order asked, and no 4008: one
// large reply is written at a time, the next request waiting until the
// socket took it.
func TestLargeRepliesPaced(t *testing.T) {
	const rooms, per, size = 24, 40, 6000
	e := start(t, options{chat: func(c *chat.Config) {
		c.Rate.MessagesPerSecond, c.Rate.Burst = 1e6, 1e6
		c.Rooms.Presence = false
	}, server: func(c *server.Config) { c.Limits.WriteBudgetBytes = 288 << 10 }})
	bob, _ := e.loginJSON(t, "bob", nil)
	pad := strings.Repeat("x", size)
	for r := 0; r < rooms; r++ {
		room := fmt.Sprintf("r%d", r)
		bob.sendJSON(map[string]any{"type": "join", "room": room})
		bob.expect(map[string]any{"type": "joined"})
		for i := 1; i <= per; i++ {
			bob.sendJSON(map[string]any{"room": room, "data": fmt.Sprintf("%d %s", i, pad)})
		}
	}
	bob.sendJSON(map[string]any{"type": "history", "room": fmt.Sprintf("r%d", rooms-1), "limit": 1})
	bob.expect(map[string]any{"type": "history"})

	slow := e.dialSlow(t)
	slow.sendJSON(map[string]any{"type": "login", "name": "alice"})
	slow.expect(map[string]any{"type": "login_ok"})
	for r := 0; r < rooms; r++ {
		slow.sendJSON(map[string]any{"type": "join", "room": fmt.Sprintf("r%d", r), "since": 0, "id": r})
		slow.sendJSON(map[string]any{"type": "history", "room": fmt.Sprintf("r%d", r), "id": 100 + r})
	}
	for r := 0; r < rooms; r++ {
		room := fmt.Sprintf("r%d", r)
		slow.expect(map[string]any{"type": "joined", "room": room, "ref": r, "recovered": true})
		for i := 1; i <= per; i++ {
			if i%20 == 0 {
				time.Sleep(5 * time.Millisecond) // a slow reader
			}
			slow.expect(map[string]any{"type": "message", "room": room, "seq": i})
		}
		h := slow.expect(map[string]any{"type": "history", "room": room, "ref": 100 + r})
		if n := len(h["messages"].([]any)); n != per {
			t.Fatalf("%s: history of %d, want %d", room, n, per)
		}
	}
}

// TestWaitingRequestsBounded: behind a large reply the socket has not
// taken, at most 64 requests wait; the next ones get an error at once, and
// the 64 are answered in order once the reader reads.
func TestWaitingRequestsBounded(t *testing.T) {
	// A reply of 6 MB: more than the kernel's buffers take at once, so it
	// stays unflushed while the reader does not read.
	e := start(t, options{chat: func(c *chat.Config) {
		c.Rate.MessagesPerSecond, c.Rate.Burst = 1e6, 1e6
		c.Rooms.Presence = false
		c.History.MaxBytes, c.History.MaxTotalBytes = 16<<20, 64<<20
	}, server: func(c *server.Config) { c.Limits.WriteBudgetBytes = 32 << 20 }})
	bob, _ := e.loginJSON(t, "bob", nil)
	pad := strings.Repeat("x", 60000)
	for i := 0; i < 100; i++ {
		bob.sendJSON(map[string]any{"data": pad})
	}
	bob.sendJSON(map[string]any{"type": "history", "room": "lobby", "limit": 1})
	bob.expect(map[string]any{"type": "history"})

	slow := e.dialSlow(t)
	slow.sendJSON(map[string]any{"type": "login", "name": "alice"})
	slow.expect(map[string]any{"type": "login_ok"})
	slow.sendJSON(map[string]any{"type": "history", "room": "lobby", "id": "big"})
	const extra = 6
	for i := 0; i < 64+extra; i++ {
		slow.sendJSON(map[string]any{"type": "rooms", "id": i})
	}
	slow.expect(map[string]any{"type": "history", "ref": "big"})
	for i := 0; i < extra; i++ {
		slow.expect(map[string]any{"type": "error", "error": "too many requests while a large reply is being written: read it first"})
	}
	for i := 0; i < 64; i++ {
		slow.expect(map[string]any{"type": "rooms", "ref": i})
	}
	slow.quiet()
}
