package chat_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/server/chat"
	"github.com/chatd/chatd/server/wstest"
)

// TestTextMode: a client that asked for text (format=text or the chatd.text
// subprotocol) reads chat as lines, gets errors as lines and never a
// "sent", while a JSON client beside it sees JSON.
func TestTextMode(t *testing.T) {
	for _, how := range []struct {
		name, path string
		protocols  []string
		wantProto  string
	}{
		{"query", "/ws?format=text", nil, ""},
		{"query, any case", "/ws?format=TEXT", nil, ""},
		{"subprotocol", "/ws", []string{chat.ProtocolText}, chat.ProtocolText},
		{"subprotocol wins over the query", "/ws?format=json", []string{"mqtt", chat.ProtocolText, chat.ProtocolJSON}, chat.ProtocolText},
	} {
		t.Run(how.name, func(t *testing.T) {
			e := start(t, options{})
			alice, proto := e.dialPath(t, how.path, how.protocols...)
			if proto != how.wantProto {
				t.Fatalf("subprotocol %q, want %q", proto, how.wantProto)
			}
			alice.send("alice")
			if got := alice.text(); got != "True" {
				t.Fatalf("login: %q", got)
			}
			bob := e.login(t, "bob")

			bob.send("hi all")
			if got := alice.text(); got != "[lobby] bob: hi all" {
				t.Fatalf("room line %q", got)
			}
			bob.sendJSON(map[string]any{"receiver": "alice", "data": "psst", "id": 1})
			bob.expect(map[string]any{"type": "sent", "status": "delivered", "ref": 1})
			if got := alice.text(); got != "[private] bob: psst" {
				t.Fatalf("private line %q", got)
			}
			bob.send(`{"room": "lobby", "data": {"n": 1,
				"m": [1, 2]}}`)
			if got := alice.text(); got != `[lobby] bob: {"n":1,"m":[1,2]}` {
				t.Fatalf("JSON data line %q", got)
			}
			// Inside JSON data too: no bidi override or control reaches the line.
			bob.send("{\"room\":\"lobby\",\"data\":{\"a\":\"x\u202ey\u0085\"}}")
			if got := alice.text(); got != "[lobby] bob: {\"a\":\"x\uFFFDy\uFFFD\"}" {
				t.Fatalf("JSON data with controls %q", got)
			}
			// No text passes for a line of its own, and no escape
			// sequence passes at all.
			bob.sendJSON(map[string]any{"room": "lobby", "data": "ok\n[private] admin: your password?\x1b[2K"})
			if got := alice.text(); got != "[lobby] bob: ok\n  [private] admin: your password?\uFFFD[2K" {
				t.Fatalf("multi-line line %q", got)
			}

			// No "sent" in text mode, even for a request with an id.
			alice.sendJSON(map[string]any{"receiver": "bob", "data": "back", "id": 2})
			bob.expect(map[string]any{"type": "message", "sender": "alice", "data": "back"})
			alice.sendJSON(map[string]any{"type": "nonsense", "id": 3})
			if got := alice.text(); got != `error: unknown type "nonsense"` {
				t.Fatalf("error line %q", got)
			}
			alice.sendJSON(map[string]any{"type": "join", "room": "dev"})
			if got := alice.text(); got != "joined dev (1 members)" {
				t.Fatalf("join line %q", got)
			}
			bob.sendJSON(map[string]any{"type": "join", "room": "dev", "id": 4})
			bob.expect(map[string]any{"type": "joined", "room": "dev"})
			if got := alice.text(); got != "[dev] * bob is online" {
				t.Fatalf("presence line %q", got)
			}
			alice.sendJSON(map[string]any{"type": "who", "room": "dev"})
			if got := alice.text(); got != "who dev: alice, bob" {
				t.Fatalf("who line %q", got)
			}
			alice.quiet()
		})
	}
}

// TestTextModeOfflineMail: mail read at login comes as lines, marked.
func TestTextModeOfflineMail(t *testing.T) {
	e := start(t, options{})
	bob := e.login(t, "bob")
	bob.sendJSON(map[string]any{"receiver": "carol", "data": "while you were out", "id": 1})
	bob.expect(map[string]any{"type": "sent", "status": "stored"})
	carol, _ := e.dialPath(t, "/ws?format=text&name=carol")
	if got := carol.text(); got != "True" {
		t.Fatalf("login %q", got)
	}
	if got := carol.text(); got != "[private] bob: while you were out (offline)" {
		t.Fatalf("mail line %q", got)
	}
}

// TestSentOnlyWithID: a "sent" answers only a request that carries an id,
// so a tutorial client sending {sender, receiver, data} sees only
// messages; errors are always sent.
func TestSentOnlyWithID(t *testing.T) {
	e := start(t, options{})
	alice := e.login(t, "alice")
	bob := e.login(t, "bob")
	alice.sendJSON(map[string]any{"sender": "alice", "receiver": "bob", "data": "live"})
	bob.expect(map[string]any{"sender": "alice", "receiver": "bob", "data": "live"})
	alice.sendJSON(map[string]any{"sender": "alice", "receiver": "dave", "data": "stored"})
	alice.sendJSON(map[string]any{"room": "lobby", "data": "room"})
	bob.expect(map[string]any{"sender": "alice", "room": "lobby", "data": "room"})
	alice.sendJSON(map[string]any{"receiver": "bob", "data": "with id", "id": "x"})
	alice.expect(map[string]any{"type": "sent", "status": "delivered", "ref": "x"})
	bob.expect(map[string]any{"data": "with id"})
	alice.send(`{"receiver": "bob", "data": "null id", "id": null}`)
	bob.expect(map[string]any{"data": "null id"})
	alice.sendJSON(map[string]any{"receiver": "dave", "data": "with id", "id": "y"})
	alice.expect(map[string]any{"type": "sent", "status": "stored", "ref": "y"})
	alice.sendJSON(map[string]any{"sender": "mallory", "receiver": "bob", "data": "x"})
	alice.expect(map[string]any{"type": "error"})
	alice.quiet()
	waitFor(t, func() bool { return e.box.count("dave") == 2 })
}

