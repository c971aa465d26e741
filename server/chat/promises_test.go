package chat_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"go.uber.org/zap"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/chat"
	"github.com/chatd/chatd/server/mailbox"
	"github.com/chatd/chatd/server/wire"
	"github.com/chatd/chatd/server/wstest"
)

// openStore opens a real bbolt mailbox in a temporary directory, with
// quotas large enough for the test's volume.
func openStore(t testing.TB) *mailbox.Store {
	t.Helper()
	cfg := mailbox.Default()
	cfg.Dir = t.TempDir()
	cfg.MaxMessages = 10_000
	cfg.MaxBytes = 256 << 20
	cfg.MaxBytesPerSender = 256 << 20
	cfg.MaxTotalBytes = 1 << 30
	st, err := mailbox.Open(cfg, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// fillMailbox stores n private messages to user with data of size bytes,
// data "i:<n>" padded, ids 1..n.
func fillMailbox(t testing.TB, st *mailbox.Store, user string, n, size int) {
	t.Helper()
	now := time.Now()
	for i := 1; i <= n; i++ {
		data, _ := json.Marshal(fmt.Sprintf("%d:%s", i, strings.Repeat("x", size)))
		m := wire.Message{Type: wire.TypeMessage, ID: uint64(i), Sender: "alice", Receiver: user, Data: data, TS: now.UnixMilli(), Offline: true}
		b, _ := json.Marshal(m)
		if err := st.Put(user, mailbox.Entry{ID: uint64(i), Stored: now, Sender: "alice", Data: b}); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
}

// dialSlow dials /ws with a small receive buffer.
func (e *env) dialSlow(t testing.TB) *client {
	t.Helper()
	return &client{t: t, c: wstest.Dial(t, e.ts.URL("/ws"), wstest.WithReceiveBuffer(4096))}
}

// readOffline reads messages until it has n offline ones or the deadline
// passes, slowly (a pause every few messages), and returns their ids in
// arrival order. A close frame ends it early.
func (c *client) readOffline(n int, pause time.Duration, ack func(id uint64)) (ids []uint64, closed ws.StatusCode) {
	c.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for len(ids) < n {
		op, b, err := c.c.ReadData(time.Until(deadline))
		if err != nil {
			if ce := (*wstest.CloseError)(nil); errors.As(err, &ce) {
				return ids, ce.Code
			}
			c.t.Fatalf("read after %d offline messages: %v", len(ids), err)
		}
		if op != ws.OpText {
			continue
		}
		var m wire.Message
		if json.Unmarshal(b, &m) != nil || !m.Offline {
			continue
		}
		ids = append(ids, m.ID)
		if ack != nil {
			ack(m.ID)
		}
		if len(ids)%10 == 0 {
			time.Sleep(pause)
		}
	}
	return ids, 0
}

// checkSequence fails unless ids are exactly from..to in order.
func checkSequence(t testing.TB, ids []uint64, from, to uint64) {
	t.Helper()
	if uint64(len(ids)) != to-from+1 {
		t.Fatalf("got %d messages, want %d (%d..%d)", len(ids), to-from+1, from, to)
	}
	for i, id := range ids {
		if id != from+uint64(i) {
			t.Fatalf("message %d has id %d, want %d: lost, repeated or reordered", i, id, from+uint64(i))
		}
	}
}

// TestMailboxDrainSlowReader (issue 7 item 1): 1,000 stored messages of
// 6 KB reach a reader with a small receive buffer that reads slowly: every
// one arrives, in order, none twice, with no slow-consumer close, and the
// store is emptied only of what was written.
func TestMailboxDrainSlowReader(t *testing.T) {
	st := openStore(t)
	fillMailbox(t, st, "bob", 1000, 6000)
	e := start(t, options{store: st})
	bob := e.dialSlow(t)
	bob.send("bob")
	if got := bob.text(); got != "True" {
		t.Fatalf("login: %q", got)
	}
	ids, closed := bob.readOffline(1000, 2*time.Millisecond, nil)
	if closed != 0 {
		t.Fatalf("closed with %d after %d of 1000 offline messages", closed, len(ids))
	}
	checkSequence(t, ids, 1, 1000)
	waitFor(t, func() bool { n, _ := st.Count("bob"); return n == 0 })
}

// TestMailboxDrainAckMode (issue 7 item 1, ack mode): the same mailbox in
// ack mode reaches the reader whole; a reader that stops half-way and
// comes back gets everything it did not ack, and nothing is removed that
// was not acked.
func TestMailboxDrainAckMode(t *testing.T) {
	st := openStore(t)
	fillMailbox(t, st, "bob", 1000, 6000)
	e := start(t, options{store: st})
	login := func() *client {
		c := e.dialSlow(t)
		c.sendJSON(map[string]any{"type": "login", "name": "bob", "ack": true})
		c.expect(map[string]any{"type": "login_ok", "ack": true})
		return c
	}
	bob := login()
	var acked uint64
	ids, closed := bob.readOffline(400, 2*time.Millisecond, func(id uint64) {
		if id%50 == 0 {
			bob.sendJSON(map[string]any{"type": "ack", "id": id})
			acked = id
		}
	})
	if closed != 0 {
		t.Fatalf("closed with %d after %d messages", closed, len(ids))
	}
	checkSequence(t, ids, 1, 400)
	waitFor(t, func() bool { n, _ := st.Count("bob"); return n == int(1000-acked) })
	bob.c.Close()
	waitFor(t, func() bool { return !e.online(t, "bob") }) // detached on its own actor

	bob = login()
	ids, closed = bob.readOffline(int(1000-acked), 2*time.Millisecond, func(id uint64) {
		if id%100 == 0 || id == 1000 {
			bob.sendJSON(map[string]any{"type": "ack", "id": id})
		}
	})
	if closed != 0 {
		t.Fatalf("closed with %d after %d messages", closed, len(ids))
	}
	checkSequence(t, ids, acked+1, 1000)
	waitFor(t, func() bool { n, _ := st.Count("bob"); return n == 0 })
}

// online asks a fresh connection whether user is online.
func (e *env) online(t testing.TB, user string) bool {
	t.Helper()
	c := e.login(t, fmt.Sprintf("probe%d", time.Now().UnixNano()%1_000_000))
	defer c.c.Close()
	c.sendJSON(map[string]any{"type": "seen", "user": user})
	return c.expect(map[string]any{"type": "seen"})["online"] == true
}

// TestDeliveredMeansWritten (issue 7 item 2): a receiver that does not
// read is closed as a slow consumer while a sender keeps writing to it.
// Every message the sender was told "delivered" reached that connection's
// socket (the client finds it there), and every one it was told "stored"
// is in the mailbox: none is lost.
func TestDeliveredMeansWritten(t *testing.T) {
	st := openStore(t)
	e := start(t, options{store: st, chat: func(c *chat.Config) {
		c.Rate.MessagesPerSecond, c.Rate.Burst = 1e6, 1e6
	}, server: func(c *server.Config) {
		c.Limits.WriteBudgetBytes = 256 << 10
		c.CloseTimeout = 300 * time.Millisecond
	}})
	bob := e.dialSlow(t)
	bob.send("bob")
	if got := bob.text(); got != "True" {
		t.Fatalf("login: %q", got)
	}
	alice := e.login(t, "alice")
	const n = 300
	payload := strings.Repeat("p", 40000) // 12 MB in all: more than any socket buffer
	for i := 0; i < n; i++ {
		alice.sendJSON(map[string]any{"receiver": "bob", "data": fmt.Sprintf("%d:%s", i, payload), "id": i})
	}
	status := map[uint64]string{}
	for len(status) < n {
		m := alice.next()
		switch m["type"] {
		case "sent":
			status[uint64(m["id"].(float64))] = m["status"].(string)
		case "error":
			t.Fatalf("error for a private message: %v", m)
		}
	}
	got := bob.privateIDs("bob")
	waitFor(t, func() bool { return !e.online(t, "bob") })
	delivered, storedN := checkOutcomes(t, status, got, st, "bob")
	if storedN == 0 {
		t.Fatalf("all %d messages reported delivered to a reader that never read: the test did not reach the slow-consumer close", n)
	}
	t.Logf("%d delivered (all found on the socket), %d stored (all in the mailbox)", delivered, storedN)
}

// TestMailboxQuotaErrors (issue 7 item 4): the store's quotas reach the
// sender as the documented errors, and nothing over them is stored.
func TestMailboxQuotaErrors(t *testing.T) {
	cfg := mailbox.Default()
	cfg.Dir = t.TempDir()
	cfg.MaxBytesPerSender = 600
	cfg.MaxBytes = 1000
	cfg.MaxTotalBytes = 1500
	st, err := mailbox.Open(cfg, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := start(t, options{store: st})
	alice, carol := e.login(t, "alice"), e.login(t, "carol")
	data := strings.Repeat("d", 250) // about 350 bytes stored with its JSON
	alice.sendJSON(map[string]any{"receiver": "bob", "data": data, "id": 1})
	alice.expect(map[string]any{"type": "sent", "status": "stored", "ref": 1})
	alice.sendJSON(map[string]any{"receiver": "bob", "data": data, "id": 2})
	alice.expect(map[string]any{"type": "error", "error": "you have too much mail waiting for this receiver", "ref": 2})
	carol.sendJSON(map[string]any{"receiver": "bob", "data": data, "id": 3})
	carol.expect(map[string]any{"type": "sent", "status": "stored", "ref": 3})
	carol.sendJSON(map[string]any{"receiver": "dave", "data": data, "id": 4})
	carol.expect(map[string]any{"type": "sent", "status": "stored", "ref": 4})
	alice.sendJSON(map[string]any{"receiver": "bob", "data": "x", "id": 5})
	alice.expect(map[string]any{"type": "sent", "status": "stored", "ref": 5})
	// bob holds about 700 bytes: one more from a third sender would pass
	// the per-sender quota but not the mailbox's.
	erin := e.login(t, "erin")
	erin.sendJSON(map[string]any{"receiver": "bob", "data": data, "id": 6})
	erin.expect(map[string]any{"type": "error", "error": "the receiver's mailbox is full", "ref": 6})
	erin.sendJSON(map[string]any{"receiver": "frank", "data": data, "id": 7})
	erin.expect(map[string]any{"type": "error", "error": "the server's offline store is full, try again later", "ref": 7})
	if n, _ := st.Count("frank"); n != 0 {
		t.Fatalf("frank's mailbox holds %d after a refusal", n)
	}
}

// TestLiveBufferDuringDrain (issue 7 item 8): while a large mailbox drains
// to a reader that has stopped reading, live private messages are held up
// to chat.mailbox.live_buffer_bytes; past it the session is dropped as a
// slow consumer and those messages are stored, never lost: the next login
// gets every one of them.
func TestLiveBufferDuringDrain(t *testing.T) {
	st := openStore(t)
	fillMailbox(t, st, "bob", 1000, 6000) // 6 MB: more than the socket buffers hold
	e := start(t, options{store: st, chat: func(c *chat.Config) {
		c.Mailbox.LiveBufferBytes = 16 << 10
		c.Rate.MessagesPerSecond, c.Rate.Burst = 1e6, 1e6
	}})
	bob := e.dialSlow(t)
	bob.send("bob")
	if got := bob.text(); got != "True" {
		t.Fatalf("login: %q", got)
	}
	alice := e.login(t, "alice")
	const n = 40
	for i := 0; i < n; i++ {
		alice.sendJSON(map[string]any{"receiver": "bob", "data": fmt.Sprintf("live %d %s", i, strings.Repeat("l", 1000)), "id": i})
	}
	status := map[int]string{}
	for len(status) < n {
		m := alice.next()
		if m["type"] == "sent" {
			status[int(m["ref"].(float64))] = m["status"].(string)
		} else if m["type"] == "error" {
			t.Fatalf("error: %v", m)
		}
	}
	stored := 0
	for _, s := range status {
		if s == wire.StatusStored {
			stored++
		}
	}
	if stored == 0 {
		t.Fatalf("no live message was stored: the live buffer never overflowed")
	}
	bob.c.Close()
	waitFor(t, func() bool { return !e.online(t, "bob") })
	// Every message alice heard "stored" for is in the mailbox.
	entries, _ := st.LoadPage("bob", 0, 0, 1<<30, time.Now())
	live := map[int]bool{}
	for _, en := range entries {
		var m wire.Message
		_ = json.Unmarshal(en.Data, &m)
		var d string
		_ = json.Unmarshal(m.Data, &d)
		var i int
		if _, err := fmt.Sscanf(d, "live %d", &i); err == nil {
			live[i] = true
		}
	}
	for i, s := range status {
		if s == wire.StatusStored && !live[i] {
			t.Errorf("live message %d reported stored but not in the mailbox", i)
		}
	}
	t.Logf("%d of %d live messages stored after the live buffer overflowed", stored, n)
}

// TestSenderNotClosedForItsReplies: a sender that writes private messages
// far faster than their outcomes come back, with a small mailbox, is
// slowed down (its socket is read no faster than outcomes return), never
// closed as a slow consumer for its own "sent" replies; every message gets
// its one answer and reaches the receiver.
func TestSenderNotClosedForItsReplies(t *testing.T) {
	e := start(t, options{chat: func(c *chat.Config) {
		c.Rate.MessagesPerSecond, c.Rate.Burst = 1e6, 1e6
	}, server: func(c *server.Config) { c.Limits.QueueSize = 16 }})
	bob := e.login(t, "bob")
	alice := e.login(t, "alice")
	const n = 2000
	alice.c.SetTimeout(10 * time.Second) // each write below
	go func() {
		for i := 0; i < n; i++ {
			b, _ := json.Marshal(map[string]any{"receiver": "bob", "data": i, "id": i})
			if alice.c.WriteText(b) != nil {
				return
			}
		}
	}()
	done := make(chan int)
	go func() {
		got := 0
		for got < n {
			if _, err := bob.c.ReadText(10 * time.Second); err != nil {
				break
			}
			got++
		}
		done <- got
	}()
	sent := 0
	for sent < n {
		b, err := alice.c.ReadText(10 * time.Second)
		if err != nil {
			t.Fatalf("alice after %d replies: %v", sent, err)
		}
		var m map[string]any
		if json.Unmarshal([]byte(b), &m) != nil || m["type"] != "sent" || m["status"] != "delivered" {
			t.Fatalf("alice got %s", b)
		}
		sent++
	}
	if got := <-done; got != n {
		t.Fatalf("bob got %d of %d", got, n)
	}
}

// privateIDs reads what c's connection still holds, until it ends or is
// quiet for 2 s, and returns the ids of the private messages to receiver
// in it.
func (c *client) privateIDs(receiver string) map[uint64]bool {
	got := map[uint64]bool{}
	for {
		op, b, err := c.c.ReadData(2 * time.Second)
		if err != nil {
			return got
		}
		var m wire.Message
		if op == ws.OpText && json.Unmarshal(b, &m) == nil && m.Receiver == receiver {
			got[m.ID] = true
		}
	}
}

// checkOutcomes checks each answer a sender got (status by message id):
// "delivered" only for a message found on the receiver's socket (got),
// "stored" only for one in st's mailbox of receiver, and nothing else. It
// returns how many of each.
func checkOutcomes(t testing.TB, status map[uint64]string, got map[uint64]bool, st *mailbox.Store, receiver string) (delivered, stored int) {
	t.Helper()
	entries, _ := st.LoadPage(receiver, 0, 0, 1<<30, time.Now())
	inStore := map[uint64]bool{}
	for _, en := range entries {
		inStore[en.ID] = true
	}
	for id, s := range status {
		switch s {
		case wire.StatusDelivered:
			delivered++
			if !got[id] {
				t.Errorf("message %d answered delivered but never reached %s's socket", id, receiver)
			}
		case wire.StatusStored:
			stored++
			if !inStore[id] {
				t.Errorf("message %d answered stored but is not in the mailbox", id)
			}
		default:
			t.Errorf("message %d: status %q", id, s)
		}
	}
	return delivered, stored
}
