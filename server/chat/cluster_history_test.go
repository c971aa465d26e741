package chat_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/api"
	"github.com/chatd/chatd/server/chat"
	"github.com/chatd/chatd/server/cluster"
	"github.com/chatd/chatd/server/cluster/natstest"
)

// roomSeqs reads c's room messages of room until it has n of them (or
// fails after a deadline), and returns their seqs and data, in order.
func roomSeqs(t *testing.T, c *client, room string, n int) (seqs []float64, data []any) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(seqs) < n {
		s, err := c.c.ReadText(time.Until(deadline))
		if err != nil {
			t.Fatalf("%d of %d room messages, then %v", len(seqs), n, err)
		}
		var m map[string]any
		_ = json.Unmarshal([]byte(s), &m)
		if m["type"] == "message" && m["room"] == room {
			seqs = append(seqs, m["seq"].(float64))
			data = append(data, m["data"])
		}
	}
	return seqs, data
}

// TestClusterSinceRecoveredOnAnyNode: a room's seqs are the same on every
// node, so a join with since on another node replays exactly what was
// missed, and history answers the same bytes everywhere, also on a node
// that had no member of the room before.
func TestClusterSinceRecoveredOnAnyNode(t *testing.T) {
	_, nodes := startCluster(t, 3, options{})
	alice, bob := nodes[0].login(t, "alice"), nodes[1].login(t, "bob")
	join(alice, "dev")
	join(bob, "dev")
	for i := 1; i <= 5; i++ {
		alice.sendJSON(map[string]any{"room": "dev", "data": i})
	}
	if seqs, _ := roomSeqs(t, bob, "dev", 5); fmt.Sprint(seqs) != "[1 2 3 4 5]" {
		t.Fatalf("bob got seqs %v", seqs)
	}
	bob.sendJSON(map[string]any{"room": "dev", "data": "six", "id": 1})
	bob.expect(map[string]any{"type": "sent", "status": "delivered", "ref": 1})
	if seqs, _ := roomSeqs(t, alice, "dev", 1); fmt.Sprint(seqs) != "[6]" {
		t.Fatalf("alice got seqs %v (not her own)", seqs)
	}
	// carol had seq 2 (from node 0, say) and comes back on node 2, where
	// the room has no member yet; dave on node 1, where it has.
	carol, dave := nodes[2].login(t, "carol"), nodes[1].login(t, "dave")
	carol.sendJSON(map[string]any{"type": "join", "room": "dev", "since": 2, "id": 2})
	carol.expect(map[string]any{"type": "joined", "room": "dev", "seq": 6, "recovered": true, "ref": 2})
	if seqs, data := roomSeqs(t, carol, "dev", 4); fmt.Sprint(seqs, data) != "[3 4 5 6] [3 4 5 six]" {
		t.Fatalf("carol's replay %v %v", seqs, data)
	}
	dave.sendJSON(map[string]any{"type": "join", "room": "dev", "since": 5, "id": 3})
	dave.expect(map[string]any{"type": "joined", "room": "dev", "seq": 6, "recovered": true, "ref": 3})
	if seqs, _ := roomSeqs(t, dave, "dev", 1); fmt.Sprint(seqs) != "[6]" {
		t.Fatalf("dave's replay %v", seqs)
	}
	// Then live, the same seq everywhere.
	carol.sendJSON(map[string]any{"room": "dev", "data": "seven"})
	for _, c := range []*client{alice, bob, dave} {
		if seqs, data := roomSeqs(t, c, "dev", 1); fmt.Sprint(seqs, data) != "[7] [seven]" {
			t.Fatalf("live after the replay: %v %v", seqs, data)
		}
	}
	noRoomMessage(t, carol) // not her own message back
	// history: the same bytes on every node.
	var pages []string
	for _, c := range []*client{alice, bob, carol} {
		c.sendJSON(map[string]any{"type": "history", "room": "dev", "id": 4})
		m := c.expectPast(map[string]any{"type": "history", "ref": 4})
		b, _ := json.Marshal(m["messages"])
		pages = append(pages, string(b))
	}
	if pages[0] != pages[1] || pages[0] != pages[2] || len(pages[0]) < 100 {
		t.Fatalf("history differs between nodes:\n%s\n%s\n%s", pages[0], pages[1], pages[2])
	}
}

