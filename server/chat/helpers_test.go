package chat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/chat"
	"github.com/chatd/chatd/server/internal/testserver"
	"github.com/chatd/chatd/server/mailbox"
	"github.com/chatd/chatd/server/wstest"
)

// fakeAuth accepts the names in users, or any valid name if users is nil;
// like the anonymous and static backends, the plain form is the name.
type fakeAuth struct {
	users       []string
	maxSessions int
}

func (f *fakeAuth) ParseText(text string) auth.Credentials {
	return auth.Credentials{Name: text}
}

func (f *fakeAuth) Authenticate(_ context.Context, c auth.Credentials) (auth.Identity, error) {
	if err := auth.CheckName(c.Name); err != nil {
		return auth.Identity{}, err
	}
	if f.users != nil && !slices.Contains(f.users, c.Name) {
		return auth.Identity{}, auth.Reject(auth.ReasonUnknownName)
	}
	return auth.Identity{Name: c.Name, MaxSessions: f.maxSessions}, nil
}

// directoryAuth is fakeAuth that also knows its users.
type directoryAuth struct{ fakeAuth }

func (d *directoryAuth) Exists(_ context.Context, name string) (bool, error) {
	return slices.Contains(d.users, name), nil
}

// memBox is an in-memory Mailbox.
type memBox struct {
	mu   sync.Mutex
	max  int
	m    map[string][]mailbox.Entry
	seen map[string]time.Time
}

func newMemBox(max int) *memBox { return &memBox{max: max, m: map[string][]mailbox.Entry{}} }

func (b *memBox) Put(user string, e mailbox.Entry) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.m[user]) >= b.max {
		return mailbox.ErrFull
	}
	b.m[user] = append(b.m[user], e)
	return nil
}

func (b *memBox) LoadPage(user string, after uint64, maxEntries, maxBytes int, _ time.Time) ([]mailbox.Entry, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []mailbox.Entry
	size := 0
	for _, e := range b.m[user] {
		if e.ID <= after {
			continue
		}
		if len(out) > 0 && (len(out) == maxEntries || size+len(e.Data) > maxBytes) {
			break
		}
		out = append(out, e)
		size += len(e.Data)
	}
	return out, nil
}

func (b *memBox) SetSeen(user string, at time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen == nil {
		b.seen = map[string]time.Time{}
	}
	b.seen[user] = at
	return nil
}

func (b *memBox) Seen(user string) (time.Time, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	at, ok := b.seen[user]
	return at, ok, nil
}

func (b *memBox) Ack(user string, upTo uint64) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	kept := b.m[user][:0]
	for _, e := range b.m[user] {
		if e.ID > upTo {
			kept = append(kept, e)
		}
	}
	n := len(b.m[user]) - len(kept)
	b.m[user] = kept
	return n, nil
}

func (b *memBox) count(user string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.m[user])
}

// env is a running chat server.
type env struct {
	ts  *testserver.Server
	box *memBox
	svc *chat.Service
}

type options struct {
	authn  auth.Authenticator
	box    *memBox
	store  chat.Mailbox // instead of box, e.g. a real mailbox.Store
	chat   func(*chat.Config)
	auth   func(*chat.AuthConfig)
	server func(*server.Config)
	opts   []chat.Option // code seams: the history store, the clock
}

func start(t testing.TB, o options) *env {
	t.Helper()
	cfg, authCfg := chat.DefaultConfig(), chat.DefaultAuthConfig()
	cfg.Login.FailureDelay = time.Millisecond
	cfg.Login.MaxFailureDelay = 5 * time.Millisecond
	// Tests log in many users from 127.0.0.1 and use the offline mailbox
	// with fakeAuth standing in for the default (anonymous) backend; the
	// tests of those policies set them back.
	cfg.Login.AddressRate, cfg.Login.AddressBurst = 1e6, 1e6
	cfg.Mailbox.Anonymous = true
	if o.chat != nil {
		o.chat(&cfg)
	}
	if o.auth != nil {
		o.auth(&authCfg)
	}
	if o.authn == nil {
		o.authn = &fakeAuth{maxSessions: 1}
	}
	if o.box == nil {
		o.box = newMemBox(1000)
	}
	var box chat.Mailbox = o.box
	if o.store != nil {
		box = o.store
	}
	svc, err := chat.New(cfg, authCfg, chat.Backend{Authenticator: o.authn, Anonymous: true}, box, zap.NewNop(), o.opts...)
	if err != nil {
		t.Fatal(err)
	}
	// Every test client comes from 127.0.0.1: lift the per-address limits
	// (the server package tests them).
	mutate := func(c *server.Config) {
		c.Connections.MaxPerAddress = c.Connections.MaxTotal
		c.Connections.MaxHandshakesPerAddress = c.Handshake.MaxConcurrent
		c.Connections.RatePerAddress, c.Connections.BurstPerAddress = 1e6, 1e6
		if o.server != nil {
			o.server(c)
		}
	}
	ts := testserver.StartSetup(t, mutate, func(srv *server.Server) {
		srv.Handle("/ws", svc)
		srv.HandlePrefix("/ws/", svc)
	})
	t.Cleanup(func() {
		// Cleanups run last-in first-out, so this runs before the test
		// server's own: shut the server down first (its later Shutdown is
		// a no-op), then the pools the sessions used.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = ts.Srv.Shutdown(ctx)
		if err := svc.Close(ctx); err != nil {
			t.Errorf("chat close: %v", err)
		}
	})
	return &env{ts: ts, box: o.box, svc: svc}
}

