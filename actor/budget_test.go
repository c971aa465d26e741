package actor

import (
	"context"
	"errors"
	"sync"
	"testing"
)

// queueDispatcher runs activations one at a time from a FIFO, as an event
// loop does, so a test can see where each activation ends.
type queueDispatcher struct {
	mu   sync.Mutex
	runs []func()
}

func (q *queueDispatcher) dispatch(run func()) {
	q.mu.Lock()
	q.runs = append(q.runs, run)
	q.mu.Unlock()
}

// step runs the oldest queued activation; it reports false when none is queued.
func (q *queueDispatcher) step() bool {
	q.mu.Lock()
	if len(q.runs) == 0 {
		q.mu.Unlock()
		return false
	}
	run := q.runs[0]
	q.runs = q.runs[1:]
	q.mu.Unlock()
	run()
	return true
}

func TestBudgetYieldsBetweenActors(t *testing.T) {
	q := &queueDispatcher{}
	sys, _ := newTestSystem(t, WithDispatcher(q.dispatch), WithBudget(3))
	var order []string
	busy := Spawn[int](sys, ReceiverFunc[int](func(i int) { order = append(order, "busy") }), 64)
	other := Spawn[int](sys, ReceiverFunc[int](func(i int) { order = append(order, "other") }), 64)
	for i := range 10 {
		if err := busy.Post(i); err != nil {
			t.Fatal(err)
		}
	}
	if err := other.Post(0); err != nil {
		t.Fatal(err)
	}
	activations := 0
	for q.step() {
		activations++
	}
	// busy: 3, other: 1, busy: 3, busy: 3, busy: 1 (and finds the queue empty).
	want := []string{"busy", "busy", "busy", "other", "busy", "busy", "busy", "busy", "busy", "busy", "busy"}
	if len(order) != len(want) {
		t.Fatalf("received %v, want %v", order, want)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("received %v, want %v: the busy actor did not yield after its budget", order, want)
		}
	}
	if activations != 5 {
		t.Errorf("%d activations, want 5 (4 of busy's, 1 of other's)", activations)
	}
	if err := sys.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestBudgetKeepsOrderAndCountsActivations(t *testing.T) {
	q := &queueDispatcher{}
	sys, _ := newTestSystem(t, WithDispatcher(q.dispatch), WithBudget(2))
	var got []int
	var ref *Ref[int]
	ref = Spawn[int](sys, ReceiverFunc[int](func(i int) {
		got = append(got, i)
		if i == 0 {
			_ = ref.Post(100) // posted from inside, behind the queued ones
		}
	}), 64)
	for i := range 5 {
		_ = ref.Post(i)
	}
	for q.step() {
	}
	want := []int{0, 1, 2, 3, 4, 100}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Fatalf("received %v, want %v", got, want)
		}
	}
	// Every yielded activation was counted and returned: Shutdown does not wait.
	if err := sys.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// stopWatcher records ActorStopped calls and the order of the callbacks.
type stopWatcher struct {
	calls []string
	err   error
}

func (w *stopWatcher) Receive(i int) {
	if i < 0 {
		panic("negative")
	}
}
func (w *stopWatcher) ActorStopped(err error) { w.calls = append(w.calls, "stopped"); w.err = err }
func (w *stopWatcher) DeadLetter(int)         { w.calls = append(w.calls, "dead") }

func TestStopObserver(t *testing.T) {
	q := &queueDispatcher{}
	sys, _ := newTestSystem(t, WithDispatcher(q.dispatch))
	t.Run("stop", func(t *testing.T) {
		w := &stopWatcher{}
		var order []string
		ref := Spawn[int](sys, w, 8, WithOnStop(func(error) { order = append(order, "onstop") }))
		_ = ref.Post(1)
		ref.Stop() // scheduled, not run: the activation settles
		for q.step() {
		}
		if len(w.calls) != 2 || w.calls[0] != "stopped" || w.calls[1] != "dead" || w.err != nil {
			t.Fatalf("calls %v err %v: want ActorStopped(nil) once, then the dead letter", w.calls, w.err)
		}
		if len(order) != 1 {
			t.Fatalf("WithOnStop ran %d times", len(order))
		}
	})
	t.Run("panic", func(t *testing.T) {
		w := &stopWatcher{}
		ref := Spawn[int](sys, w, 8)
		_ = ref.Post(-1)
		for q.step() {
		}
		var perr *PanicError
		if len(w.calls) != 1 || !errors.As(w.err, &perr) {
			t.Fatalf("calls %v err %v: want one ActorStopped with a *PanicError", w.calls, w.err)
		}
	})
}

// TestPostInline: an idle actor's activation runs on the caller, before
// PostInline returns, with no dispatch; a message posted to a busy actor
// (here from inside its own Receive) is queued behind, as with Post.
func TestPostInline(t *testing.T) {
	q := &queueDispatcher{}
	sys, _ := newTestSystem(t, WithDispatcher(q.dispatch))
	var got []int
	var ref *Ref[int]
	ref = Spawn[int](sys, ReceiverFunc[int](func(i int) {
		got = append(got, i)
		if i == 1 {
			if err := ref.PostInline(2, 0); err != nil { // busy: queued, run after this returns
				t.Error(err)
			}
			if len(got) != 1 {
				t.Error("PostInline ran Receive inside Receive")
			}
		}
	}), 8)
	if err := ref.PostInline(1, 0); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("received %v before PostInline returned, want [1 2]", got)
	}
	if q.step() {
		t.Fatal("PostInline dispatched an activation")
	}
}
