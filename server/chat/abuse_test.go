package chat_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/server/chat"
	"github.com/chatd/chatd/server/mailbox"
	"github.com/chatd/chatd/server/wstest"
)

// countingAuth counts Authenticate calls and blocks each one until
// release is closed; names starting with "down" fail as a broken backend.
type countingAuth struct {
	fakeAuth
	release chan struct{}
	calls   atomic.Int32
}

func (a *countingAuth) Authenticate(ctx context.Context, c auth.Credentials) (auth.Identity, error) {
	a.calls.Add(1)
	select {
	case <-a.release:
	case <-ctx.Done():
		return auth.Identity{}, ctx.Err()
	}
	if len(c.Name) >= 4 && c.Name[:4] == "down" {
		return auth.Identity{}, errors.New("backend: 503 Service Unavailable")
	}
	return a.fakeAuth.Authenticate(ctx, c)
}

// TestAbandonedLoginsSkipped (issue 7 item 5): logins of clients that have
// disconnected never reach the backend, so they cannot keep the pool busy.
func TestAbandonedLoginsSkipped(t *testing.T) {
	ca := &countingAuth{release: make(chan struct{})}
	e := start(t, options{authn: ca, auth: func(a *chat.AuthConfig) { a.Workers = 1; a.Queue = 200 }})
	first := e.dial(t)
	first.send("first")
	waitFor(t, func() bool { return ca.calls.Load() == 1 }) // the only worker holds it
	const abandoned = 100
	for i := 0; i < abandoned; i++ {
		c := e.dial(t)
		c.send(fmt.Sprintf("gone%d", i))
		c.c.Close()
	}
	// Wait until the server has seen every one of them go.
	waitFor(t, func() bool { return len(e.ts.CloseCodes()) >= abandoned })
	close(ca.release)
	if got := first.text(); got != "True" {
		t.Fatalf("first login: %q", got)
	}
	legit := e.dial(t)
	legit.send("legit")
	if got := legit.text(); got != "True" {
		t.Fatalf("legit login: %q", got)
	}
	if n := ca.calls.Load(); n > 2+abandoned/10 {
		t.Fatalf("the backend was asked %d times for %d abandoned logins: it checked logins of clients that had gone", n, abandoned)
	}
}

// TestBackendFailureNotCounted (issue 7 item 5): a backend failure does
// not use up an attempt.
func TestBackendFailureNotCounted(t *testing.T) {
	ca := &countingAuth{release: make(chan struct{})}
	close(ca.release)
	e := start(t, options{authn: ca, chat: func(c *chat.Config) { c.Login.MaxAttempts = 2 }})
	c := e.dial(t)
	for i := 0; i < 4; i++ {
		c.sendJSON(map[string]any{"type": "login", "name": "down"})
		c.expect(map[string]any{"type": "login_error", "error": "login service unavailable, try again later", "attemptsLeft": 2})
	}
	c.sendJSON(map[string]any{"type": "login", "name": "alice"})
	c.expect(map[string]any{"type": "login_ok", "user": "alice"})
}

// TestLoginThrottleAddress (issue 7 item 5): login attempts from one
// address are rate-limited across connections, without using up attempts.
func TestLoginThrottleAddress(t *testing.T) {
	e := start(t, options{chat: func(c *chat.Config) {
		c.Login.AddressRate, c.Login.AddressBurst = 0.001, 3
	}})
	for i := 0; i < 3; i++ {
		e.login(t, fmt.Sprintf("u%d", i))
	}
	c := e.dial(t)
	c.sendJSON(map[string]any{"type": "login", "name": "u3"})
	c.expect(map[string]any{"type": "login_error", "error": "too many logins from your address, try again later", "attemptsLeft": 5})
}

// TestLoginThrottleAccount (issue 7 item 5): failed logins for one name
// are limited across connections; past the limit the backend is not asked.
func TestLoginThrottleAccount(t *testing.T) {
	ca := &countingAuth{release: make(chan struct{}), fakeAuth: fakeAuth{users: []string{"bob"}}}
	close(ca.release)
	e := start(t, options{authn: ca, chat: func(c *chat.Config) {
		c.Login.AccountFailures, c.Login.AccountWindow = 3, time.Hour
	}})
	for i := 0; i < 3; i++ {
		c := e.dial(t)
		c.sendJSON(map[string]any{"type": "login", "name": "mallory"})
		c.expect(map[string]any{"type": "login_error", "error": "name is not exist"})
	}
	calls := ca.calls.Load()
	c := e.dial(t)
	c.sendJSON(map[string]any{"type": "login", "name": "mallory"})
	c.expect(map[string]any{"type": "login_error", "error": "too many failed logins for this name, try again later", "attemptsLeft": 5})
	if ca.calls.Load() != calls {
		t.Fatal("the backend was asked about a throttled name")
	}
	c.sendJSON(map[string]any{"type": "login", "name": "bob"}) // other names are not affected
	c.expect(map[string]any{"type": "login_ok", "user": "bob"})
}