// TestClusterJoinWhileOthersSend: while members on two nodes send to a
// room as fast as they can, members join it with since on a third node
// (first join there, catching up) and on the senders' nodes: each gets
// the replay then the live messages, every seq after since exactly once,
// in order, and every node agrees on which message has which seq.
func TestClusterJoinWhileOthersSend(t *testing.T) {
	_, nodes := startCluster(t, 3, options{chat: func(c *chat.Config) { c.History.Messages = 1000 }})
	alice, bob := nodes[0].login(t, "alice"), nodes[1].login(t, "bob")
	join(alice, "dev")
	join(bob, "dev")
	watch := nodes[0].login(t, "watch")
	join(watch, "dev")
	const each = 150
	var wg sync.WaitGroup
	for name, c := range map[string]*client{"alice": alice, "bob": bob} {
		wg.Go(func() {
			for i := range each {
				c.sendJSON(map[string]any{"room": "dev", "data": fmt.Sprintf("%s-%d", name, i)})
				if i%10 == 0 {
					time.Sleep(time.Millisecond)
				}
			}
		})
	}
	// Joiners come in while the senders send.
	names := []string{"carol", "dave", "erin"}
	joiners := []*client{nodes[2].login(t, "carol"), nodes[1].login(t, "dave"), nodes[2].login(t, "erin")}
	for i, c := range joiners {
		c.sendJSON(map[string]any{"type": "join", "room": "dev", "since": 0, "id": i})
	}
	wg.Wait()
	want, wantData := roomSeqs(t, watch, "dev", 2*each)
	for i, s := range want {
		if s != float64(i+1) {
			t.Fatalf("watch: message %d has seq %v", i, s)
		}
	}
	for j, c := range joiners {
		name := names[j]
		var got []float64
		var data []any
		deadline := time.Now().Add(30 * time.Second)
		for len(got) < 2*each {
			s, err := c.c.ReadText(time.Until(deadline))
			if err != nil {
				t.Fatalf("%s: %d messages, then %v", name, len(got), err)
			}
			var m map[string]any
			_ = json.Unmarshal([]byte(s), &m)
			switch m["type"] {
			case "joined":
				if m["recovered"] != true {
					t.Fatalf("%s: %v", name, m)
				}
			case "message":
				got = append(got, m["seq"].(float64))
				data = append(data, m["data"])
			}
		}
		for i := range got {
			if got[i] != want[i] || data[i] != wantData[i] {
				t.Fatalf("%s: message %d is seq %v %v, the room's is seq %v %v", name, i, got[i], data[i], want[i], wantData[i])
			}
		}
		noRoomMessage(t, c)
	}
}

// noRoomMessage asserts no room message reaches c for a short while
// (presence may).
func noRoomMessage(t *testing.T, c *client) {
	t.Helper()
	deadline := time.Now().Add(200 * time.Millisecond)
	for {
		s, err := c.c.ReadText(time.Until(deadline))
		if err != nil {
			return
		}
		if m := decode(s); m["type"] == "message" {
			t.Fatalf("unexpected %s", s)
		}
	}
}

func decode(s string) map[string]any {
	var m map[string]any
	_ = json.Unmarshal([]byte(s), &m)
	return m
}

// expectPast is expect, skipping presence notices.
func (c *client) expectPast(fields map[string]any) map[string]any {
	c.t.Helper()
	for {
		m := c.next()
		if m["type"] != "presence" {
			for k, want := range fields {
				if got := m[k]; !equalJSON(got, want) {
					c.t.Fatalf("field %s = %v, want %v (message %v)", k, got, want, m)
				}
			}
			return m
		}
	}
}

