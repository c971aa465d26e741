package chat_test

import (
	"testing"
)

// TestOfflineDelivery: a message to an offline user is stored, then
// delivered at login before live traffic, and removed once written.
func TestOfflineDelivery(t *testing.T) {
	e := start(t, options{})
	alice := e.login(t, "alice")
	alice.sendJSON(map[string]any{"receiver": "bob", "data": "first", "id": 1})
	alice.expect(map[string]any{"type": "sent", "status": "stored", "ref": 1})
	alice.sendJSON(map[string]any{"receiver": "bob", "data": "second", "id": 2})
	alice.expect(map[string]any{"type": "sent", "status": "stored", "ref": 2})

	bob := e.login(t, "bob")
	bob.expect(map[string]any{"sender": "alice", "data": "first", "offline": true})
	bob.expect(map[string]any{"sender": "alice", "data": "second", "offline": true})
	alice.sendJSON(map[string]any{"receiver": "bob", "data": "live"})
	bob.expect(map[string]any{"data": "live", "offline": nil})
	waitFor(t, func() bool { return e.box.count("bob") == 0 })
}

// TestOfflineAcks: with acks, unacked messages come again at the next
// login with the same id; acked ones do not.
func TestOfflineAcks(t *testing.T) {
	e := start(t, options{})
	alice := e.login(t, "alice")
	for _, d := range []string{"m1", "m2", "m3"} {
		alice.sendJSON(map[string]any{"receiver": "bob", "data": d, "id": d})
		alice.expect(map[string]any{"status": "stored"})
	}
	loginAck := func() *client {
		c := e.dial(t)
		c.sendJSON(map[string]any{"type": "login", "name": "bob", "ack": true})
		c.expect(map[string]any{"type": "login_ok", "ack": true})
		return c
	}
	bob := loginAck()
	first := bob.expect(map[string]any{"data": "m1", "offline": true})
	bob.expect(map[string]any{"data": "m2"})
	bob.expect(map[string]any{"data": "m3"})
	bob.c.Close()
	waitFor(t, func() bool { return onlineGone(t, alice, "bob") })

	bob = loginAck()
	again := bob.expect(map[string]any{"data": "m1"})
	if again["id"] != first["id"] {
		t.Fatalf("redelivered id %v, first %v", again["id"], first["id"])
	}
	second := bob.expect(map[string]any{"data": "m2"})
	bob.expect(map[string]any{"data": "m3"})
	bob.sendJSON(map[string]any{"type": "ack", "id": second["id"]})
	waitFor(t, func() bool { return e.box.count("bob") == 1 })
	bob.c.Close()
	waitFor(t, func() bool { return onlineGone(t, alice, "bob") })

	bob = loginAck()
	bob.expect(map[string]any{"data": "m3", "offline": true})
	bob.quiet()
}

func TestMailboxFull(t *testing.T) {
	e := start(t, options{box: newMemBox(1)})
	alice := e.login(t, "alice")
	alice.sendJSON(map[string]any{"receiver": "bob", "data": 1, "id": 1})
	alice.expect(map[string]any{"status": "stored"})
	alice.sendJSON(map[string]any{"receiver": "bob", "data": 2, "id": 2})
	alice.expect(map[string]any{"type": "error", "error": "the receiver's mailbox is full", "ref": 2})
}

func onlineGone(t *testing.T, c *client, user string) bool {
	c.sendJSON(map[string]any{"type": "seen", "user": user})
	return c.next()["online"] == false
}
