package chat_test

import (
	"testing"
	"time"

	"github.com/chatd/chatd/server/chat"
	"github.com/chatd/chatd/server/config"
)

// loginJSON dials /ws with the JSON subprotocol, logs name in with extra
// login fields, and returns the client and its login_ok.
func (e *env) loginJSON(t testing.TB, name string, extra map[string]any) (*client, map[string]any) {
	t.Helper()
	c, _ := e.dialPath(t, "/ws", chat.ProtocolJSON)
	req := map[string]any{"type": "login", "name": name}
	for k, v := range extra {
		req[k] = v
	}
	c.sendJSON(req)
	return c, c.expect(map[string]any{"type": "login_ok", "user": name})
}

// TestResumeTakesOverADeadSession: the anonymous backend's one session
// per name is held by a connection whose network is gone (the server has
// not noticed); a login with its resume token takes its place at once,
// closes it with 4009 and rejoins its rooms. Without the token the name is
// refused.
func TestResumeTakesOverADeadSession(t *testing.T) {
	e := start(t, options{authn: &fakeAuth{maxSessions: 1}})
	old, ok := e.loginJSON(t, "alice", nil)
	token, _ := ok["resume"].(string)
	if token == "" {
		t.Fatalf("login_ok without resume: %v", ok)
	}
	old.sendJSON(map[string]any{"type": "join", "room": "dev", "id": 1})
	old.expect(map[string]any{"type": "joined", "room": "dev"})

	plain, _ := e.dialPath(t, "/ws", chat.ProtocolJSON)
	plain.sendJSON(map[string]any{"type": "login", "name": "alice"})
	plain.expect(map[string]any{"type": "login_error", "error": "name is already online"})

	fresh, ok2 := e.loginJSON(t, "alice", map[string]any{"resume": token})
	if !equalJSON(ok2["rooms"], []string{"lobby", "dev"}) {
		t.Fatalf("rooms after resume %v, want lobby and dev", ok2["rooms"])
	}
	if t2, _ := ok2["resume"].(string); t2 == "" || t2 == token {
		t.Fatalf("resumed session's token %q: want a new one", t2)
	}
	if code := old.closeCode(); code != chat.CloseReplaced {
		t.Fatalf("old session closed with %d, want %d", code, chat.CloseReplaced)
	}
	bob := e.login(t, "bob")
	bob.sendJSON(map[string]any{"type": "join", "room": "dev"})
	bob.expect(map[string]any{"type": "joined"})
	fresh.expect(map[string]any{"type": "presence", "user": "bob", "status": "online"})
	bob.sendJSON(map[string]any{"room": "dev", "data": "still here?"})
	fresh.expect(map[string]any{"type": "message", "room": "dev", "data": "still here?"})
}

// TestResumeAfterClose: after its session closed, a token resumes it once
// within chat.resume.ttl; used again, or after the ttl, it is ignored (the
// login is an ordinary one, which rejoins only the auto-joined rooms).
func TestResumeAfterClose(t *testing.T) {
	e := start(t, options{chat: func(c *config.Chat) { c.Resume.TTL = 300 * time.Millisecond }})
	old, ok := e.loginJSON(t, "alice", nil)
	token := ok["resume"].(string)
	old.sendJSON(map[string]any{"type": "join", "room": "dev"})
	old.expect(map[string]any{"type": "joined"})
	bob := e.login(t, "bob")
	old.c.Close()
	waitGone(t, bob, "alice")
	a2, ok2 := e.loginJSON(t, "alice", map[string]any{"resume": token})
	if !equalJSON(ok2["rooms"], []string{"lobby", "dev"}) {
		t.Fatalf("rooms %v", ok2["rooms"])
	}
	a2.c.Close()
	waitGone(t, bob, "alice")
	_, ok3 := e.loginJSON(t, "alice", map[string]any{"resume": token})
	if !equalJSON(ok3["rooms"], []string{"lobby"}) {
		t.Fatalf("a used token resumed again: rooms %v", ok3["rooms"])
	}
}

// TestResumeTokenExpires: past the ttl a closed session's token is ignored.
func TestResumeTokenExpires(t *testing.T) {
	e := start(t, options{chat: func(c *config.Chat) { c.Resume.TTL = 50 * time.Millisecond }})
	old, ok := e.loginJSON(t, "alice", nil)
	token := ok["resume"].(string)
	old.sendJSON(map[string]any{"type": "join", "room": "dev"})
	old.expect(map[string]any{"type": "joined"})
	bob := e.login(t, "bob")
	old.c.Close()
	waitGone(t, bob, "alice")
	time.Sleep(150 * time.Millisecond) // three ttls: expiry is time passing
	_, m := e.loginJSON(t, "alice", map[string]any{"resume": token})
	if !equalJSON(m["rooms"], []string{"lobby"}) {
		t.Fatalf("expired token resumed: %v", m)
	}
}

// TestResumeTokenIsBound: a token resumes only its own name, and a token
// changed in any way resumes nothing; such logins are ordinary ones.
func TestResumeTokenIsBound(t *testing.T) {
	e := start(t, options{authn: &fakeAuth{maxSessions: 1}})
	_, ok := e.loginJSON(t, "alice", nil)
	token := ok["resume"].(string)
	e.loginJSON(t, "bob", nil)
	for _, tc := range []struct{ name, token string }{
		{"bob", token},
		{"alice", token[:len(token)-1] + flip(token[len(token)-1])},
		{"alice", flip(token[0]) + token[1:]},
		{"alice", token + "A"},
		{"alice", "not a token"},
	} {
		c, _ := e.dialPath(t, "/ws", chat.ProtocolJSON)
		c.sendJSON(map[string]any{"type": "login", "name": tc.name, "resume": tc.token})
		c.expect(map[string]any{"type": "login_error", "error": "name is already online"})
	}
}

func flip(b byte) string {
	if b == 'A' {
		return "B"
	}
	return "A"
}

// TestResumeOff: with chat.resume.ttl 0 there is no token.
func TestResumeOff(t *testing.T) {
	e := start(t, options{chat: func(c *config.Chat) { c.Resume.TTL = 0 }})
	_, ok := e.loginJSON(t, "alice", nil)
	if _, has := ok["resume"]; has {
		t.Fatalf("token with resume off: %v", ok)
	}
}

// waitGone polls with asker's seen requests until user is offline.
func waitGone(t *testing.T, asker *client, user string) {
	t.Helper()
	waitFor(t, func() bool {
		asker.sendJSON(map[string]any{"type": "seen", "user": user})
		return asker.expect(map[string]any{"type": "seen"})["online"] == false
	})
}