// TestClusterRoomHistoryOutlivesTheNodesMembers: a room whose members on a
// node all left keeps its seq and history there when joined again (the
// stream has them), while another node's members went on.
func TestClusterRoomHistoryOutlivesTheNodesMembers(t *testing.T) {
	_, nodes := startCluster(t, 2, options{})
	alice, bob := nodes[0].login(t, "alice"), nodes[1].login(t, "bob")
	join(alice, "dev")
	join(bob, "dev")
	alice.sendJSON(map[string]any{"room": "dev", "data": "one"})
	roomSeqs(t, bob, "dev", 1)
	leave(bob, "dev")
	alice.sendJSON(map[string]any{"room": "dev", "data": "two"})
	alice.sendJSON(map[string]any{"room": "dev", "data": "three", "id": 1})
	alice.expectPast(map[string]any{"type": "sent", "ref": 1})
	bob.sendJSON(map[string]any{"type": "join", "room": "dev", "since": 1, "id": 2})
	bob.expectPast(map[string]any{"type": "joined", "seq": 3, "recovered": true, "ref": 2})
	if seqs, data := roomSeqs(t, bob, "dev", 2); fmt.Sprint(seqs, data) != "[2 3] [two three]" {
		t.Fatalf("bob's replay %v %v", seqs, data)
	}
}

// TestClusterSinceBeyondKeptHistory: a join with a since older than what
// the room keeps is not recovered and counts the messages missed, on a
// node catching up as on one that has the room.
func TestClusterSinceBeyondKeptHistory(t *testing.T) {
	_, nodes := startCluster(t, 2, options{chat: func(c *chat.Config) { c.History.Messages = 3 }})
	alice := nodes[0].login(t, "alice")
	join(alice, "dev")
	for i := 1; i <= 10; i++ {
		alice.sendJSON(map[string]any{"room": "dev", "data": i, "id": i})
		alice.expect(map[string]any{"type": "sent", "ref": i})
	}
	bob := nodes[1].login(t, "bob")
	bob.sendJSON(map[string]any{"type": "join", "room": "dev", "since": 2, "id": 1})
	bob.expect(map[string]any{"type": "joined", "seq": 10, "recovered": false, "missed": 5, "ref": 1})
	if seqs, _ := roomSeqs(t, bob, "dev", 3); fmt.Sprint(seqs) != "[8 9 10]" {
		t.Fatalf("bob's replay %v", seqs)
	}
	bob.sendJSON(map[string]any{"type": "history", "room": "dev", "id": 2})
	m := bob.expect(map[string]any{"type": "history", "ref": 2})
	if n := len(m["messages"].([]any)); n != 3 {
		t.Fatalf("history on the late node has %d messages, want 3", n)
	}
}

// TestClusterAPIPublishSeq: the server API's publish on a node without
// members of the room gets the room's real seq.
func TestClusterAPIPublishSeq(t *testing.T) {
	_, nodes := startCluster(t, 2, options{})
	alice := nodes[0].login(t, "alice")
	join(alice, "dev")
	alice.sendJSON(map[string]any{"room": "dev", "data": "one", "id": 1})
	alice.expect(map[string]any{"type": "sent", "ref": 1})
	var pub struct{ Seq uint64 }
	waitFor(t, func() bool {
		p, err := nodes[1].svc.Publish(t.Context(), "api", "dev", json.RawMessage(`"two"`))
		pub.Seq = p.Seq
		return err == nil
	})
	if pub.Seq != 2 {
		t.Fatalf("API publish got seq %d, want 2", pub.Seq)
	}
	if seqs, data := roomSeqs(t, alice, "dev", 1); fmt.Sprint(seqs, data) != "[2] [two]" {
		t.Fatalf("alice got %v %v", seqs, data)
	}
}

