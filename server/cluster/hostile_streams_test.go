package cluster

// Hostile tests of the room streams (history.go, follow.go, sweep.go).

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/server/cluster/natstest"
)

// TestHostileFollowerContiguousUnderLoad: node a publishes without pause
// while node b starts a follower of the busy room, takes a few hundred
// messages, stops it and starts another, again and again. Promise
// (Follower): from its start, in seq order, each at most once, h never on
// two goroutines at once; contiguous unless the follower fell more than
// the stream's slack behind (here it is made slow on purpose): then the
// owner sees the jump (chat closes the room's members here, 4008:
// TestHostileCatchUpWhileBusy).
func TestHostileFollowerContiguousUnderLoad(t *testing.T) {
	s := natstest.Start(t)
	a, b := testNode(t, s, "a", 5*time.Second), testNode(t, s, "b", 5*time.Second)
	for _, n := range []*Node{a, b} {
		n.ConfigureRooms(RoomStreamsConfig{Messages: 5000, MaxAge: time.Hour, MaxIdle: 10})
	}
	stop := make(chan struct{})
	var pub sync.WaitGroup
	pub.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			done := make(chan struct{})
			a.PublishRoom("dev", 1, fmt.Appendf(nil, "%d", i), func(uint64, error) { close(done) })
			if i%100 == 99 {
				<-done
			}
		}
	})
	defer func() { close(stop); pub.Wait() }()
	for round := range 4 {
		var mu sync.Mutex
		var starts []RoomStart
		var seqs []uint64
		var inH, overlap atomic.Int32
		f := b.FollowRoom("dev", func(st RoomStart) {
			mu.Lock()
			starts = append(starts, st)
			mu.Unlock()
		}, func(m RoomMessage) {
			if inH.Add(1) > 1 {
				overlap.Add(1)
			}
			mu.Lock()
			seqs = append(seqs, m.Seq)
			mu.Unlock()
			time.Sleep(20 * time.Microsecond) // a busy node
			inH.Add(-1)
		})
		eventually(t, "3000 deliveries", func() bool { mu.Lock(); defer mu.Unlock(); return len(seqs) >= 3000 })
		f.Stop()
		mu.Lock()
		if len(starts) != 1 {
			t.Errorf("round %d: starts %+v", round, starts)
		}
		prev, skips := starts[0].Last, 0
		for i, sq := range seqs {
			if sq <= prev {
				t.Errorf("round %d: delivery %d is seq %d after %d (start %+v)", round, i, sq, prev, starts[0])
				break
			}
			if sq != prev+1 {
				skips++
			}
			prev = sq
		}
		mu.Unlock()
		t.Logf("round %d: %d deliveries, %d jumps (the follower fell behind the stream's slack)", round, len(seqs), skips)
		if n := overlap.Load(); n > 0 {
			t.Errorf("round %d: h ran on two goroutines at once %d times", round, n)
		}
	}
}

// TestHostileSweepWhileJoining: the sweeping node (a) sweeps the moment
// a member joins the room on node b (b follows the room and has set the
// membership, as chat's join does). Promise (sweep.go, CLUSTER.md): only
// streams of rooms "without members anywhere" are deleted; a room being
// joined keeps its history and seqs.
func TestHostileSweepWhileJoining(t *testing.T) {
	s := natstest.Start(t)
	a, b := testNode(t, s, "a", 5*time.Second), testNode(t, s, "b", 5*time.Second)
	for _, n := range []*Node{a, b} {
		n.ConfigureRooms(RoomStreamsConfig{Messages: 10, MaxAge: time.Hour, MaxIdle: 0})
	}
	a.streams.sweepConfirm = 200 * time.Millisecond // a consumer is made within milliseconds
	lost := 0
	const rounds = 30
	for round := range rounds {
		room := fmt.Sprint("r", round)
		publishWait(t, a, room, 0, "kept")
		// b's member joins: chat's rooms.join makes the follower, then
		// sets the membership (rooms.go createLocked, then SetMember).
		fb := follow(b, room)
		_ = b.SetMember(room, "bob", true)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := a.streams.sweep(ctx, time.Now()); err != nil {
			t.Fatal(err)
		}
		_, err := a.js.Stream(ctx, roomStreamName(room))
		cancel()
		if err != nil {
			lost++
			t.Logf("round %d: the stream of a room being joined on b was deleted: %v", round, err)
		}
		fb.f.Stop()
	}
	if lost > 0 {
		t.Errorf("%d of %d rooms joined on b while a swept lost their stream (history and seqs)", lost, rounds)
	}
}

// TestHostileSweepThenPublishResets: b follows a room but no membership
// is set anywhere: the sweep keeps the stream (b's consumer is on it);
// deleted anyway (by an operator), a publish on b makes it anew, and b's
// follower must announce a Reset and deliver the new seq 1.
func TestHostileSweepThenPublishResets(t *testing.T) {
	s := natstest.Start(t)
	a, b := testNode(t, s, "a", 5*time.Second), testNode(t, s, "b", 5*time.Second)
	for _, n := range []*Node{a, b} {
		n.ConfigureRooms(RoomStreamsConfig{Messages: 10, MaxAge: time.Hour, MaxIdle: 0})
	}
	publishWait(t, a, "dev", 0, "old")
	fb := follow(b, "dev")
	fb.ready(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a.streams.sweepConfirm = 0
	if err := a.streams.sweep(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.js.Stream(ctx, roomStreamName("dev")); err != nil {
		t.Fatalf("the sweep deleted a followed room's stream: %v", err)
	}
	if err := a.js.DeleteStream(ctx, roomStreamName("dev")); err != nil {
		t.Fatal(err)
	}
	seq := publishWait(t, b, "dev", 3, "new")
	eventually(t, "the new message on b", func() bool {
		_, m := fb.snapshot()
		return len(m) == 2 && string(m[1].Data) == "new"
	}, func() string {
		st, m := fb.snapshot()
		return fmt.Sprintf("starts %+v msgs %+v (new got seq %d)", st, m, seq)
	})
	st, _ := fb.snapshot()
	if len(st) != 2 || !st[1].Reset {
		t.Fatalf("starts %+v", st)
	}
	t.Logf("starts after the stream was made anew: %+v (the new message has seq %d)", st, seq)
}
