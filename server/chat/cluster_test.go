package chat_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"

	"github.com/chatd/chatd/server/chat"
	"github.com/chatd/chatd/server/cluster"
	"github.com/chatd/chatd/server/cluster/natstest"
)

// startCluster runs n chat nodes on one NATS server, sharing box as their
// offline mailbox (the JetStream mailbox has its own tests).
func startCluster(t *testing.T, n int, o options) (*natsserver.Server, []*env) {
	t.Helper()
	ns := natstest.Start(t)
	if o.box == nil {
		o.box = newMemBox(1000)
	}
	mutate := o.chat
	o.chat = func(c *chat.Config) {
		c.Rate.MessagesPerSecond, c.Rate.Burst = 1e5, 1e5 // the order tests send bursts
		if mutate != nil {
			mutate(c)
		}
	}
	envs := make([]*env, n)
	for i := range envs {
		oi := o
		oi.opts = append(append([]chat.Option{}, o.opts...), chat.WithCluster(connectNode(t, i, ns.ClientURL())))
		envs[i] = start(t, oi)
	}
	return ns, envs
}

// connectNode joins node n<i> to the NATS server at url (presence_ttl 3 s),
// leaving when the test ends.
func connectNode(t testing.TB, i int, url string, mutate ...func(*cluster.Config)) *cluster.Node {
	t.Helper()
	c := cluster.DefaultConfig()
	c.Enabled, c.Node, c.PresenceTTL = true, fmt.Sprintf("n%d", i), 3*time.Second
	for _, m := range mutate {
		m(&c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	node, err := cluster.Connect(ctx, c, []string{url}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = node.Close(ctx)
	})
	return node
}

func TestClusterPrivateAcrossNodes(t *testing.T) {
	_, nodes := startCluster(t, 3, options{})
	a, b, c := nodes[0], nodes[1], nodes[2]
	alice, bob := a.login(t, "alice"), b.login(t, "bob")
	waitFor(t, func() bool { return alice.onlineSeen(a, "bob") })
	alice.sendJSON(map[string]any{"receiver": "bob", "data": "psst", "id": 1})
	bob.expect(map[string]any{"type": "message", "sender": "alice", "receiver": "bob", "data": "psst"})
	alice.expect(map[string]any{"type": "sent", "status": "delivered", "ref": 1})

	// Per-sender order across nodes.
	for i := range 200 {
		alice.sendJSON(map[string]any{"receiver": "bob", "data": i})
	}
	for i := range 200 {
		bob.expect(map[string]any{"sender": "alice", "data": float64(i)})
	}

	// Offline everywhere: stored, and delivered at login on a third node.
	alice.sendJSON(map[string]any{"receiver": "carol", "data": "later", "id": 2})
	alice.expect(map[string]any{"type": "sent", "status": "stored", "ref": 2})
	carol := c.login(t, "carol")
	carol.expect(map[string]any{"type": "message", "sender": "alice", "receiver": "carol", "data": "later", "offline": true})

	// A user who leaves node B is not "delivered" to: the message is stored.
	bob.c.Close()
	waitFor(t, func() bool { return !alice.onlineSeen(a, "bob") })
	alice.sendJSON(map[string]any{"receiver": "bob", "data": "gone", "id": 3})
	alice.expect(map[string]any{"type": "sent", "status": "stored", "ref": 3})
}

// onlineSeen asks node e's seen command whether user is online.
func (c *client) onlineSeen(_ *env, user string) bool {
	c.sendJSON(map[string]any{"type": "seen", "user": user, "id": 9999})
	m := c.expect(map[string]any{"type": "seen", "ref": 9999})
	return m["online"] == true
}

func TestClusterOneSessionPerName(t *testing.T) {
	_, nodes := startCluster(t, 3, options{})
	nodes[0].login(t, "dave")
	for _, e := range nodes[1:] {
		c := e.dial(t)
		c.send("dave")
		if got := c.text(); got != "name is already online" {
			t.Fatalf("second dave on another node: %q", got)
		}
		c.send("Dave")
		if got := c.text(); got != "name is already online" {
			t.Fatalf("lookalike Dave on another node: %q", got)
		}
	}
}

func TestClusterRooms(t *testing.T) {
	_, nodes := startCluster(t, 3, options{chat: func(c *chat.Config) { c.Rooms.PresenceInterval = 10 * time.Millisecond }})
	alice, bob := nodes[0].login(t, "alice"), nodes[1].login(t, "bob")
	join(alice, "dev")
	// Node 1 hears of alice in dev (who answers for a room with no
	// members here from the cluster's view); then bob joins, and is told
	// nothing of her arrival, which came before his.
	waitFor(t, func() bool {
		bob.sendJSON(map[string]any{"type": "who", "room": "dev", "id": 1})
		return fmt.Sprint(bob.expect(map[string]any{"type": "who"})["users"]) == "[alice]"
	})
	join(bob, "dev")
	alice.expect(map[string]any{"type": "presence", "user": "bob", "status": "online", "room": "dev"})
	alice.sendJSON(map[string]any{"room": "dev", "data": "hello", "id": 1})
	alice.expect(map[string]any{"type": "sent", "ref": 1})
	bob.expect(map[string]any{"type": "message", "sender": "alice", "room": "dev", "data": "hello"})

	carol := nodes[2].login(t, "carol")
	join(carol, "dev")
	alice.expect(map[string]any{"type": "presence", "user": "carol", "status": "online", "room": "dev"})
	bob.expect(map[string]any{"type": "presence", "user": "carol", "status": "online", "room": "dev"})
	carol.sendJSON(map[string]any{"type": "who", "room": "dev", "id": 2})
	carol.expect(map[string]any{"type": "who", "users": []string{"alice", "bob", "carol"}, "ref": 2})
	carol.sendJSON(map[string]any{"type": "rooms", "id": 3})
	m := carol.expect(map[string]any{"type": "rooms", "ref": 3})
	if fmt.Sprint(m["rooms"]) == "[]" {
		t.Fatalf("rooms: %v", m)
	}
	// Per-sender order in a room across nodes.
	for i := range 100 {
		bob.sendJSON(map[string]any{"room": "dev", "data": i})
	}
	for i := range 100 {
		carol.expect(map[string]any{"sender": "bob", "room": "dev", "data": float64(i)})
	}
	leave(bob, "dev")
	carol.expect(map[string]any{"type": "presence", "user": "bob", "status": "left", "room": "dev"})
}

func TestClusterDegraded(t *testing.T) {
	ns, nodes := startCluster(t, 2, options{})
	alice, bob, amy := nodes[0].login(t, "alice"), nodes[1].login(t, "bob"), nodes[0].login(t, "amy")
	waitFor(t, func() bool { return alice.onlineSeen(nodes[0], "bob") })
	ns.Shutdown()
	ns.WaitForShutdown()
	// Node 0 notices (pings every 2 s, 2 missed) or at once on the closed socket.
	deadline := time.Now().Add(15 * time.Second)
	for {
		alice.sendJSON(map[string]any{"receiver": "bob", "data": "x", "id": 1})
		m := alice.next()
		if m["type"] == "error" {
			if got := fmt.Sprint(m["error"]); got[:len("the chat cluster is unavailable")] != "the chat cluster is unavailable" {
				t.Fatalf("error %q", got)
			}
			break
		}
		if m["type"] == "sent" && m["status"] == "delivered" {
			// Only before node 0 knew: bob must have it.
			bob.expect(map[string]any{"type": "message", "data": "x"})
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %v while NATS is down", m)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Local users go on.
	alice.sendJSON(map[string]any{"receiver": "amy", "data": "local", "id": 2})
	alice.expect(map[string]any{"type": "sent", "status": "delivered", "ref": 2})
	amy.expect(map[string]any{"type": "message", "data": "local"})
	// A new login cannot claim its name.
	c := nodes[0].dial(t)
	c.send("zoe")
	if got := c.text(); got != "server busy: the chat cluster is unavailable, try again" {
		t.Fatalf("login while degraded: %q", got)
	}
}

// TestClusterSenderSessionsSeeWhatItSent: the sender's sessions on other
// nodes get the message it sent, as its other sessions on its node do.
func TestClusterSenderSessionsSeeWhatItSent(t *testing.T) {
	_, nodes := startCluster(t, 3, options{authn: &fakeAuth{maxSessions: 2}})
	a1, a2, bob := nodes[0].login(t, "alice"), nodes[1].login(t, "alice"), nodes[2].login(t, "bob")
	waitFor(t, func() bool { return a1.onlineSeen(nodes[0], "bob") })
	// Node 0 must know alice is on node 1 too: a second login there is
	// refused once both slots are seen taken.
	waitFor(t, func() bool {
		c := nodes[0].dial(t)
		defer c.c.Close()
		c.send("alice")
		return c.text() == "name is already online"
	})
	a1.sendJSON(map[string]any{"receiver": "bob", "data": "hi", "id": 1})
	bob.expect(map[string]any{"type": "message", "sender": "alice", "receiver": "bob", "data": "hi"})
	a2.expect(map[string]any{"type": "message", "sender": "alice", "receiver": "bob", "data": "hi"})
	a1.expect(map[string]any{"type": "sent", "status": "delivered", "ref": 1})
}

// TestClusterResumeOnTheSameNode: a resume token takes over an open
// session on the same node with its rooms and its cluster slot: the name
// stays taken on the other nodes, and is free there once the resumed
// session ends. On another node the token is an ordinary login.
func TestClusterResumeOnTheSameNode(t *testing.T) {
	_, nodes := startCluster(t, 2, options{authn: &fakeAuth{maxSessions: 1}})
	old, ok := nodes[0].loginJSON(t, "alice", nil)
	token, _ := ok["resume"].(string)
	old.sendJSON(map[string]any{"type": "join", "room": "dev", "id": 1})
	old.expect(map[string]any{"type": "joined", "room": "dev"})
	fresh, ok2 := nodes[0].loginJSON(t, "alice", map[string]any{"resume": token})
	if !equalJSON(ok2["rooms"], []string{"lobby", "dev"}) {
		t.Fatalf("rooms after resume %v, want lobby and dev", ok2["rooms"])
	}
	if code := old.closeCode(); code != chat.CloseReplaced {
		t.Fatalf("old session closed with %d, want %d", code, chat.CloseReplaced)
	}
	other, _ := nodes[1].dialPath(t, "/ws", chat.ProtocolJSON)
	other.sendJSON(map[string]any{"type": "login", "name": "alice", "resume": ok2["resume"]})
	other.expect(map[string]any{"type": "login_error", "error": "name is already online"})
	fresh.c.Close()
	waitFor(t, func() bool {
		other.sendJSON(map[string]any{"type": "login", "name": "alice"})
		return other.next()["type"] == "login_ok"
	})
}

// TestClusterAPI: the server API on one node reaches the whole cluster:
// a publish to a room whose members are all on other nodes, and a
// disconnect of a user on another node.
func TestClusterAPI(t *testing.T) {
	_, nodes := startCluster(t, 2, options{})
	bob := nodes[1].login(t, "bob")
	join(bob, "dev")
	api := nodes[0].svc
	waitFor(t, func() bool { names, _ := api.Online("", 10); return len(names) == 1 })
	waitFor(t, func() bool { rooms, _ := api.Rooms("", 10); return fmt.Sprint(rooms) != "[]" && len(rooms) == 2 })
	if _, err := api.Publish(context.Background(), "ops", "dev", []byte(`"maintenance"`)); err != nil {
		t.Fatal(err)
	}
	bob.expect(map[string]any{"type": "message", "sender": "ops", "room": "dev", "data": "maintenance"})
	n, err := api.Disconnect("bob", "bye")
	if err != nil || n != 1 {
		t.Fatalf("disconnect: %d, %v", n, err)
	}
	if code := bob.closeCode(); code != chat.CloseDisconnected {
		t.Fatalf("bob closed with %d, want %d", code, chat.CloseDisconnected)
	}
}