// client is a test connection to /ws.
type client struct {
	t testing.TB
	c *wstest.Conn
}

func (e *env) dial(t testing.TB) *client {
	t.Helper()
	return &client{t: t, c: wstest.Dial(t, e.ts.URL("/ws"))}
}

// dialPath dials path (which may carry a query) offering protocols, and
// returns the client and the subprotocol the server chose.
func (e *env) dialPath(t testing.TB, path string, protocols ...string) (*client, string) {
	t.Helper()
	c := wstest.Dial(t, e.ts.URL(path), wstest.WithProtocols(protocols...))
	return &client{t: t, c: c}, c.Protocol()
}

// login dials and logs in with the plain form.
func (e *env) login(t testing.TB, name string) *client {
	t.Helper()
	c := e.dial(t)
	c.send(name)
	if got := c.text(); got != "True" {
		t.Fatalf("login %s: got %q, want True", name, got)
	}
	return c
}

// loginMembers logs n clients in as m0, m1, ..., within timeout in all:
// for tests of many members.
func (e *env) loginMembers(t testing.TB, n int, timeout time.Duration) []*client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	clients := make([]*client, n)
	for i := range clients {
		c, err := wstest.DialContext(ctx, e.ts.URL("/ws"), wstest.WithTimeout(timeout))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SendText(t, fmt.Sprintf("m%d", i))
		if b, err := c.ReadText(time.Until(deadline)); err != nil || b != "True" {
			t.Fatalf("login m%d: %q %v", i, b, err)
		}
		clients[i] = &client{t: t, c: c}
	}
	return clients
}

func (c *client) send(text string) {
	c.t.Helper()
	c.c.SendText(c.t, text)
}

func (c *client) sendJSON(v any) {
	c.t.Helper()
	c.c.SendJSON(c.t, v)
}

// text reads the next text message.
func (c *client) text() string {
	c.t.Helper()
	return c.c.NextText(c.t)
}

// next reads the next message as a JSON object.
func (c *client) next() map[string]any {
	c.t.Helper()
	var m map[string]any
	c.c.NextJSON(c.t, &m)
	return m
}

// expect reads the next message and checks the given fields.
func (c *client) expect(fields map[string]any) map[string]any {
	c.t.Helper()
	m := c.next()
	for k, want := range fields {
		if got := m[k]; !equalJSON(got, want) {
			c.t.Fatalf("field %s = %v, want %v (message %v)", k, got, want, m)
		}
	}
	return m
}

// quiet asserts nothing arrives for a short while.
func (c *client) quiet() {
	c.t.Helper()
	c.c.ExpectQuiet(c.t, 150*time.Millisecond)
}

// closeCode reads until a close frame and returns its code.
func (c *client) closeCode() server.StatusCode {
	c.t.Helper()
	f, err := c.c.ReadCloseFrame(10 * time.Second)
	if err != nil {
		c.t.Fatalf("no close frame: %v", err)
	}
	return server.StatusCode(f.Code)
}

func equalJSON(got, want any) bool {
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	return string(g) == string(w)
}

// waitFor polls cond until it holds, failing after 5 s.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	waitForWithin(t, 5*time.Second, cond)
}

// waitForWithin is waitFor with its own deadline; state, if given, says
// what was seen when it fails.
func waitForWithin(t testing.TB, d time.Duration, cond func() bool, state ...func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			why := ""
			for _, s := range state {
				why += ": " + s()
			}
			t.Fatalf("condition not met within %v%s", d, why)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// mailboxEntry is a stored private message from alice with data text.
func mailboxEntry(id uint64, text string) mailbox.Entry {
	b, _ := json.Marshal(map[string]any{"type": "message", "id": id, "sender": "alice", "data": text, "offline": true})
	return mailbox.Entry{ID: id, Stored: time.Now(), Sender: "alice", Data: b}
}