// TestPreLoginBudget (issue 7 item 9): a connection that keeps sending
// before login is closed with 4005 once past chat.login.max_messages.
func TestPreLoginBudget(t *testing.T) {
	e := start(t, options{chat: func(c *chat.Config) { c.Login.MaxMessages = 10 }})
	c := e.dial(t)
	for i := 0; i < 11; i++ {
		c.sendJSON(map[string]any{"type": "join", "room": "x"})
	}
	if code := c.closeCode(); code != chat.CloseLoginFlood {
		t.Fatalf("close = %d, want %d", code, chat.CloseLoginFlood)
	}
}

// TestPreLoginBinaryCounted (issue 7 item 9): binary messages before
// login count against the budget too.
func TestPreLoginBinaryCounted(t *testing.T) {
	e := start(t, options{chat: func(c *chat.Config) { c.Login.MaxMessages = 10 }})
	c := e.dial(t)
	for i := 0; i < 11; i++ {
		c.c.SendBinary(t, []byte("x"))
	}
	if code := c.closeCode(); code != chat.CloseLoginFlood {
		t.Fatalf("close = %d, want %d", code, chat.CloseLoginFlood)
	}
}

// TestPreLoginBytes (issue 7 item 9): large messages before login are
// bounded in bytes too.
func TestPreLoginBytes(t *testing.T) {
	e := start(t, options{})
	c := e.dial(t)
	big := make([]byte, 60<<10)
	for i := range big {
		big[i] = 'a'
	}
	for i := 0; i < 3; i++ {
		c.send(string(big))
	}
	if code := c.closeCode(); code != chat.CloseLoginFlood {
		t.Fatalf("close = %d, want %d", code, chat.CloseLoginFlood)
	}
}

// TestJSONLookingLogin (issue 7 item 10): a login that starts with '{'
// but is not JSON is an error, never a name.
func TestJSONLookingLogin(t *testing.T) {
	e := start(t, options{})
	c := e.dial(t)
	c.send(`{"type":"login","name":"bob"`)
	m := c.expect(map[string]any{"type": "login_error", "attemptsLeft": 5})
	if s, _ := m["error"].(string); len(s) < 18 || s[:18] != "invalid JSON login" {
		t.Fatalf("error = %q", s)
	}
	c.send("{bob")
	c.expect(map[string]any{"type": "login_error"})
}

// TestLookalikeNames (issue 7 item 10): names with invisible characters
// are refused, and a name that looks like an online user's is refused.
func TestLookalikeNames(t *testing.T) {
	e := start(t, options{authn: &fakeAuth{maxSessions: 4}})
	e.login(t, "alice")
	for _, name := range []string{"al\u200bice", "\u202ealice", "\ufeffalice", "ALICE", "Alice"} {
		c := e.dial(t)
		c.send(name)
		if got := c.text(); got == "True" {
			t.Fatalf("login %q accepted while alice is online", name)
		}
	}
	// The other way round: a name that is not its own key first.
	e.login(t, "Carol")
	for _, name := range []string{"carol", "CAROL", "ｃａｒｏｌ"} {
		c := e.dial(t)
		c.send(name)
		if got := c.text(); got == "True" {
			t.Fatalf("login %q accepted while Carol is online", name)
		}
	}
	bob := e.login(t, "bob")
	bob.sendJSON(map[string]any{"receiver": "ali\u200bce", "data": "x", "id": 1})
	bob.expect(map[string]any{"type": "error", "ref": 1})
}

// TestEmptyTarget (issue 7 item 10): an empty receiver or room is an
// error, not a message to the lobby.
func TestEmptyTarget(t *testing.T) {
	e := start(t, options{})
	alice := e.login(t, "alice")
	bob := e.login(t, "bob")
	alice.sendJSON(map[string]any{"receiver": "", "data": "secret", "id": 1})
	alice.expect(map[string]any{"type": "error", "ref": 1})
	alice.sendJSON(map[string]any{"room": "", "data": "x", "id": 2})
	alice.expect(map[string]any{"type": "error", "ref": 2})
	alice.send(`{"receiver":null,"data":"x","id":3}`)
	alice.expect(map[string]any{"type": "error", "ref": 3})
	alice.send(`{"room":null,"data":"x","id":4}`)
	alice.expect(map[string]any{"type": "error", "ref": 4})
	bob.quiet()
}

