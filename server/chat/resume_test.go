package chat_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/chat"
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
	e := start(t, options{chat: func(c *chat.Config) { c.Resume.TTL = 300 * time.Millisecond }})
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
	e := start(t, options{chat: func(c *chat.Config) { c.Resume.TTL = 50 * time.Millisecond }})
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
	e := start(t, options{chat: func(c *chat.Config) { c.Resume.TTL = 0 }})
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

// TestResumeRecoversMissedMessages: alice's connection dies silently while
// bob keeps writing to their room; her resume with since gets every
// message she had not read, then the live ones, each exactly once and in
// seq order, while bob never stops.
func TestResumeRecoversMissedMessages(t *testing.T) {
	const total = 300
	e := start(t, options{chat: func(c *chat.Config) {
		c.Rate.MessagesPerSecond, c.Rate.Burst = 1e6, 1e6
		c.History.Messages = total
	}})
	old, ok := e.loginJSON(t, "alice", nil)
	token := ok["resume"].(string)
	old.sendJSON(map[string]any{"type": "join", "room": "dev"})
	old.expect(map[string]any{"type": "joined", "room": "dev"})
	bob, _ := e.loginJSON(t, "bob", nil)
	bob.sendJSON(map[string]any{"type": "join", "room": "dev"})
	bob.expect(map[string]any{"type": "joined", "room": "dev"})
	old.expect(map[string]any{"type": "presence", "user": "bob"})

	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for i := 1; i <= total; i++ {
			b, _ := json.Marshal(map[string]any{"room": "dev", "data": i})
			if bob.c.WriteText(b) != nil { // within the Conn's 5 s
				return
			}
			if i%50 == 0 {
				time.Sleep(5 * time.Millisecond) // keep sending across the resume
			}
		}
	}()
	// alice reads a few, then her network "drops": she stops reading.
	var last float64
	for last < 20 {
		m := old.expect(map[string]any{"type": "message", "room": "dev"})
		last = m["seq"].(float64)
	}
	fresh, ok2 := e.loginJSON(t, "alice", map[string]any{"resume": token, "since": map[string]any{"dev": last}})
	if !equalJSON(ok2["rooms"], []string{"lobby", "dev"}) {
		t.Fatalf("rooms %v", ok2["rooms"])
	}
	fresh.expect(map[string]any{"type": "joined", "room": "dev", "recovered": true})
	want := last + 1
	for want <= total {
		m := fresh.next()
		if m["type"] != "message" {
			continue // presence and the like
		}
		seq := m["seq"].(float64)
		if seq != want || m["data"].(float64) != seq {
			t.Fatalf("got seq %v data %v, want seq %v: a gap or a duplicate", seq, m["data"], want)
		}
		want++
	}
	<-sent
	fresh.quiet()
}

