package cluster

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/server/cluster/natstest"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap/zaptest"
)

func testNode(t *testing.T, s *natsserver.Server, name string, ttl time.Duration) *Node {
	t.Helper()
	c := DefaultConfig()
	c.Enabled, c.Node, c.PresenceTTL = true, name, ttl
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n, err := Connect(ctx, c, []string{s.ClientURL()}, zaptest.NewLogger(t).Named(name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = n.Close(ctx)
	})
	return n
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool, state ...func() string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			for _, s := range state {
				what += ": " + s()
			}
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestClaimsAreClusterWide(t *testing.T) {
	s := natstest.Start(t)
	a, b := testNode(t, s, "a", 5*time.Second), testNode(t, s, "b", 5*time.Second)
	ctx := context.Background()
	ca, err := a.Claim(ctx, "bob", "bob", 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Claim(ctx, "bob", "bob", 1, 2); !errors.Is(err, ErrTaken) {
		t.Fatalf("second claim of a 1-session user on another node: %v, want ErrTaken", err)
	}
	if _, err := b.Claim(ctx, "Bob", "bob", 2, 3); !errors.Is(err, ErrLookalike) {
		t.Fatalf("lookalike: %v, want ErrLookalike", err)
	}
	eventually(t, "b sees bob on a", func() bool { n := b.Nodes("bob"); return len(n) == 1 && n[0] == "a" })
	if got := a.Nodes("bob"); len(got) != 0 {
		t.Fatalf("a's own node listed: %v", got)
	}
	// Two concurrent claims of the last slot: exactly one wins.
	var wg sync.WaitGroup
	wins := make(chan *Node, 2)
	for i, n := range []*Node{a, b} {
		wg.Go(func() {
			if _, err := n.Claim(ctx, "carol", "carol", 1, uint64(10+i)); err == nil {
				wins <- n
			}
		})
	}
	wg.Wait()
	close(wins)
	if len(wins) != 1 {
		t.Fatalf("%d nodes claimed carol's only slot", len(wins))
	}
	a.Release(ca)
	eventually(t, "bob released", func() bool { return !b.Online("bob") })
	if _, err := b.Claim(ctx, "bob", "bob", 1, 4); err != nil {
		t.Fatalf("claim after release: %v", err)
	}
}

func TestDeadNodesClaimsExpire(t *testing.T) {
	s := natstest.Start(t)
	ttl := 2 * time.Second
	a, b := testNode(t, s, "a", ttl), testNode(t, s, "b", ttl)
	ctx := context.Background()
	if _, err := a.Claim(ctx, "dave", "dave", 1, 1); err != nil {
		t.Fatal(err)
	}
	if err := a.SetMember("lobby", "dave", true); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b sees dave in lobby", func() bool { return len(b.RoomMembers("lobby")["dave"]) == 1 })
	// Kill a without a goodbye: stop its heartbeat and cut NATS.
	close(a.stop)
	a.wg.Wait()
	a.nc.Close()
	start := time.Now()
	eventually(t, "dave's claim expires", func() bool { return !b.Online("dave") })
	if took := time.Since(start); took > 2*ttl {
		t.Errorf("dead node's users online for %v, want within the TTL %v", took, ttl)
	}
	if len(b.RoomMembers("lobby")) != 0 {
		t.Errorf("dead node's room members still listed: %v", b.RoomMembers("lobby"))
	}
	if _, err := b.Claim(ctx, "dave", "dave", 1, 2); err != nil {
		t.Fatalf("claim of a dead node's slot: %v", err)
	}
}

func TestPrivateAnswers(t *testing.T) {
	s := natstest.Start(t)
	a, b := testNode(t, s, "a", 5*time.Second), testNode(t, s, "b", 5*time.Second)
	var mu sync.Mutex
	var got []string
	b.HandlePrivate(func(msg []byte, answer func(bool)) {
		mu.Lock()
		got = append(got, string(msg))
		mu.Unlock()
		answer(string(msg) != "nobody")
	})
	type result struct {
		ok  bool
		err error
	}
	send := func(node, msg string) result {
		ch := make(chan result, 1)
		a.SendPrivate(node, []byte(msg), func(ok bool, err error) { ch <- result{ok, err} })
		select {
		case r := <-ch:
			return r
		case <-time.After(PrivateTimeout + 5*time.Second):
			t.Fatal("no outcome")
			return result{}
		}
	}
	if r := send("b", "hi"); !r.ok || r.err != nil {
		t.Fatalf("delivered: %+v", r)
	}
	if r := send("b", "nobody"); r.ok {
		t.Fatalf("not delivered reported delivered: %+v", r)
	}
	start := time.Now()
	if r := send("gone", "x"); r.ok {
		t.Fatalf("a node that does not exist delivered: %+v", r)
	}
	if time.Since(start) > PrivateTimeout/2 {
		t.Errorf("no-responders took %v: expected NATS's 503 at once", time.Since(start))
	}
	// Order: 500 messages arrive in order.
	for i := range 500 {
		a.SendPrivate("b", []byte{byte('A' + i%26)}, func(bool, error) {})
	}
	eventually(t, "500 messages", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 502 })
	mu.Lock()
	defer mu.Unlock()
	for i, m := range got[2:] {
		if m != string(rune('A'+i%26)) {
			t.Fatalf("message %d is %q: out of order", i, m)
		}
	}
}

func TestRoomChangesBetweenNodes(t *testing.T) {
	s := natstest.Start(t)
	a, b := testNode(t, s, "a", 5*time.Second), testNode(t, s, "b", 5*time.Second)
	changes := make(chan RoomChange, 10)
	b.HandleRoomChanges(func(c RoomChange) { changes <- c })
	_ = a.SetMember("dev", "eve", true)
	if c := <-changes; c != (RoomChange{Room: "dev", User: "eve", Node: "a", In: true}) {
		t.Fatalf("change %+v", c)
	}
	_ = a.SetMember("dev", "eve", false)
	if c := <-changes; c.In {
		t.Fatalf("change %+v", c)
	}
	if names, users, _ := b.Rooms("", 10); len(names) != 0 {
		t.Fatalf("rooms %v %v after the last member left", names, users)
	}
}

// TestPrivateTimeout: a node that takes a message and never answers (it
// died with it, or holds it) settles it as not delivered, with the
// deadline as the reason, once; an answer after that changes nothing.
func TestPrivateTimeout(t *testing.T) {
	s := natstest.Start(t)
	a, b := testNode(t, s, "a", 5*time.Second), testNode(t, s, "b", 5*time.Second)
	a.router.timeout = 200 * time.Millisecond
	late := make(chan func(bool), 1)
	b.HandlePrivate(func(_ []byte, answer func(bool)) { late <- answer })
	type result struct {
		ok  bool
		err error
	}
	got := make(chan result, 2)
	a.SendPrivate("b", []byte("x"), func(ok bool, err error) { got <- result{ok, err} })
	r := <-got
	if r.ok || !errors.Is(r.err, context.DeadlineExceeded) {
		t.Fatalf("unanswered message: %+v, want not delivered by the deadline", r)
	}
	(<-late)(true) // b answers "delivered" too late
	select {
	case r := <-got:
		t.Fatalf("settled twice: %+v", r)
	case <-time.After(300 * time.Millisecond):
	}
}
