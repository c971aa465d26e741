package chat_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/chat"
	"github.com/chatd/chatd/server/wstest"
)

// TestPresenceSpam: 20 users join and leave one room as fast as they can
// while 200 members sit in it without reading, behind small socket
// buffers and a small write budget. Presence is coalesced per room, so
// no member is closed as a slow consumer (4008), and a member receives at
// most one announcement per spammer per interval.
func TestPresenceSpam(t *testing.T) {
	const (
		quiet    = 200
		spammers = 20
		spamFor  = 2 * time.Second
		interval = 250 * time.Millisecond
	)
	e := start(t, options{
		chat: func(c *chat.Config) {
			c.Rooms.PresenceInterval = interval
			c.Rooms.PresenceMaxPending = 1000 // no reset: every change is announced
			c.Rate.MessagesPerSecond, c.Rate.Burst = 1e6, 1e6
		},
		server: func(c *server.Config) {
			c.Limits.MaxMessageBytes = 4096
			c.Limits.WriteBudgetBytes = 16 << 10
		},
	})

	members := make([]*wstest.Conn, quiet)
	for i := range members {
		c := rawLogin(t, e, fmt.Sprintf("q%03d", i), 4096)
		if err := rawRequest(c, `{"type":"join","room":"spam"}`, "joined"); err != nil {
			t.Fatalf("q%03d join: %v", i, err)
		}
		members[i] = c
	}
	// The members read the announcements of each other, up to a last one,
	// and then nothing more until the spam is over.
	drain := rawLogin(t, e, "r", 0)
	if err := rawRequest(drain, `{"type":"join","room":"spam"}`, "joined"); err != nil {
		t.Fatal(err)
	}
	// The members' reads, from here to the end, within 10 s.
	readBy := time.Now().Add(10 * time.Second)
	for i, c := range members {
		if err := rawUntil(c, "r", readBy); err != nil {
			t.Fatalf("q%03d: %v", i, err)
		}
	}

	spam := make([]*wstest.Conn, spammers)
	for i := range spam {
		spam[i] = rawLogin(t, e, fmt.Sprintf("s%02d", i), 0)
	}
	var changes atomic.Int64
	var wg sync.WaitGroup
	began := time.Now()
	for i, c := range spam {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Since(began) < spamFor {
				for _, req := range [][2]string{{`{"type":"join","room":"spam"}`, "joined"}, {`{"type":"leave","room":"spam"}`, "left"}} {
					if err := rawRequest(c, req[0], req[1]); err != nil {
						t.Errorf("s%02d: %v", i, err)
						return
					}
					changes.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// Every spammer is out. A last user comes in: once a member sees it,
	// every change before it has been announced to that member.
	sentinel := rawLogin(t, e, "zz", 0)
	if err := rawRequest(sentinel, `{"type":"join","room":"spam"}`, "joined"); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(began)

	counts := make([]int, quiet)
	for i, c := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The spammers' state as announced; all out at first, and
			// unknown after a reset until announced again.
			in, reset := map[string]bool{}, false
			for {
				m, err := rawNext(c, readBy)
				if err != nil {
					t.Errorf("q%03d after %d spam announcements: %v", i, counts[i], err)
					return
				}
				user, _ := m["user"].(string)
				switch {
				case m["type"] != "presence":
					continue
				case m["reset"] == true:
					// Too many changes at once (the quiet members
					// joining): a client would ask who again.
					clear(in)
					reset = true
					continue
				case user == "zz":
				case strings.HasPrefix(user, "s"):
					counts[i]++
					// A round announces changes of state only.
					now, known := in[user]
					known = known || !reset
					if known && now == (m["status"] == "online") || m["status"] == "offline" {
						t.Errorf("q%03d: %v after %s in=%v", i, m, user, now)
						return
					}
					in[user] = m["status"] == "online"
					continue
				default:
					continue
				}
				break
			}
			for user, now := range in {
				if now {
					t.Errorf("q%03d: %s still announced in the room", i, user)
				}
			}
		}()
	}
	wg.Wait()
	for _, code := range e.ts.CloseCodes() {
		if code == 4008 {
			t.Errorf("a member was closed as a slow consumer: close codes %v", e.ts.CloseCodes())
			break
		}
	}
	most, total := 0, 0
	for _, n := range counts {
		most, total = max(most, n), total+n
	}
	bound := spammers * (int(elapsed/interval) + 2)
	t.Logf("%d spammers made %d changes in %v (%.0f/s); a quiet member got at most %d announcements of them (%.0f/s), %d on average; bound %d",
		spammers, changes.Load(), elapsed.Round(time.Millisecond), float64(changes.Load())/elapsed.Seconds(),
		most, float64(most)/elapsed.Seconds(), total/quiet, bound)
	if most > bound {
		t.Errorf("a quiet member got %d announcements, want at most %d", most, bound)
	}
	if total == 0 {
		t.Errorf("no member saw any spammer")
	}
}

// TestPresenceLeftOrOffline: leaving a room while online elsewhere is
// announced as left; leaving it by going offline, as offline with lastSeen.
func TestPresenceLeftOrOffline(t *testing.T) {
	e := start(t, options{
		authn: &fakeAuth{maxSessions: 2},
		chat:  func(c *chat.Config) { c.Rooms.PresenceInterval = 10 * time.Millisecond },
	})
	alice := e.login(t, "alice")
	join(alice, "dev")
	bob := e.login(t, "bob")
	join(bob, "dev")
	alice.expect(map[string]any{"type": "presence", "user": "bob", "status": "online", "room": "dev"})

	leave(bob, "dev")
	m := alice.expect(map[string]any{"type": "presence", "user": "bob", "status": "left", "room": "dev"})
	if _, ok := m["lastSeen"]; ok {
		t.Fatalf("left with lastSeen: %v", m)
	}

	// bob's session in dev closes; his other session is still online.
	bob2 := e.login(t, "bob")
	join(bob, "dev")
	alice.expect(map[string]any{"type": "presence", "user": "bob", "status": "online"})
	bob.c.Close()
	alice.expect(map[string]any{"type": "presence", "user": "bob", "status": "left", "room": "dev"})

	// Now his last session goes.
	join(bob2, "dev")
	alice.expect(map[string]any{"type": "presence", "user": "bob", "status": "online"})
	bob2.c.Close()
	m = alice.expect(map[string]any{"type": "presence", "user": "bob", "status": "offline", "room": "dev"})
	if ls, _ := m["lastSeen"].(float64); ls < float64(time.Now().Add(-time.Minute).UnixMilli()) {
		t.Fatalf("offline without a recent lastSeen: %v", m)
	}
}

// TestPresenceCoalesced: within one interval only each user's net change
// is announced, in one round at the interval's end, the latest state
// winning.
func TestPresenceCoalesced(t *testing.T) {
	e := start(t, options{chat: func(c *chat.Config) { c.Rooms.PresenceInterval = time.Second }})
	alice, bob, carol, dave, erin := e.login(t, "alice"), e.login(t, "bob"), e.login(t, "carol"), e.login(t, "dave"), e.login(t, "erin")
	join(alice, "dev") // nobody to tell: the room stays quiet
	t0 := time.Now()
	join(erin, "dev") // told at once; an interval starts
	alice.expect(map[string]any{"type": "presence", "user": "erin", "status": "online"})
	if took := time.Since(t0); took > 500*time.Millisecond {
		t.Errorf("the first round took %v in a quiet room", took)
	}
	join(dave, "dev") // told when the interval ends
	alice.expect(map[string]any{"type": "presence", "user": "dave", "status": "online"})
	if took := time.Since(t0); took < 800*time.Millisecond {
		t.Errorf("the second round came %v after the first", took)
	}
	began := time.Now() // and the next interval has just begun

	join(bob, "dev") // in and out: nothing to announce
	leave(bob, "dev")
	join(carol, "dev") // in, out, in: online
	leave(carol, "dev")
	join(carol, "dev")
	leave(erin, "dev") // out, in, out: left
	join(erin, "dev")
	leave(erin, "dev")
	leave(dave, "dev") // out and back in: nothing
	join(dave, "dev")
	if time.Since(began) > 700*time.Millisecond {
		t.Skip("too slow to stay within one interval")
	}
	alice.expect(map[string]any{"type": "presence", "user": "carol", "status": "online"})
	alice.expect(map[string]any{"type": "presence", "user": "erin", "status": "left"})
	if took := time.Since(began); took < 800*time.Millisecond {
		t.Errorf("round came %v into the interval, before its end", took)
	}
	alice.quiet()
	dave.expect(map[string]any{"type": "presence", "user": "carol", "status": "online"})
	dave.expect(map[string]any{"type": "presence", "user": "erin", "status": "left"})
	dave.quiet()
	// carol's own session is not told she came in.
	carol.expect(map[string]any{"type": "presence", "user": "erin", "status": "left"})
	carol.quiet()
	bob.quiet()
}

// TestPresenceReset: past presence_max_pending users with changes, the
// members get one reset hint instead of the changes.
func TestPresenceReset(t *testing.T) {
	e := start(t, options{chat: func(c *chat.Config) {
		c.Rooms.PresenceInterval = time.Second
		c.Rooms.PresenceMaxPending = 2
	}})
	alice := e.login(t, "alice")
	join(alice, "dev")
	first := e.login(t, "first")
	join(first, "dev")
	alice.expect(map[string]any{"type": "presence", "user": "first", "status": "online"})
	// An interval has just begun: three users come in within it.
	for _, name := range []string{"u1", "u2", "u3"} {
		join(e.login(t, name), "dev")
	}
	m := alice.expect(map[string]any{"type": "presence", "room": "dev", "reset": true})
	if len(m) != 3 {
		t.Fatalf("reset carries other fields: %v", m)
	}
	alice.quiet()
	alice.sendJSON(map[string]any{"type": "who", "room": "dev"})
	alice.expect(map[string]any{"users": []string{"alice", "first", "u1", "u2", "u3"}})
}

// join joins room, skipping presence announcements before the reply.
func join(c *client, room string) { c.t.Helper(); request(c, "join", room, "joined") }

// leave leaves room, skipping presence announcements before the reply.
func leave(c *client, room string) { c.t.Helper(); request(c, "leave", room, "left") }

func request(c *client, typ, room, reply string) {
	c.t.Helper()
	c.sendJSON(map[string]any{"type": typ, "room": room})
	for {
		m := c.next()
		if m["type"] == "presence" {
			continue
		}
		if m["type"] != reply || m["room"] != room {
			c.t.Fatalf("%s %s: got %v", typ, room, m)
		}
		return
	}
}

// rawLogin dials and logs in as name, with a receive buffer of rcvbuf
// bytes if not 0. The connection may be used from any goroutine; its
// writes have 10 s.
func rawLogin(t *testing.T, e *env, name string, rcvbuf int) *wstest.Conn {
	t.Helper()
	c := wstest.Dial(t, e.ts.URL("/ws"), wstest.WithReceiveBuffer(rcvbuf))
	c.SendText(t, name)
	if b, err := c.ReadText(5 * time.Second); err != nil || b != "True" {
		t.Fatalf("login %s: %q %v", name, b, err)
	}
	c.SetTimeout(10 * time.Second)
	return c
}

// rawRequest sends req and reads until a reply of type want, within 10 s.
func rawRequest(c *wstest.Conn, req, want string) error {
	deadline := time.Now().Add(10 * time.Second)
	if err := c.WriteText([]byte(req)); err != nil {
		return err
	}
	for {
		m, err := rawNext(c, deadline)
		if err != nil {
			return err
		}
		switch m["type"] {
		case want:
			return nil
		case "error":
			return fmt.Errorf("%s: %v", req, m)
		}
	}
}

// rawUntil reads until user is announced online, by deadline.
func rawUntil(c *wstest.Conn, user string, deadline time.Time) error {
	for {
		m, err := rawNext(c, deadline)
		if err != nil {
			return err
		}
		if m["type"] == "presence" && m["user"] == user && m["status"] == "online" {
			return nil
		}
	}
}

// rawNext reads the next text message as a JSON object, by deadline.
func rawNext(c *wstest.Conn, deadline time.Time) (map[string]any, error) {
	for {
		op, b, err := c.ReadData(time.Until(deadline))
		if ce := (*wstest.CloseError)(nil); errors.As(err, &ce) {
			return nil, fmt.Errorf("closed with %d %s", ce.Code, ce.Reason)
		}
		if err != nil {
			return nil, err
		}
		if op != ws.OpText {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("not JSON: %q", b)
		}
		return m, nil
	}
}