// TestLoginReplaysFlowControlled: a resume with since for many rooms whose
// histories together pass the write budget reaches a reader with a small
// receive buffer whole, in order, without a slow-consumer close: the
// replays are written a room at a time, as the socket takes them.
func TestLoginReplaysFlowControlled(t *testing.T) {
	// 24 x 240 KB: 5.8 MB, past the kernel's send buffer and 20 times a
	// write budget of 288 KiB, which one room's replay fits.
	const rooms, per, size = 24, 40, 6000
	e := start(t, options{chat: func(c *chat.Config) {
		c.Rate.MessagesPerSecond, c.Rate.Burst = 1e6, 1e6
		c.Rooms.Presence = false
	}, server: func(c *server.Config) { c.Limits.WriteBudgetBytes = 288 << 10 }})
	old, ok := e.loginJSON(t, "alice", nil)
	token := ok["resume"].(string)
	bob, _ := e.loginJSON(t, "bob", nil)
	since := map[string]any{}
	for r := 0; r < rooms; r++ {
		name := fmt.Sprintf("r%d", r)
		since[name] = 0
		for _, c := range []*client{old, bob} {
			c.sendJSON(map[string]any{"type": "join", "room": name})
			c.expect(map[string]any{"type": "joined"})
		}
	}
	old.c.Close()
	waitGone(t, bob, "alice")
	pad := strings.Repeat("x", size)
	for r := 0; r < rooms; r++ {
		for i := 1; i <= per; i++ {
			bob.sendJSON(map[string]any{"room": fmt.Sprintf("r%d", r), "data": fmt.Sprintf("%d %s", i, pad)})
		}
	}
	// Every message is in its room's history before alice comes back.
	bob.sendJSON(map[string]any{"type": "history", "room": fmt.Sprintf("r%d", rooms-1), "limit": 1})
	if h := bob.expect(map[string]any{"type": "history"}); len(h["messages"].([]any)) != 1 {
		t.Fatalf("history %v", h)
	}

	slow := e.dialSlow(t)
	slow.sendJSON(map[string]any{"type": "login", "name": "alice", "resume": token, "since": since})
	slow.expect(map[string]any{"type": "login_ok"})
	next := map[string]float64{}
	for got := 0; got < rooms*per; {
		if got%20 == 0 {
			time.Sleep(10 * time.Millisecond) // a slow reader
		}
		m := slow.next()
		switch m["type"] {
		case "joined":
			if m["recovered"] != true {
				t.Fatalf("joined %v", m)
			}
		case "message":
			room := m["room"].(string)
			if seq := m["seq"].(float64); seq != next[room]+1 {
				t.Fatalf("%s: seq %v after %v", room, seq, next[room])
			}
			next[room]++
			got++
		}
	}
}

// TestResumeTokenOnceUnderRace: two logins with the same token at the same
// moment, open or closed session alike: exactly one resumes.
func TestResumeTokenOnceUnderRace(t *testing.T) {
	e := start(t, options{authn: &fakeAuth{maxSessions: 4}})
	for trial := 0; trial < 40; trial++ {
		name := fmt.Sprintf("u%d", trial)
		old, ok := e.loginJSON(t, name, nil)
		token := ok["resume"].(string)
		old.sendJSON(map[string]any{"type": "join", "room": "dev"})
		old.expect(map[string]any{"type": "joined"})
		if trial%2 == 1 {
			old.c.Close() // the closed-session path
		}
		a, _ := e.dialPath(t, "/ws", chat.ProtocolJSON)
		b, _ := e.dialPath(t, "/ws", chat.ProtocolJSON)
		req := map[string]any{"type": "login", "name": name, "resume": token}
		a.sendJSON(req)
		b.sendJSON(req)
		resumed := 0
		for _, c := range []*client{a, b} {
			m := c.next()
			if m["type"] == "login_ok" && equalJSON(m["rooms"], []string{"lobby", "dev"}) {
				resumed++
			}
		}
		if resumed != 1 {
			t.Fatalf("trial %d: %d logins resumed with one token", trial, resumed)
		}
		a.c.Close()
		b.c.Close()
	}
}

// TestLoginSinceNull: a room given as null in a login's since has no
// since: no replay.
func TestLoginSinceNull(t *testing.T) {
	e := start(t, options{})
	bob := e.login(t, "bob")
	bob.send("one")
	bob.sendJSON(map[string]any{"data": "two", "id": 2})
	bob.expect(map[string]any{"type": "sent", "ref": 2}) // in the lobby before alice comes
	c, _ := e.dialPath(t, "/ws", chat.ProtocolJSON)
	c.send(`{"type":"login","name":"alice","since":{"lobby":null}}`)
	c.expect(map[string]any{"type": "login_ok"})
	c.quiet()
	c2, _ := e.dialPath(t, "/ws", chat.ProtocolJSON)
	c2.send(`{"type":"login","name":"carol","since":{"lobby":1}}`)
	c2.expect(map[string]any{"type": "login_ok"})
	c2.expect(map[string]any{"type": "joined", "room": "lobby", "recovered": true})
	c2.expect(map[string]any{"type": "message", "seq": 2, "data": "two"})
}