// TestWrongTypeKeepsRef: a request with a field of the wrong type gets an
// error that still carries its ref, so the client can match it.
func TestWrongTypeKeepsRef(t *testing.T) {
	e := start(t, options{})
	alice := e.login(t, "alice")
	alice.send(`{"receiver":5,"data":"x","id":7}`)
	alice.expect(map[string]any{"type": "error", "ref": 7})
	alice.send(`{"type":"rooms","limit":"5","id":"r"}`)
	alice.expect(map[string]any{"type": "error", "ref": "r"})
}

// TestAnonymousMailboxOff (issue 7 item 4): with the anonymous backend the
// mailbox is off by default: a private message to an offline user is
// refused, and logging in with a name reads no mail left for it.
func TestAnonymousMailboxOff(t *testing.T) {
	box := newMemBox(10)
	_ = box.Put("bob", mailboxEntry(1, "left before"))
	e := start(t, options{box: box, chat: func(c *chat.Config) { c.Mailbox.Anonymous = false }})
	alice := e.login(t, "alice")
	alice.sendJSON(map[string]any{"receiver": "carol", "data": "x", "id": 1})
	alice.expect(map[string]any{"type": "error", "ref": 1})
	if box.count("carol") != 0 {
		t.Fatal("stored for an anonymous user")
	}
	bob := e.login(t, "bob")
	bob.quiet()
	if box.count("bob") != 1 {
		t.Fatal("mail touched")
	}
}

// TestSeenPersisted (issue 7 item 8): last-seen times are kept in the
// store, not in memory: seen answers from it.
func TestSeenPersisted(t *testing.T) {
	box := newMemBox(10)
	e := start(t, options{box: box})
	bob := e.login(t, "bob")
	bob.c.Close()
	waitFor(t, func() bool { _, ok, _ := box.Seen("bob"); return ok })
	at, _, _ := box.Seen("bob")
	alice := e.login(t, "alice")
	alice.sendJSON(map[string]any{"type": "seen", "user": "bob", "id": 1})
	alice.expect(map[string]any{"type": "seen", "online": false, "lastSeen": at.UnixMilli(), "ref": 1})
}

// TestInvalidNamesNoAccount: failures with invalid names do not share one
// account bucket (they have no account), so the name rules' reasons keep
// coming.
func TestInvalidNamesNoAccount(t *testing.T) {
	e := start(t, options{chat: func(c *chat.Config) {
		c.Login.AccountFailures, c.Login.AccountWindow = 1, time.Hour
		c.Login.MaxAttempts = 10
	}})
	for i := 0; i < 3; i++ {
		c := e.dial(t)
		c.send("a b")
		if got := c.text(); got != "name contains whitespace" {
			t.Fatalf("attempt %d: %q", i, got)
		}
	}
}

// TestLoginThrottleBurst (issue 7 item 5): a burst of attempts for one
// name sent at once, while the backend is slow, cannot slip past the
// per-name limit: each reserves its failure before the backend is asked.
func TestLoginThrottleBurst(t *testing.T) {
	ca := &countingAuth{release: make(chan struct{}), fakeAuth: fakeAuth{users: []string{"alice"}}}
	e := start(t, options{authn: ca, chat: func(c *chat.Config) {
		c.Login.AccountFailures, c.Login.AccountWindow = 5, time.Hour
	}, auth: func(a *chat.AuthConfig) { a.Queue = 100 }})
	const n = 30
	clients := make([]*client, n)
	for i := range clients {
		clients[i] = e.dial(t)
		clients[i].sendJSON(map[string]any{"type": "login", "name": "bob"})
	}
	throttled := 0
	// The throttled ones are answered at once, while the others wait on
	// the backend; each answer within next's 5 s.
	close(ca.release)
	for _, c := range clients {
		m := c.next()
		if m["error"] == "too many failed logins for this name, try again later" {
			throttled++
		}
	}
	if calls := ca.calls.Load(); calls > 5 {
		t.Fatalf("the backend was asked %d times for a name limited to 5 failures", calls)
	}
	if throttled != n-5 {
		t.Fatalf("%d of %d throttled, want %d", throttled, n, n-5)
	}
}

