package cluster

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chatd/chatd/server/cluster/natstest"
)

// follower records what a Follower delivers.
type follower struct {
	mu     sync.Mutex
	starts []RoomStart
	msgs   []RoomMessage
	f      *Follower
}

func follow(n *Node, room string) *follower {
	r := &follower{}
	r.f = n.FollowRoom(room, func(st RoomStart) {
		r.mu.Lock()
		r.starts = append(r.starts, st)
		r.mu.Unlock()
	}, func(m RoomMessage) {
		r.mu.Lock()
		r.msgs = append(r.msgs, m)
		r.mu.Unlock()
	})
	return r
}

func (r *follower) snapshot() ([]RoomStart, []RoomMessage) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]RoomStart(nil), r.starts...), append([]RoomMessage(nil), r.msgs...)
}

func (r *follower) ready(t *testing.T) {
	t.Helper()
	select {
	case <-r.f.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("follower not ready")
	}
}

// publishWait publishes and returns the seq.
func publishWait(t *testing.T, n *Node, room string, conn uint64, data string) uint64 {
	t.Helper()
	type out struct {
		seq uint64
		err error
	}
	ch := make(chan out, 1)
	n.PublishRoom(room, conn, []byte(data), func(seq uint64, err error) { ch <- out{seq, err} })
	select {
	case o := <-ch:
		if o.err != nil {
			t.Fatalf("publish %q: %v", data, o.err)
		}
		return o.seq
	case <-time.After(10 * time.Second):
		t.Fatalf("publish %q: no outcome", data)
	}
	return 0
}

// TestRoomStreamSeqsAreShared: messages published on two nodes get one
// sequence of seqs; every follower gets all of them in seq order, each
// once, and knows which of them its own connection sent.
func TestRoomStreamSeqsAreShared(t *testing.T) {
	s := natstest.Start(t)
	a, b := testNode(t, s, "a", 5*time.Second), testNode(t, s, "b", 5*time.Second)
	fa, fb := follow(a, "dev"), follow(b, "dev")
	fa.ready(t)
	fb.ready(t)
	var wg sync.WaitGroup
	for _, n := range []*Node{a, b} {
		wg.Go(func() {
			for i := range 200 {
				done := make(chan struct{})
				n.PublishRoom("dev", 7, fmt.Appendf(nil, "%s%d", n.name, i), func(uint64, error) { close(done) })
				if i%50 == 49 {
					<-done
				}
			}
		})
	}
	wg.Wait()
	for _, f := range []*follower{fa, fb} {
		eventually(t, "400 messages", func() bool { _, m := f.snapshot(); return len(m) == 400 })
	}
	_, ma := fa.snapshot()
	_, mb := fb.snapshot()
	next := map[string]int{}
	for i := range ma {
		if ma[i].Seq != uint64(i+1) || mb[i].Seq != uint64(i+1) || string(ma[i].Data) != string(mb[i].Data) {
			t.Fatalf("message %d: a has %d %q, b has %d %q", i, ma[i].Seq, ma[i].Data, mb[i].Seq, mb[i].Data)
		}
		// Per-publisher order.
		from := string(ma[i].Data[:1])
		if want := fmt.Sprintf("%s%d", from, next[from]); string(ma[i].Data) != want {
			t.Fatalf("seq %d is %q, want %q", i+1, ma[i].Data, want)
		}
		next[from]++
		if own := from == "a"; (ma[i].Conn == 7) != own || (mb[i].Conn == 7) == own {
			t.Fatalf("seq %d from %s: conn on a %d, on b %d", i+1, from, ma[i].Conn, mb[i].Conn)
		}
	}
}

