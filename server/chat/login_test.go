package chat_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/server/chat"
)

// TestLoginLoop is the tutorial's loop: a wrong name gets the reason, the
// connection stays open, the right name gets True.
func TestLoginLoop(t *testing.T) {
	e := start(t, options{authn: &fakeAuth{users: []string{"hlq"}}})
	c := e.dial(t)
	c.send("nobody")
	if got := c.text(); got != "name is not exist" {
		t.Fatalf("got %q", got)
	}
	c.send("hlq")
	if got := c.text(); got != "True" {
		t.Fatalf("got %q, want True", got)
	}
}

func TestLoginAlreadyOnline(t *testing.T) {
	e := start(t, options{})
	e.login(t, "alice")
	c := e.dial(t)
	c.send("alice")
	if got := c.text(); got != "name is already online" {
		t.Fatalf("got %q", got)
	}
	c.send("alice2")
	if got := c.text(); got != "True" {
		t.Fatalf("got %q", got)
	}
}

func TestLoginJSON(t *testing.T) {
	e := start(t, options{authn: &fakeAuth{users: []string{"bob"}}})
	c := e.dial(t)
	c.sendJSON(map[string]any{"type": "login", "name": "eve", "id": 7})
	c.expect(map[string]any{"type": "login_error", "error": "name is not exist", "attemptsLeft": 4, "ref": 7})
	c.sendJSON(map[string]any{"type": "join", "room": "x"})
	c.expect(map[string]any{"type": "login_error", "attemptsLeft": 4})
	c.sendJSON(map[string]any{"type": "login", "name": "bob", "id": "b"})
	c.expect(map[string]any{"type": "login_ok", "user": "bob", "rooms": []string{"lobby"}, "ref": "b", "ack": false})
}

func TestLoginAttemptsExhausted(t *testing.T) {
	e := start(t, options{authn: &fakeAuth{users: []string{"hlq"}}, chat: func(c *chat.Config) { c.Login.MaxAttempts = 3 }})
	c := e.dial(t)
	for i := 0; i < 3; i++ {
		c.send("wrong")
		if got := c.text(); got != "name is not exist" {
			t.Fatalf("attempt %d: got %q", i, got)
		}
	}
	if code := c.closeCode(); code != chat.CloseLoginAttempts {
		t.Fatalf("close = %d, want %d", code, chat.CloseLoginAttempts)
	}
}