// TestLoginThrottlePerAddress (issue 7 item 5): failures from one address
// do not lock the name out for another address.
func TestLoginThrottlePerAddress(t *testing.T) {
	ca := &countingAuth{release: make(chan struct{}), fakeAuth: fakeAuth{users: []string{"bob"}}}
	close(ca.release)
	e := start(t, options{authn: ca, chat: func(c *chat.Config) {
		c.Login.AccountFailures, c.Login.AccountFailuresTotal, c.Login.AccountWindow = 2, 4, time.Hour
	}})
	attacker := e.dial(t)
	for i := 0; i < 2; i++ {
		attacker.sendJSON(map[string]any{"type": "login", "name": "Bob"}) // no such user: a failure for "bob"
		attacker.expect(map[string]any{"type": "login_error", "error": "name is not exist"})
	}
	attacker.sendJSON(map[string]any{"type": "login", "name": "bob"})
	attacker.expect(map[string]any{"type": "login_error", "error": "too many failed logins for this name, try again later"})

	victim := e.dialFrom(t, "127.0.0.2")
	victim.sendJSON(map[string]any{"type": "login", "name": "bob"})
	victim.expect(map[string]any{"type": "login_ok", "user": "bob"})

	// account_failures_total (4) holds over all addresses together: two
	// more failures from a second address use it up, and a third address
	// is refused without the backend being asked.
	second := e.dialFrom(t, "127.0.0.3")
	for i := 0; i < 2; i++ {
		second.sendJSON(map[string]any{"type": "login", "name": "BOB"})
		second.expect(map[string]any{"type": "login_error", "error": "name is not exist"})
	}
	calls := ca.calls.Load()
	third := e.dialFrom(t, "127.0.0.4")
	third.sendJSON(map[string]any{"type": "login", "name": "Bob"})
	third.expect(map[string]any{"type": "login_error", "error": "too many failed logins for this name, try again later"})
	if ca.calls.Load() != calls {
		t.Fatal("the backend was asked past account_failures_total")
	}
}

// blockingBox is a memBox whose Put waits until release is closed.
type blockingBox struct {
	*memBox
	release chan struct{}
}

func (b blockingBox) Put(user string, e mailbox.Entry) error {
	<-b.release
	return b.memBox.Put(user, e)
}

// TestOfflineQueueBytes (issue 7 item 4): messages waiting to be stored
// are bounded in bytes server-wide (chat.mailbox.queue_bytes): past it the
// sender hears "server busy, try again", and what was queued is stored
// once the store catches up.
func TestOfflineQueueBytes(t *testing.T) {
	box := blockingBox{memBox: newMemBox(1000), release: make(chan struct{})}
	e := start(t, options{store: box, chat: func(c *chat.Config) {
		c.Mailbox.QueueBytes = 64 << 10
		c.Rate.MessagesPerSecond, c.Rate.Burst = 1e6, 1e6
	}})
	alice := e.login(t, "alice")
	data := strings.Repeat("q", 10<<10)
	const n = 10
	for i := 0; i < n; i++ {
		alice.sendJSON(map[string]any{"receiver": "bob", "data": data, "id": i})
	}
	// A request after them is answered once all ten were routed (the
	// session handles them in order): each is then queued or refused
	// (a refusal may still be on its way).
	alice.sendJSON(map[string]any{"type": "rooms", "id": "marker"})
	busy := 0
	for {
		m := alice.next()
		if m["type"] == "rooms" {
			break
		}
		if m["type"] != "error" || m["error"] != "server busy, try again" {
			t.Fatalf("unexpected %v", m)
		}
		busy++
	}
	close(box.release)
	stored := 0
	for stored+busy < n {
		m := alice.next()
		switch {
		case m["type"] == "sent" && m["status"] == "stored":
			stored++
		case m["type"] == "error" && m["error"] == "server busy, try again":
			busy++
		default:
			t.Fatalf("unexpected %v", m)
		}
	}
	if stored == 0 || stored > 7 || busy == 0 {
		t.Fatalf("%d of %d stored, %d refused, with a 64 KiB queue of 10 KiB messages", stored, n, busy)
	}
	waitFor(t, func() bool { return box.count("bob") == stored })
}

// dialFrom dials /ws from the local address ip (any of 127.0.0.0/8).
func (e *env) dialFrom(t testing.TB, ip string) *client {
	t.Helper()
	return &client{t: t, c: wstest.Dial(t, e.ts.URL("/ws"), wstest.WithLocalAddr(netip.MustParseAddr(ip)))}
}
