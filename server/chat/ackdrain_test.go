package chat_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/server/chat"
	"github.com/chatd/chatd/server/mailbox"
)

// gatedBox is a memBox that records bob's loads and acks, once armed, and
// holds his second page read until the gate opens.
type gatedBox struct {
	*memBox
	mu     sync.Mutex
	armed  bool
	ops    []string // "load", "ack <upTo>"
	loads  int
	second chan struct{} // closed when the second read starts
	gate   chan struct{} // the second read waits for it
	open   sync.Once
}

func (b *gatedBox) LoadPage(user string, after uint64, maxEntries, maxBytes int, now time.Time) ([]mailbox.Entry, error) {
	b.mu.Lock()
	wait := false
	if b.armed && user == "bob" {
		b.ops = append(b.ops, "load")
		b.loads++
		if wait = b.loads == 2; wait {
			close(b.second)
		}
	}
	b.mu.Unlock()
	if wait {
		<-b.gate
	}
	return b.memBox.LoadPage(user, after, maxEntries, maxBytes, now)
}

func (b *gatedBox) Ack(user string, upTo uint64) (int, error) {
	b.mu.Lock()
	if b.armed && user == "bob" {
		b.ops = append(b.ops, fmt.Sprintf("ack %d", upTo))
	}
	b.mu.Unlock()
	return b.memBox.Ack(user, upTo)
}

func (b *gatedBox) release() { b.open.Do(func() { close(b.gate) }) }

// TestAckBacklogDoesNotHoldDrain: a client with acks that acks every
// message as it comes does not hold up the rest of its mailbox. Its acks
// and its session's page reads share the user's serial offline queue;
// each ack queued behind the other (an Ack is a read and a write of the
// store: with JetStream, milliseconds) delayed the next page by their
// sum, and the live messages held behind it. So the mail stored while a
// client logged in on another node reached it only after every ack it
// had sent, often after it had closed (TestClusterLoginWhileStored with
// acks: 37 to 167 of about 400 such messages came at the next login).
// Now a user's client acks queued and not started merge into one (the
// latest: acks are cumulative), so a page read waits behind one ack at
// most. The check is of the order of the store's calls, not of timing:
// the five acks of page 1 are all queued while page 2's read is held, and
// page 3's read must come after one ack, for the fifth id, not five.
func TestAckBacklogDoesNotHoldDrain(t *testing.T) {
	box := &gatedBox{memBox: newMemBox(100), second: make(chan struct{}), gate: make(chan struct{})}
	t.Cleanup(box.release) // a failed test must not leave the queue blocked
	e := start(t, options{store: box, chat: func(c *chat.Config) { c.Mailbox.PageMessages = 5 }})
	alice := e.login(t, "alice")
	for i := 1; i <= 15; i++ {
		alice.sendJSON(map[string]any{"receiver": "bob", "data": fmt.Sprintf("m%d", i), "id": i})
		alice.expect(map[string]any{"type": "sent", "status": "stored", "ref": i})
	}
	box.mu.Lock()
	box.armed = true
	box.mu.Unlock()

	bob := e.dial(t)
	bob.sendJSON(map[string]any{"type": "login", "name": "bob", "ack": true})
	bob.expect(map[string]any{"type": "login_ok", "ack": true})
	var ids []uint64
	for i := 1; i <= 5; i++ {
		m := bob.expect(map[string]any{"data": fmt.Sprintf("m%d", i), "offline": true})
		ids = append(ids, uint64(m["id"].(float64)))
	}
	select {
	case <-box.second: // page 1 was written: the session may ack it all
	case <-time.After(5 * time.Second):
		t.Fatal("the second page was never read")
	}
	for _, id := range ids {
		bob.sendJSON(map[string]any{"type": "ack", "id": id})
	}
	// The session has taken the acks (queued them) once it answers a
	// request sent after them.
	bob.sendJSON(map[string]any{"type": "seen", "user": "alice", "id": "sync"})
	bob.expect(map[string]any{"type": "seen", "online": true, "ref": "sync"})
	box.release()
	for i := 6; i <= 15; i++ {
		m := bob.expect(map[string]any{"data": fmt.Sprintf("m%d", i), "offline": true})
		ids = append(ids, uint64(m["id"].(float64)))
	}
	bob.quiet()

	box.mu.Lock()
	ops := append([]string(nil), box.ops...)
	box.mu.Unlock()
	var between []string // the store's calls between the second and third reads
	loads := 0
	for _, op := range ops {
		if op == "load" {
			loads++
			continue
		}
		if loads == 2 {
			between = append(between, op)
		}
	}
	if want := fmt.Sprintf("ack %d", ids[4]); len(between) != 1 || between[0] != want {
		t.Fatalf("between the second and third page reads the store was called %q, want [%s] (all calls %q)", between, want, ops)
	}
	// The merged ack removed page 1, and the last ack removes the rest.
	if n := box.count("bob"); n != 10 {
		t.Fatalf("%d messages stored after page 1's acks, want 10", n)
	}
	bob.sendJSON(map[string]any{"type": "ack", "id": ids[14]})
	waitFor(t, func() bool { return box.count("bob") == 0 })
}
