package chat_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/auth/anonymous"
	"github.com/chatd/chatd/server/wstest"
)

// TestPrivateBurstToAFastReader: many senders each send a burst of private
// messages (within their rate limit) in one write to one user who reads
// promptly. Every message is delivered and said delivered, and the
// receiver is not closed: a reader that keeps up is never a slow consumer,
// however many senders burst at once (a review found the default config
// closing it with 4008 at 20 senders).
func TestPrivateBurstToAFastReader(t *testing.T) {
	const senders, each = 30, 40
	e := start(t, options{authn: &fakeAuth{maxSessions: 1}})
	victim := e.login(t, "victim")
	clients := e.loginMembers(t, senders, 60*time.Second)
	var wg sync.WaitGroup
	delivered := make([]int, senders)
	for i, c := range clients {
		var batch []wstest.Frame
		for j := range each {
			b, _ := json.Marshal(map[string]any{"receiver": "victim", "data": fmt.Sprintf("%d-%d", i, j), "id": j})
			batch = append(batch, wstest.Text(b))
		}
		c.c.SendRaw(t, wstest.Concat(batch...)) // one write: the burst
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				var sent map[string]any
				s, err := c.c.ReadText(30 * time.Second)
				if err != nil || json.Unmarshal([]byte(s), &sent) != nil {
					t.Errorf("sender %d: %q %v", i, s, err)
					return
				}
				if sent["type"] == "sent" && sent["status"] == "delivered" {
					delivered[i]++
				}
			}
		}()
	}
	got := map[string]bool{}
	for len(got) < senders*each {
		s, err := victim.c.ReadText(30 * time.Second)
		if err != nil {
			t.Fatalf("the receiver, reading promptly, after %d of %d messages: %v", len(got), senders*each, err)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		if d, ok := m["data"].(string); ok {
			if got[d] {
				t.Fatalf("message %s twice", d)
			}
			got[d] = true
		}
	}
	wg.Wait()
	for i, n := range delivered {
		if n != each {
			t.Errorf("sender %d heard delivered %d times, want %d", i, n, each)
		}
	}
}

// TestLoginImmediateBackend: with a backend that never waits (anonymous),
// logins are checked inline on the connection's loop; the login loop
// behaves as with the pool: True, a refusal with its reason and another
// try, pipelined attempts answered in order.
func TestLoginImmediateBackend(t *testing.T) {
	e := start(t, options{authn: anonymous.New()})
	alice := e.login(t, "alice")
	c := e.dial(t)
	c.send("alice")
	if got := c.text(); got != "name is already online" {
		t.Fatalf("second alice: %q", got)
	}
	c.c.SendRaw(t, wstest.Concat(wstest.Text([]byte("bad name")), wstest.Text([]byte("bob"))))
	if got := c.text(); got != "name contains whitespace" {
		t.Fatalf("bad name: %q", got)
	}
	if got := c.text(); got != "True" {
		t.Fatalf("bob: %q", got)
	}
	alice.sendJSON(map[string]any{"receiver": "bob", "data": "hi", "id": 1})
	if m := c.next(); m["data"] != "hi" {
		t.Fatalf("bob got %v", m)
	}
}
