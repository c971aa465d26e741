package chat_test

import (
	"testing"

	"github.com/chatd/chatd/server/chat"
)

// TestLobby: a plain-text message reaches everyone else in the lobby.
func TestLobby(t *testing.T) {
	e := start(t, options{})
	alice, bob, carol := e.login(t, "alice"), e.login(t, "bob"), e.login(t, "carol")
	alice.send("hello")
	for _, c := range []*client{bob, carol} {
		c.expect(map[string]any{"type": "message", "sender": "alice", "room": "lobby", "data": "hello"})
	}
	alice.quiet()
	bob.sendJSON(map[string]any{"data": map[string]any{"x": 1}, "id": 5})
	bob.expect(map[string]any{"type": "sent", "status": "delivered", "ref": 5})
	alice.expect(map[string]any{"sender": "bob", "room": "lobby", "data": map[string]any{"x": 1}})
}

// TestPrivate: {receiver, data} reaches only the receiver, sender stamped.
func TestPrivate(t *testing.T) {
	e := start(t, options{})
	alice, bob, carol := e.login(t, "alice"), e.login(t, "bob"), e.login(t, "carol")
	alice.sendJSON(map[string]any{"receiver": "bob", "data": "psst", "id": 1})
	alice.expect(map[string]any{"type": "sent", "status": "delivered", "ref": 1})
	bob.expect(map[string]any{"type": "message", "sender": "alice", "receiver": "bob", "data": "psst"})
	carol.quiet()

	alice.sendJSON(map[string]any{"sender": "alice", "receiver": "bob", "data": "ok"})
	bob.expect(map[string]any{"data": "ok"})
	alice.sendJSON(map[string]any{"sender": "bob", "receiver": "carol", "data": "spoof", "id": 2})
	alice.expect(map[string]any{"type": "error", "error": "sender must be your own name, alice", "ref": 2})
	carol.quiet()
}

// TestPrivateSessions: every session of the receiver gets it, and so do
// the sender's other sessions.
func TestPrivateSessions(t *testing.T) {
	e := start(t, options{authn: &fakeAuth{}, auth: func(a *chat.AuthConfig) { a.SessionsPerUser = 2 }})
	a1, a2 := e.login(t, "alice"), e.login(t, "alice")
	b1, b2 := e.login(t, "bob"), e.login(t, "bob")
	c := e.dial(t)
	c.send("bob")
	if got := c.text(); got != "name is already online" {
		t.Fatalf("third session: %q", got)
	}
	a1.sendJSON(map[string]any{"receiver": "bob", "data": "hi", "id": 1})
	a1.expect(map[string]any{"type": "sent"})
	for _, cl := range []*client{b1, b2, a2} {
		cl.expect(map[string]any{"sender": "alice", "receiver": "bob", "data": "hi"})
	}
}

func TestUnknownReceiver(t *testing.T) {
	e := start(t, options{authn: &directoryAuth{fakeAuth{users: []string{"alice", "bob"}}}})
	alice := e.login(t, "alice")
	alice.sendJSON(map[string]any{"receiver": "zed", "data": "x", "id": 1})
	alice.expect(map[string]any{"type": "error", "error": "unknown receiver zed", "ref": 1})
	alice.sendJSON(map[string]any{"receiver": "bob", "data": "x", "id": 2})
	alice.expect(map[string]any{"type": "sent", "status": "stored", "ref": 2})
}

func TestRooms(t *testing.T) {
	e := start(t, options{chat: func(c *chat.Config) { c.Rooms.MaxPerSession = 2 }})
	alice, bob, carol := e.login(t, "alice"), e.login(t, "bob"), e.login(t, "carol")
	alice.sendJSON(map[string]any{"room": "dev", "data": "x", "id": 1})
	alice.expect(map[string]any{"type": "error", "error": "not a member of room dev: join it first", "ref": 1})

	alice.sendJSON(map[string]any{"type": "join", "room": "dev", "id": 2})
	alice.expect(map[string]any{"type": "joined", "room": "dev", "members": 1, "ref": 2})
	bob.sendJSON(map[string]any{"type": "join", "room": "dev"})
	bob.expect(map[string]any{"type": "joined", "members": 2})
	alice.expect(map[string]any{"type": "presence", "user": "bob", "status": "online", "room": "dev"})

	alice.sendJSON(map[string]any{"room": "dev", "data": "standup"})
	bob.expect(map[string]any{"type": "message", "sender": "alice", "room": "dev", "data": "standup"})
	carol.quiet()

	carol.sendJSON(map[string]any{"type": "who", "room": "dev", "id": 3})
	carol.expect(map[string]any{"type": "who", "room": "dev", "users": []string{"alice", "bob"}, "ref": 3})
	carol.sendJSON(map[string]any{"type": "rooms"})
	carol.expect(map[string]any{"type": "rooms", "rooms": []map[string]any{
		{"name": "dev", "members": 2, "joined": false},
		{"name": "lobby", "members": 3, "joined": true},
	}})

	for _, bad := range []string{"", "-x", "has space", "../etc"} {
		alice.sendJSON(map[string]any{"type": "join", "room": bad})
		if m := alice.next(); m["type"] != "error" {
			t.Fatalf("join %q: %v", bad, m)
		}
	}
	alice.sendJSON(map[string]any{"type": "join", "room": "b"})
	alice.expect(map[string]any{"type": "joined"})
	alice.sendJSON(map[string]any{"type": "join", "room": "c"})
	alice.expect(map[string]any{"type": "error", "error": "too many rooms: leave one first"})

	bob.sendJSON(map[string]any{"type": "leave", "room": "dev"})
	bob.expect(map[string]any{"type": "left", "room": "dev", "members": 1})
	alice.expect(map[string]any{"type": "presence", "user": "bob", "status": "left", "room": "dev"})
}