// TestLoginPipelined: attempts sent without waiting are answered in order,
// each after the growing delay.
func TestLoginPipelined(t *testing.T) {
	e := start(t, options{authn: &fakeAuth{users: []string{"hlq"}}})
	c := e.dial(t)
	c.send("a")
	c.send("b")
	c.send("hlq")
	for _, want := range []string{"name is not exist", "name is not exist", "True"} {
		if got := c.text(); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

func TestLoginTimeout(t *testing.T) {
	e := start(t, options{chat: func(c *chat.Config) { c.Login.Timeout = 200 * time.Millisecond }})
	c := e.dial(t)
	if code := c.closeCode(); code != chat.CloseLoginTimeout {
		t.Fatalf("close = %d, want %d", code, chat.CloseLoginTimeout)
	}
	// A logged-in client is not affected by the login deadline.
	ok := e.login(t, "alice")
	time.Sleep(300 * time.Millisecond) // past the login timeout
	ok.sendJSON(map[string]any{"type": "rooms", "id": 1})
	ok.expect(map[string]any{"type": "rooms", "ref": 1})
}

func TestLoginBinaryRefused(t *testing.T) {
	e := start(t, options{})
	c := e.dial(t)
	c.c.SendBinary(t, []byte{1, 2, 3})
	if got := c.text(); got != "binary messages are not accepted before login: send your name as text" {
		t.Fatalf("got %q", got)
	}
	c.send("carol")
	if got := c.text(); got != "True" {
		t.Fatalf("got %q", got)
	}
}

func TestLoginInvalidName(t *testing.T) {
	e := start(t, options{})
	c := e.dial(t)
	for text, want := range map[string]string{
		"":          "name is empty",
		"has space": "name contains whitespace",
		"a:b":       "name contains ':'",
	} {
		c.send(text)
		if got := c.text(); got != want {
			t.Fatalf("login %q: got %q, want %q", text, got, want)
		}
	}
}

// slowAuth blocks logins of the name "slow" until release is closed.
type slowAuth struct {
	fakeAuth
	release chan struct{}
	entered atomic.Int32 // logins of "slow" that reached Authenticate
}

func (s *slowAuth) Authenticate(ctx context.Context, c auth.Credentials) (auth.Identity, error) {
	if c.Name == "slow" {
		s.entered.Add(1)
		select {
		case <-s.release:
		case <-ctx.Done():
			return auth.Identity{}, ctx.Err()
		}
	}
	return s.fakeAuth.Authenticate(ctx, c)
}

// TestSlowBackend: logins run on the auth pool, so a backend stuck on one
// login delays only that login.
func TestSlowBackend(t *testing.T) {
	sa := &slowAuth{release: make(chan struct{})}
	e := start(t, options{authn: sa, auth: func(a *chat.AuthConfig) { a.Workers = 2 }})
	stuck := e.dial(t)
	stuck.send("slow")
	for _, name := range []string{"a", "b", "c"} {
		e.login(t, name) // served by the other worker meanwhile
	}
	close(sa.release)
	if got := stuck.text(); got != "True" {
		t.Fatalf("slow login: %q", got)
	}
}

// TestAuthQueueFull: with the only auth worker busy and the queue full, a
// login is answered "server busy, try again" without using up an attempt.
func TestAuthQueueFull(t *testing.T) {
	sa := &slowAuth{release: make(chan struct{})}
	e := start(t, options{authn: sa, auth: func(a *chat.AuthConfig) { a.Workers = 1; a.Queue = 1 }})
	first := e.dial(t)
	first.sendJSON(map[string]any{"type": "login", "name": "slow"})
	waitFor(t, func() bool { return sa.entered.Load() == 1 }) // the worker holds it
	// One of the next two takes the queue's only slot, the other is refused.
	a, b := e.dial(t), e.dial(t)
	a.sendJSON(map[string]any{"type": "login", "name": "slow"})
	b.sendJSON(map[string]any{"type": "login", "name": "slow"})
	got := make(chan map[string]any, 2)
	for _, c := range []*client{a, b} {
		go func() {
			s, err := c.c.ReadText(10 * time.Second)
			m := map[string]any{"err": err}
			if err == nil {
				_ = json.Unmarshal([]byte(s), &m)
			}
			got <- m
		}()
	}
	refused := <-got
	if refused["error"] != "server busy, try again" || refused["attemptsLeft"] != float64(5) {
		t.Fatalf("first answer = %v, want a busy refusal that keeps all 5 attempts", refused)
	}
	close(sa.release)
	if queued := <-got; queued["type"] != "login_ok" || queued["user"] != "slow" {
		t.Fatalf("queued login = %v, want it to succeed once the worker is free", queued)
	}
	first.expect(map[string]any{"type": "login_ok", "user": "slow"})
}

// TestFailureDelayGrows: after each failed login the next attempt waits
// longer (failure_delay, doubling). Only lower bounds are checked.
func TestFailureDelayGrows(t *testing.T) {
	e := start(t, options{authn: &fakeAuth{users: []string{"hlq"}}, chat: func(c *chat.Config) {
		c.Login.FailureDelay = 50 * time.Millisecond
		c.Login.MaxFailureDelay = time.Second
	}})
	c := e.dial(t)
	start := time.Now()
	for i := 0; i < 3; i++ {
		c.send("wrong") // pipelined: each waits for the previous failure's delay
	}
	for i := 0; i < 3; i++ {
		if got := c.text(); got != "name is not exist" {
			t.Fatalf("got %q", got)
		}
	}
	// The 2nd attempt waits 50ms, the 3rd 100ms: at least 150ms in all.
	if took := time.Since(start); took < 150*time.Millisecond {
		t.Fatalf("three failures answered in %v, want at least 150ms of growing delay", took)
	}
}
