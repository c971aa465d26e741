package actor

import (
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// seqMsg is a message from producer from, its seq-th.
type seqMsg struct{ from, seq int }

func TestOrderingManyProducers(t *testing.T) {
	sys, _ := newTestSystem(t)
	const producers, perProducer = 8, 10_000
	last := make([]int, producers) // only touched by Receive
	for i := range last {
		last[i] = -1
	}
	var received, outOfOrder atomic.Int64
	ref := Spawn[seqMsg](sys, ReceiverFunc[seqMsg](func(m seqMsg) {
		if m.seq != last[m.from]+1 { // strictly increasing and none lost
			outOfOrder.Add(1)
		}
		last[m.from] = m.seq
		received.Add(1)
	}), 64) // small queue: producers must retry on ErrQueueFull

	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for s := 0; s < perProducer; {
				switch err := ref.Post(seqMsg{from: p, seq: s}); {
				case err == nil:
					s++
				case errors.Is(err, ErrQueueFull):
					runtime.Gosched()
				default:
					t.Errorf("Post: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	checkFor(t, waitTimeout, "all messages received", func() bool {
		return received.Load() == producers*perProducer
	})
	if n := outOfOrder.Load(); n != 0 {
		t.Fatalf("%d messages out of order or lost", n)
	}
}

// TestNoLostWakeup posts each message right as the actor goes idle: the
// producer waits until Receive has returned the previous message, so the
// next Post races with the activation's final emptiness check.
func TestNoLostWakeup(t *testing.T) {
	cases := []struct {
		name   string
		system bool
	}{{"normal lane", false}, {"system lane", true}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sys, _ := newTestSystem(t)
			done := make(chan int, 1)
			ref := Spawn[int](sys, ReceiverFunc[int](func(i int) { done <- i }), 1)
			post := ref.Post
			if tc.system {
				post = ref.PostSystem
			}
			for i := range 20_000 {
				if err := post(i); err != nil {
					t.Fatalf("round %d: Post: %v", i, err)
				}
				if got := recv(t, done); got != i {
					t.Fatalf("round %d: received %d", i, got)
				}
			}
		})
	}
}

// TestNoLostWakeupPingPong bounces a message between two actors, each post
// made from inside the other's Receive as it is about to go idle.
func TestNoLostWakeupPingPong(t *testing.T) {
	sys, _ := newTestSystem(t)
	const rounds = 20_000
	done := make(chan struct{})
	var ping, pong *Ref[int]
	bounce := func(to **Ref[int]) Receiver[int] {
		return ReceiverFunc[int](func(i int) {
			if i == rounds {
				close(done)
				return
			}
			if err := (*to).Post(i + 1); err != nil {
				t.Errorf("Post %d: %v", i+1, err)
			}
		})
	}
	ping = Spawn(sys, bounce(&pong), 1)
	pong = Spawn(sys, bounce(&ping), 1)
	if err := ping.Post(0); err != nil {
		t.Fatal(err)
	}
	recv(t, done)
}

func TestSystemLanePriority(t *testing.T) {
	sys, _ := newTestSystem(t)
	g := newGate()
	var got []string // only touched by Receive, read after the actor drained
	var count atomic.Int32
	ref := Spawn[string](sys, ReceiverFunc[string](func(m string) {
		if m == "block" {
			g.block()
			return
		}
		got = append(got, m)
		count.Add(1)
	}), 3)
	if err := ref.Post("block"); err != nil {
		t.Fatal(err)
	}
	recv(t, g.entered)
	for _, m := range []string{"n1", "n2", "n3"} {
		if err := ref.Post(m); err != nil {
			t.Fatalf("Post %s: %v", m, err)
		}
	}
	// The normal lane is full, but the system lane has no bound.
	if err := ref.Post("n4"); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Post on full lane: got %v, want ErrQueueFull", err)
	}
	for _, m := range []string{"s1", "s2", "s3", "s4", "s5"} {
		if err := ref.PostSystem(m); err != nil {
			t.Fatalf("PostSystem %s: %v", m, err)
		}
	}
	g.open()
	checkFor(t, waitTimeout, "8 messages", func() bool { return count.Load() == 8 })
	want := []string{"s1", "s2", "s3", "s4", "s5", "n1", "n2", "n3"}
	if !slices.Equal(got, want) {
		t.Fatalf("order = %v, want %v", got, want)
	}
}