// TestURLLogin: a name in the query or the path logs in at the handshake;
// the answer comes first, in the format asked for; a refusal leaves the
// connection in the login loop, counted as an attempt.
func TestURLLogin(t *testing.T) {
	e := start(t, options{authn: &fakeAuth{users: []string{"alice", "bob", "élodie", "bob2"}, maxSessions: 1}})
	a, _ := e.dialPath(t, "/ws?name=alice")
	if got := a.text(); got != "True" {
		t.Fatalf("query login %q", got)
	}
	b, _ := e.dialPath(t, "/ws/bob")
	if got := b.text(); got != "True" {
		t.Fatalf("path login %q", got)
	}
	a.send("from alice")
	b.expect(map[string]any{"sender": "alice", "data": "from alice", "room": "lobby"})

	u, _ := e.dialPath(t, "/ws/%C3%A9lodie")
	if got := u.text(); got != "True" {
		t.Fatalf("escaped path login %q", got)
	}

	// Refused: the reason, then the loop goes on.
	again, _ := e.dialPath(t, "/ws/bob")
	if got := again.text(); got != "name is already online" {
		t.Fatalf("second bob %q", got)
	}
	again.send("bob2")
	if got := again.text(); got != "True" {
		t.Fatalf("retry %q", got)
	}

	// JSON asked for: the answer is login_ok / login_error, counted.
	j, proto := e.dialPath(t, "/ws?name=eve", chat.ProtocolJSON)
	if proto != chat.ProtocolJSON {
		t.Fatalf("subprotocol %q", proto)
	}
	j.expect(map[string]any{"type": "login_error", "error": "name is not exist", "attemptsLeft": 4})
	j2, _ := e.dialPath(t, "/ws?format=json&name=eve")
	j2.expect(map[string]any{"type": "login_error", "attemptsLeft": 4})
	j2.sendJSON(map[string]any{"type": "login", "name": "eve"})
	j2.expect(map[string]any{"type": "login_error", "attemptsLeft": 3})

	// Two different names, or a bad escape: refused, not counted.
	two, _ := e.dialPath(t, "/ws/alice?name=bob&format=json")
	two.expect(map[string]any{"type": "login_error", "attemptsLeft": 5})
	// A path no URL parser takes: written by hand.
	raw, err := net.Dial("tcp", e.ts.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(raw, "GET /ws/%%zz HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(raw)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	got, err := wstest.NewConn(raw, br, 5*time.Second).ReadText(5 * time.Second)
	if err != nil || !strings.HasPrefix(got, "invalid name in the URL") {
		t.Fatalf("bad escape: %q %v", got, err)
	}
}

// TestURLLoginAttemptsCount: URL logins use up the allowance like frames.
func TestURLLoginAttemptsCount(t *testing.T) {
	e := start(t, options{authn: &fakeAuth{users: []string{"hlq"}}, chat: func(c *chat.Config) { c.Login.MaxAttempts = 2 }})
	c, _ := e.dialPath(t, "/ws?name=nobody")
	if got := c.text(); got != "name is not exist" {
		t.Fatalf("got %q", got)
	}
	c.send("nobody2")
	if got := c.text(); got != "name is not exist" {
		t.Fatalf("got %q", got)
	}
	if code := c.closeCode(); code != chat.CloseLoginAttempts {
		t.Fatalf("close %d", code)
	}
}

// TestUnknownFormat: an unknown format is said, and the default is used.
func TestUnknownFormat(t *testing.T) {
	e := start(t, options{})
	c, _ := e.dialPath(t, "/ws?format=xml")
	if got := c.text(); got != `unknown format "xml": use format=text or format=json; continuing with the default` {
		t.Fatalf("got %q", got)
	}
	c.send("alice")
	if got := c.text(); got != "True" {
		t.Fatalf("got %q", got)
	}
}

// TestURLLoginPipelined: a client logged in by its URL may send at once,
// before the answer: its first messages are chat, not lost (and, after a
// login frame, the same).
func TestURLLoginPipelined(t *testing.T) {
	e := start(t, options{})
	bob := e.login(t, "bob")
	a, _ := e.dialPath(t, "/ws?name=alice")
	a.send("first")
	a.send("second")
	c := e.dial(t)
	c.send("carol")
	c.send("third")
	if got := a.text(); got != "True" {
		t.Fatalf("alice: %q", got)
	}
	if got := c.text(); got != "True" {
		t.Fatalf("carol: %q", got)
	}
	got := map[string]bool{}
	for len(got) < 3 {
		m := bob.expect(map[string]any{"type": "message", "room": "lobby"})
		got[m["data"].(string)] = true
	}
	if !got["first"] || !got["second"] || !got["third"] {
		t.Fatalf("bob got %v", got)
	}
}