// TestLobbyPresenceOff: logins are not announced in the lobby by default.
func TestLobbyPresenceOff(t *testing.T) {
	e := start(t, options{})
	alice := e.login(t, "alice")
	e.login(t, "bob")
	alice.quiet()
	alice.sendJSON(map[string]any{"type": "who", "room": "lobby"})
	alice.expect(map[string]any{"users": []string{"alice", "bob"}})
}

func TestSeen(t *testing.T) {
	e := start(t, options{})
	alice := e.login(t, "alice")
	bob := e.login(t, "bob")
	alice.sendJSON(map[string]any{"type": "seen", "user": "bob"})
	alice.expect(map[string]any{"type": "seen", "online": true})
	bob.c.Close()
	deadline := 50
	for ; deadline > 0; deadline-- {
		alice.sendJSON(map[string]any{"type": "seen", "user": "bob"})
		if m := alice.next(); m["online"] == false {
			if m["lastSeen"] == nil {
				t.Fatalf("no lastSeen: %v", m)
			}
			return
		}
	}
	t.Fatal("bob still online after closing")
}

func TestRateLimit(t *testing.T) {
	e := start(t, options{chat: func(c *chat.Config) {
		c.Rate.MessagesPerSecond = 0.001
		c.Rate.Burst = 3
		c.Rate.MaxRejected = 2
	}})
	alice := e.login(t, "alice")
	for i := 0; i < 3; i++ {
		alice.sendJSON(map[string]any{"type": "rooms"})
		alice.expect(map[string]any{"type": "rooms"})
	}
	for i := 0; i < 2; i++ {
		alice.sendJSON(map[string]any{"type": "rooms"})
		alice.expect(map[string]any{"type": "error", "error": "rate limit: at most 0.001 messages per second"})
	}
	alice.sendJSON(map[string]any{"type": "rooms"})
	if code := alice.closeCode(); code != 4029 {
		t.Fatalf("close = %d, want 4029", code)
	}
}

func TestBadRequests(t *testing.T) {
	e := start(t, options{})
	alice := e.login(t, "alice")
	for _, tc := range []struct{ send, want string }{
		{`{"type":"nope","id":1}`, `unknown type "nope"`},
		{`{"receiver":"bob"}`, "a message needs data"},
		{`{"receiver":"bob","room":"lobby","data":1}`, "a message goes to a room or a receiver, not both"},
		{`{"type":"login","name":"x"}`, "already logged in as alice"},
		{`{"receiver":"b c","data":1}`, "invalid receiver: name contains whitespace"},
		{`{broken`, "invalid JSON: invalid character 'b' looking for beginning of object key string"},
	} {
		alice.send(tc.send)
		alice.expect(map[string]any{"type": "error", "error": tc.want})
	}
}

// TestLobbyPresenceOn: with presence_auto_join, logins and logouts are
// announced in the lobby, the logout with the last-seen time.
func TestLobbyPresenceOn(t *testing.T) {
	e := start(t, options{chat: func(c *chat.Config) { c.Rooms.PresenceAutoJoin = true }})
	alice := e.login(t, "alice")
	bob := e.login(t, "bob")
	alice.expect(map[string]any{"type": "presence", "user": "bob", "status": "online", "room": "lobby"})
	bob.c.Close()
	m := alice.expect(map[string]any{"type": "presence", "user": "bob", "status": "offline", "room": "lobby"})
	if m["lastSeen"] == nil {
		t.Fatalf("offline presence without lastSeen: %v", m)
	}
}
