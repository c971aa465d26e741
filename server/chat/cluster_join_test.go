package chat_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/chatd/chatd/server/chat"
	"github.com/chatd/chatd/server/cluster"
	"github.com/chatd/chatd/server/cluster/natstest"
)

// TestClusterFirstJoinThenSpeak: bob is the first member of a room on node
// 1; as soon as he has "joined", alice on node 0 speaks. He must hear it:
// the joined answer waits for the room's subscription to reach NATS
// (found by a hostile review: 10 of 300 missed before).
func TestClusterFirstJoinThenSpeak(t *testing.T) {
	_, nodes := startCluster(t, 2, options{})
	alice, bob := nodes[0].login(t, "alice"), nodes[1].login(t, "bob")
	missed := 0
	for i := 0; i < 100; i++ {
		room := fmt.Sprintf("r%d", i)
		join(alice, room)
		drain(alice)
		join(bob, room)
		alice.sendJSON(map[string]any{"room": room, "data": "hi"})
		ok := false
		deadline := time.Now().Add(time.Second)
		for time.Now().Before(deadline) {
			s, err := bob.c.ReadText(time.Until(deadline))
			if err != nil {
				break
			}
			var m map[string]any
			_ = json.Unmarshal([]byte(s), &m)
			if m["type"] == "message" && m["room"] == room {
				ok = true
				break
			}
		}
		if !ok {
			missed++
		}
		bob.sendJSON(map[string]any{"type": "leave", "room": room})
		alice.sendJSON(map[string]any{"type": "leave", "room": room})
		untilLeft(t, bob, room)
		untilLeft(t, alice, room)
	}
	if missed > 0 {
		t.Errorf("bob missed %d of 100 messages sent after his joined", missed)
	}
}

// untilLeft reads c's frames up to its left answer for room.
func untilLeft(t *testing.T, c *client, room string) {
	t.Helper()
	for {
		s, err := c.c.ReadText(5 * time.Second)
		if err != nil {
			t.Fatalf("no left for %s: %v", room, err)
		}
		var m map[string]any
		_ = json.Unmarshal([]byte(s), &m)
		if m["type"] == "left" && m["room"] == room {
			return
		}
	}
}

func drain(c *client) {
	for {
		if _, err := c.c.ReadText(5 * time.Millisecond); err != nil {
			return
		}
	}
}

// clientSubs counts the subscriptions of ns's clients (the nodes), not
// the server's own (a room stream has some).
func clientSubs(ns *natsserver.Server) int {
	cz, err := ns.Connz(&natsserver.ConnzOptions{})
	if err != nil {
		return -1
	}
	n := 0
	for _, c := range cz.Conns {
		n += int(c.NumSubs)
	}
	return n
}

// subjects lists the subscriptions of ns's clients.
func subjects(ns *natsserver.Server) []string {
	cz, err := ns.Connz(&natsserver.ConnzOptions{Subscriptions: true})
	if err != nil {
		return nil
	}
	var out []string
	for _, c := range cz.Conns {
		out = append(out, c.Subs...)
	}
	return out
}

// TestClusterRoomChurnLeavesNothing: rooms made and emptied 300 times on
// two nodes leave no NATS subscription and no room in rooms (from a
// hostile review).
func TestClusterRoomChurnLeavesNothing(t *testing.T) {
	ns, nodes := startCluster(t, 2, options{})
	alice, bob := nodes[0].login(t, "alice"), nodes[1].login(t, "bob")
	// A first join on each node is answered once the NATS server has
	// everything the node subscribed before (the lobby included): only
	// then is the count a baseline.
	join(alice, "warm-a")
	join(bob, "warm-b")
	before := clientSubs(ns)
	for i := 0; i < 300; i++ {
		room := fmt.Sprintf("c%d", i)
		c := alice
		if i%2 == 1 {
			c = bob
		}
		c.sendJSON(map[string]any{"type": "join", "room": room})
		c.sendJSON(map[string]any{"type": "leave", "room": room})
		untilLeft(t, c, room)
	}
	// Each stopped follower deletes its consumer in the background. Under
	// a heavy CPU load, one pull-consumer subscription of the 300 was
	// seen to stay (not diagnosed: nats.go's pull subscription cleanup
	// after Stop; cluster's TestFollowerStopLeavesNoSubscription never
	// leaves one): a leak per room would leave hundreds.
	waitForWithin(t, 30*time.Second, func() bool { return clientSubs(ns) <= before+2 },
		func() string {
			return fmt.Sprintf("%d client subscriptions, %d before: %v", clientSubs(ns), before, subjects(ns))
		})
	// The rooms list is the cluster's view: the last leave reaches it
	// asynchronously.
	waitFor(t, func() bool {
		alice.sendJSON(map[string]any{"type": "rooms", "id": 7})
		for {
			m := alice.next()
			if m["type"] == "rooms" {
				return len(m["rooms"].([]any)) == 3 // the lobby and the warm-ups
			}
		}
	})
}

// gatedFollow is a cluster node whose room followers start once its gate
// is open: a join's answer waits as long as the test wants.
type gatedFollow struct {
	*cluster.Node
	gate chan struct{}
}

func (g gatedFollow) FollowRoom(room string, start func(cluster.RoomStart), h func(cluster.RoomMessage)) *cluster.Follower {
	return g.Node.FollowRoom(room, func(st cluster.RoomStart) { <-g.gate; start(st) }, h)
}

// TestClusterJoinWaitIsBounded: while the first join of a room on a node
// waits for its subscription, the client's next requests wait behind it,
// in order, at most 64; past that each gets an error (and is not handled),
// and nothing is lost or reordered when the join is answered.
func TestClusterJoinWaitIsBounded(t *testing.T) {
	ns := natstest.Start(t)
	gate := make(chan struct{})
	e := start(t, options{
		chat: func(c *chat.Config) { c.Rate.MessagesPerSecond, c.Rate.Burst = 1e5, 1e5 },
		opts: []chat.Option{chat.WithCluster(gatedFollow{connectNode(t, 0, ns.ClientURL(),
			func(c *cluster.Config) { c.JoinWait = time.Minute }), gate})},
	})
	bob := e.login(t, "bob")
	bob.sendJSON(map[string]any{"type": "join", "room": "new", "id": 0})
	for i := 1; i <= 70; i++ {
		bob.sendJSON(map[string]any{"type": "who", "room": "new", "id": i})
	}
	for range 6 {
		bob.expect(map[string]any{"type": "error", "error": "too many requests while a join is answered: read its answer first"})
	}
	bob.quiet()
	close(gate)
	bob.expect(map[string]any{"type": "joined", "room": "new", "ref": 0})
	for i := 1; i <= 64; i++ {
		bob.expect(map[string]any{"type": "who", "users": []string{"bob"}, "ref": i})
	}
}