// TestClusterLoginSinceOnANewNode: a login with since for an auto-joined
// room on a node where the room has no member yet is answered with the
// room's replay once the node caught up with the room's stream, not with
// what the node had at the instant of the login.
func TestClusterLoginSinceOnANewNode(t *testing.T) {
	_, nodes := startCluster(t, 2, options{chat: func(c *chat.Config) { c.Rooms.AutoJoin = []string{"lobby", "dev"} }})
	alice := nodes[0].login(t, "alice")
	for i := 1; i <= 5; i++ {
		alice.sendJSON(map[string]any{"room": "dev", "data": i, "id": i})
		alice.expectPast(map[string]any{"type": "sent", "ref": i})
	}
	bob := nodes[1].dial(t)
	bob.sendJSON(map[string]any{"type": "login", "name": "bob", "since": map[string]any{"dev": 2}})
	bob.expectPast(map[string]any{"type": "login_ok"})
	bob.expectPast(map[string]any{"type": "joined", "room": "dev", "seq": 5, "recovered": true})
	if seqs, data := roomSeqs(t, bob, "dev", 3); fmt.Sprint(seqs, data) != "[3 4 5] [3 4 5]" {
		t.Fatalf("bob's replay %v %v", seqs, data)
	}
	alice.sendJSON(map[string]any{"room": "dev", "data": 6})
	if seqs, _ := roomSeqs(t, bob, "dev", 1); fmt.Sprint(seqs) != "[6]" {
		t.Fatalf("live after the replay %v", seqs)
	}
}

// TestClusterNodeBehindClosesMembers: a node whose follower starts (or
// falls) behind what the room's stream keeps has lost news: its members
// in the room are closed with 4008, never left with a silent gap. Here
// node 1's follower is held before it reads while alice sends more than
// the stream keeps (history 3 + slack 1).
func TestClusterNodeBehindClosesMembers(t *testing.T) {
	ns := natstest.Start(t)
	slack := func(c *cluster.Config) { c.StreamSlack = 1 }
	small := func(c *chat.Config) {
		c.History.Messages = 3
		c.Rate.MessagesPerSecond, c.Rate.Burst = 1e5, 1e5
	}
	a := start(t, options{box: newMemBox(100), chat: small,
		opts: []chat.Option{chat.WithCluster(connectNode(t, 0, ns.ClientURL(), slack))}})
	gate := make(chan struct{})
	b := start(t, options{box: newMemBox(100), chat: small,
		opts: []chat.Option{chat.WithCluster(gatedFollow{connectNode(t, 1, ns.ClientURL(), slack), gate})}})
	alice := a.login(t, "alice")
	join(alice, "dev")
	alice.sendJSON(map[string]any{"room": "dev", "data": 0, "id": 0})
	alice.expectPast(map[string]any{"type": "sent", "ref": 0})
	bob := b.login(t, "bob")
	bob.sendJSON(map[string]any{"type": "join", "room": "dev", "id": 1})
	time.Sleep(100 * time.Millisecond) // node 1 read the stream's state; its start waits at the gate
	for i := 1; i <= 10; i++ {
		alice.sendJSON(map[string]any{"room": "dev", "data": i, "id": i})
		alice.expectPast(map[string]any{"type": "sent", "ref": i})
	}
	close(gate)
	if code := bob.closeCode(); code != server.CloseSlowConsumer {
		t.Fatalf("bob closed with %d, want 4008", code)
	}
}

// silentStream is a cluster node whose room streams never answer a
// publish.
type silentStream struct{ *cluster.Node }

func (silentStream) PublishRoom(string, uint64, []byte, func(uint64, error)) {}

// TestClusterAPIPublishNoAnswer: an API publish whose stream answer does
// not come is "outcome not known" (504), never "published" nor "not sent".
func TestClusterAPIPublishNoAnswer(t *testing.T) {
	ns := natstest.Start(t)
	e := start(t, options{opts: []chat.Option{chat.WithCluster(silentStream{connectNode(t, 0, ns.ClientURL())})}})
	alice := e.login(t, "alice")
	join(alice, "dev")
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err := e.svc.Publish(ctx, "api", "dev", json.RawMessage(`"x"`))
	if !errors.Is(err, api.ErrTimeout) {
		t.Fatalf("publish without an answer: %v, want api.ErrTimeout", err)
	}
}