// TestRoomStreamFollowerStartsAtKeptHistory: a follower started late gets
// the messages the stream keeps (history.messages of them) as the first
// deliveries, after a start that says where they begin and which are
// old, then the new ones.
func TestRoomStreamFollowerStartsAtKeptHistory(t *testing.T) {
	s := natstest.Start(t)
	a, b := testNode(t, s, "a", 5*time.Second), testNode(t, s, "b", 5*time.Second)
	for _, n := range []*Node{a, b} {
		n.ConfigureRooms(RoomStreamsConfig{Messages: 3, MaxAge: time.Hour, MaxIdle: 10})
		n.streams.slack = 0
	}
	fa := follow(a, "dev")
	fa.ready(t)
	for i := 1; i <= 5; i++ {
		if seq := publishWait(t, a, "dev", 1, fmt.Sprint(i)); seq != uint64(i) {
			t.Fatalf("message %d got seq %d", i, seq)
		}
	}
	fb := follow(b, "dev")
	fb.ready(t)
	starts, msgs := fb.snapshot()
	if len(starts) != 1 || starts[0] != (RoomStart{Last: 2, Target: 5}) {
		t.Fatalf("starts %+v, want one {Last:2 Target:5}", starts)
	}
	if len(msgs) != 3 || msgs[0].Seq != 3 || msgs[2].Seq != 5 {
		t.Fatalf("late follower got %+v, want seqs 3..5", msgs)
	}
	publishWait(t, b, "dev", 2, "6")
	eventually(t, "seq 6 on both", func() bool {
		_, ma := fa.snapshot()
		_, mb := fb.snapshot()
		return len(ma) == 6 && len(mb) == 4 && ma[5].Seq == 6 && mb[3].Seq == 6 && mb[3].Conn == 2 && ma[5].Conn == 0
	}, func() string {
		_, ma := fa.snapshot()
		_, mb := fb.snapshot()
		return fmt.Sprintf("a %+v b %+v", ma, mb)
	})
	// An empty stream that had messages: a follower starts after them.
	fc := follow(a, "empty")
	fc.ready(t)
	if st, _ := fc.snapshot(); len(st) != 1 || st[0] != (RoomStart{}) {
		t.Fatalf("new room's start %+v", st)
	}
}

// TestRoomStreamMadeAnew: when NATS lost a room's stream (deleted here)
// the followers start over with Reset, and a publish makes the stream
// again: seq 1.
func TestRoomStreamMadeAnew(t *testing.T) {
	s := natstest.Start(t)
	a := testNode(t, s, "a", 5*time.Second)
	fa := follow(a, "dev")
	fa.ready(t)
	publishWait(t, a, "dev", 1, "old1")
	publishWait(t, a, "dev", 1, "old2")
	eventually(t, "two", func() bool { _, m := fa.snapshot(); return len(m) == 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.js.DeleteStream(ctx, roomStreamName("dev")); err != nil {
		t.Fatal(err)
	}
	// A publish finds no stream, makes it and is stored: seq 1.
	if seq := publishWait(t, a, "dev", 1, "new1"); seq != 1 {
		t.Fatalf("first message of the new stream has seq %d", seq)
	}
	a.streams.checkFollowers() // as after NATS came back
	eventually(t, "a reset and the new message", func() bool {
		st, m := fa.snapshot()
		return len(st) == 2 && st[1].Reset && len(m) == 3 && m[2].Seq == 1 && string(m[2].Data) == "new1"
	})
}

// TestRoomStreamSweep: streams of rooms without members go once they keep
// nothing (past the grace) and beyond MaxIdle, oldest first; a followed
// room's stream and a room with members elsewhere stay.
func TestRoomStreamSweep(t *testing.T) {
	s := natstest.Start(t)
	a, b := testNode(t, s, "a", 5*time.Second), testNode(t, s, "b", 5*time.Second)
	a.ConfigureRooms(RoomStreamsConfig{Messages: 10, MaxAge: time.Hour, MaxIdle: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, room := range []string{"empty", "old", "new", "followed", "elsewhere"} {
		if _, err := a.streams.ensure(ctx, room); err != nil {
			t.Fatal(err)
		}
	}
	publishWait(t, a, "old", 0, "x")
	publishWait(t, a, "new", 0, "x")
	publishWait(t, a, "elsewhere", 0, "x")
	f := follow(a, "followed")
	f.ready(t)
	a.streams.sweepConfirm = 0
	_ = b.SetMember("elsewhere", "eve", true)
	eventually(t, "a sees eve", func() bool { return len(a.RoomMembers("elsewhere")) == 1 })
	if err := a.streams.sweep(ctx, time.Now().Add(2*emptyStreamGrace)); err != nil {
		t.Fatal(err)
	}
	left := map[string]bool{}
	for name := range a.js.StreamNames(ctx).Name() {
		left[name] = true
	}
	for room, want := range map[string]bool{"empty": false, "old": false, "new": true, "followed": true, "elsewhere": true} {
		if left[roomStreamName(room)] != want {
			t.Errorf("stream of %q kept = %v, want %v (left %v)", room, !want, want, left)
		}
	}
	f.f.Stop()
}

func TestRoomStreamNames(t *testing.T) {
	for _, room := range []string{"dev", "a b/c.d*>", string(make([]byte, 300))} {
		name := roomStreamName(room)
		if len(name) > 255 || roomFromSubject(roomSubject(room)) != room {
			t.Errorf("room %q: stream %q, subject round trip %q", room, name, roomFromSubject(roomSubject(room)))
		}
	}
	if roomFromSubject("chatd.other.x") != "" || roomFromSubject("chatd.room.!!") != "" {
		t.Error("roomFromSubject accepted a subject that is no room's")
	}
}

// TestFollowerStopLeavesNoSubscription: rooms followed and left 50 times
// leave no subscription on the NATS server.
func TestFollowerStopLeavesNoSubscription(t *testing.T) {
	s := natstest.Start(t)
	a := testNode(t, s, "a", 5*time.Second)
	warm := follow(a, "warm")
	warm.ready(t)
	before := a.nc.NumSubscriptions()
	for i := range 50 {
		f := follow(a, fmt.Sprintf("r%d", i))
		if i%2 == 0 {
			f.ready(t)
		}
		f.f.Stop()
	}
	eventually(t, "subscriptions back to the baseline", func() bool { return a.nc.NumSubscriptions() <= before },
		func() string { return fmt.Sprint(a.nc.NumSubscriptions(), " > ", before) })
	if a.streams.following("r1") || len(a.streams.followers) != 1 {
		t.Fatalf("followers left: %d", len(a.streams.followers))
	}
}

// TestRoomStreamReplacedWhileAttaching: the room's stream is replaced
// between the follower's look at it and the making of its consumer (NATS
// restarted in between: the look was answered by the old server, the
// consumer made on the new one, where the publishes of another node had
// already made the stream anew; or an operator deleted it). The follower
// must not go on after its cursor in the new stream as if it were the old
// one, skipping the new stream's first messages: it starts over (Reset)
// and delivers every message of the new stream, once.
func TestRoomStreamReplacedWhileAttaching(t *testing.T) {
	s := natstest.Start(t)
	a, b := testNode(t, s, "a", 5*time.Second), testNode(t, s, "b", 5*time.Second)
	var mu sync.Mutex
	var events []string // the follower's starts and messages, in order
	f := a.FollowRoom("dev", func(st RoomStart) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, fmt.Sprintf("start reset=%v last=%d", st.Reset, st.Last))
	}, func(m RoomMessage) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, fmt.Sprintf("%d:%s", m.Seq, m.Data))
	})
	defer f.Stop()
	select {
	case <-f.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("follower not ready")
	}
	for i := 1; i <= 3; i++ {
		publishWait(t, b, "dev", 0, fmt.Sprint("old", i))
	}
	eventually(t, "the old messages", func() bool { mu.Lock(); defer mu.Unlock(); return len(events) == 4 })
	var once sync.Once
	hook := func(string) {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := b.js.DeleteStream(ctx, roomStreamName("dev")); err != nil {
				t.Error(err)
			}
			for i := 1; i <= 4; i++ { // the new stream, made by b's first publish
				done := make(chan error, 1)
				b.PublishRoom("dev", 0, fmt.Append(nil, "new", i), func(_ uint64, err error) { done <- err })
				if err := <-done; err != nil {
					t.Error(err)
				}
			}
		})
	}
	a.streams.afterEnsure.Store(&hook)
	a.streams.checkFollowers() // as when NATS came back
	want := []string{"start reset=false last=0", "1:old1", "2:old2", "3:old3",
		"start reset=true last=0", "1:new1", "2:new2", "3:new3", "4:new4"}
	eventually(t, "the new stream from its start", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return fmt.Sprint(events) == fmt.Sprint(want)
	}, func() string {
		mu.Lock()
		defer mu.Unlock()
		return fmt.Sprintf("got %q\nwant %q", events, want)
	})
}