// TestSystemLaneCheckedBeforeEveryNormal posts a system message from inside
// Receive: it must overtake the normal messages already queued.
func TestSystemLaneCheckedBeforeEveryNormal(t *testing.T) {
	sys, _ := newTestSystem(t)
	var got []string
	var count atomic.Int32
	var ref *Ref[string]
	g := newGate()
	ref = Spawn[string](sys, ReceiverFunc[string](func(m string) {
		switch m {
		case "block":
			g.block()
		case "n1":
			_ = ref.PostSystem("s-from-n1")
		}
		got = append(got, m)
		count.Add(1)
	}), 8)
	_ = ref.Post("block")
	recv(t, g.entered)
	for _, m := range []string{"n1", "n2", "n3"} {
		_ = ref.Post(m)
	}
	g.open()
	checkFor(t, waitTimeout, "5 messages", func() bool { return count.Load() == 5 })
	want := []string{"block", "n1", "s-from-n1", "n2", "n3"}
	if !slices.Equal(got, want) {
		t.Fatalf("order = %v, want %v", got, want)
	}
}

func TestMailboxFull(t *testing.T) {
	for _, capacity := range []int{1, 3, 8, 9, 100} {
		t.Run("", func(t *testing.T) {
			sys, _ := newTestSystem(t)
			g := newGate()
			var count atomic.Int32
			ref := Spawn[int](sys, ReceiverFunc[int](func(i int) {
				if i < 0 {
					g.block()
				}
				count.Add(1)
			}), capacity)
			_ = ref.Post(-1)
			recv(t, g.entered) // the blocking message is in progress, not queued
			for i := range capacity {
				if err := ref.Post(i); err != nil {
					t.Fatalf("Post %d of %d: %v", i, capacity, err)
				}
			}
			if n := ref.Len(); n != capacity {
				t.Fatalf("Len = %d, want %d", n, capacity)
			}
			if err := ref.Post(capacity); !errors.Is(err, ErrQueueFull) {
				t.Fatalf("Post beyond capacity: got %v, want ErrQueueFull", err)
			}
			g.open()
			checkFor(t, waitTimeout, "drain", func() bool { return count.Load() == int32(capacity)+1 })
			if n := ref.Len(); n != 0 {
				t.Fatalf("Len after drain = %d", n)
			}
			if err := ref.Post(0); err != nil { // room again
				t.Fatalf("Post after drain: %v", err)
			}
		})
	}
}

func TestSpawnRejectsBadCapacity(t *testing.T) {
	sys, _ := newTestSystem(t)
	for _, c := range []int{0, -1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Spawn capacity %d did not panic", c)
				}
			}()
			Spawn[int](sys, ReceiverFunc[int](func(int) {}), c)
		}()
	}
}

// TestReceiverPanicLog checks the panic is logged at Error with its stack
// on the logger given with WithLogger.
func TestReceiverPanicLog(t *testing.T) {
	sys, sysLogs := newTestSystem(t)
	core, logs := observer.New(zapcore.DebugLevel)
	stopped := make(chan error, 1)
	lg := zap.New(core)
	ref := Spawn[int](sys, ReceiverFunc[int](func(int) { panic("boom") }), 4,
		WithLogger(lg.With(zap.String("conn", "c1"))),
		WithOnStop(func(err error) { stopped <- err }))
	_ = ref.Post(1)
	recv(t, stopped)
	if n := sysLogs.Len(); n != 0 {
		t.Fatalf("System logger got %d entries; the actor's own logger should be used", n)
	}
	entries := logs.FilterMessageSnippet("panicked").AllUntimed()
	if len(entries) != 1 {
		t.Fatalf("got %d panic log entries, want 1", len(entries))
	}
	e := entries[0]
	fields := e.ContextMap()
	if e.Level.String() != "error" || fields["conn"] != "c1" || fields["panic"] != "boom" {
		t.Fatalf("unexpected log entry %v %v", e.Level, fields)
	}
	if stack, _ := fields["stack"].(string); !strings.Contains(stack, "TestReceiverPanicLog") {
		t.Fatalf("stack field does not show the panicking Receive:\n%s", stack)
	}
}

// TestPostBelow: PostBelow refuses at its own limit, below capacity, while
// Post may still fill the rest.
func TestPostBelow(t *testing.T) {
	sys := NewSystem(nil)
	block := make(chan struct{})
	ref := Spawn[int](sys, ReceiverFunc[int](func(int) { <-block }), 8)
	defer func() { close(block); ref.Stop() }()
	if err := ref.Post(0); err != nil { // taken by the actor, which blocks
		t.Fatal(err)
	}
	waitLen := func(n int) {
		for i := 0; ref.Len() != n && i < 1000; i++ {
			time.Sleep(time.Millisecond)
		}
	}
	waitLen(0)
	for i := 0; i < 4; i++ {
		if err := ref.PostBelow(i, 4); err != nil {
			t.Fatalf("PostBelow %d: %v", i, err)
		}
	}
	if err := ref.PostBelow(4, 4); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("PostBelow at its limit: %v", err)
	}
	for i := 0; i < 4; i++ {
		if err := ref.Post(i); err != nil {
			t.Fatalf("Post %d: %v", i, err)
		}
	}
	if err := ref.Post(9); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Post at capacity: %v", err)
	}
	if err := ref.PostBelow(9, 100); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("PostBelow over capacity: %v", err)
	}
}