// TestRoomStreamFirstPublishesKeepOrder: a node publishes to a room whose
// stream does not exist yet, and another node makes the stream right after
// the first publish went out: every message is stored in the publisher's
// order. (Without publishOrder, the first publish failed for want of a
// stream and was sent again after the later ones, stored on the stream b
// made: 1, 2, ..., then 0.)
func TestRoomStreamFirstPublishesKeepOrder(t *testing.T) {
	s := natstest.Start(t)
	a, b := testNode(t, s, "a", 5*time.Second), testNode(t, s, "b", 5*time.Second)
	const n = 20
	results := make(chan error, n)
	publish := func(i int) {
		a.PublishRoom("fresh", 7, fmt.Appendf(nil, "m%02d", i), func(_ uint64, err error) { results <- err })
	}
	publish(0)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := b.streams.ensure(ctx, "fresh"); err != nil { // b's follower would make it
		t.Fatal(err)
	}
	for i := 1; i < n; i++ {
		publish(i)
	}
	for range n {
		if err := <-results; err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
	fb := follow(b, "fresh")
	eventually(t, "20 messages", func() bool { _, m := fb.snapshot(); return len(m) == n })
	_, got := fb.snapshot()
	for i, m := range got {
		if want := fmt.Sprintf("m%02d", i); string(m.Data) != want || m.Seq != uint64(i+1) {
			t.Fatalf("seq %d is %q, want %q: stored out of the publisher's order", m.Seq, m.Data, want)
		}
	}
}
