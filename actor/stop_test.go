package actor

import (
	"errors"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// stopRecorder is an OnStop callback that counts its calls.
//
// Concurrency: safe for concurrent use (atomic counter and buffered channel).
type stopRecorder struct {
	calls atomic.Int32
	errs  chan error
}

func newStopRecorder() *stopRecorder { return &stopRecorder{errs: make(chan error, 16)} }

func (s *stopRecorder) onStop(err error) {
	s.calls.Add(1)
	s.errs <- err
}

func assertPostsStopped(t *testing.T, ref *Ref[int]) {
	t.Helper()
	if err := ref.Post(1); !errors.Is(err, ErrStopped) {
		t.Errorf("Post after stop: got %v, want ErrStopped", err)
	}
	if err := ref.PostSystem(1); !errors.Is(err, ErrStopped) {
		t.Errorf("PostSystem after stop: got %v, want ErrStopped", err)
	}
}

func TestStopWhileBusy(t *testing.T) {
	sys, _ := newTestSystem(t)
	g := newGate()
	rec := newStopRecorder()
	var processed atomic.Int32
	ref := Spawn[int](sys, ReceiverFunc[int](func(i int) {
		processed.Add(1)
		if i == 0 {
			g.block()
		}
	}), 16, WithOnStop(rec.onStop))
	_ = ref.Post(0)
	recv(t, g.entered)
	for i := 1; i <= 5; i++ {
		_ = ref.Post(i)
		_ = ref.PostSystem(i)
	}
	ref.Stop()
	// The message in progress is still blocked, so OnStop must not have run.
	if n := rec.calls.Load(); n != 0 {
		t.Fatalf("OnStop ran %d times while Receive was in progress", n)
	}
	if n := ref.Len(); n != 0 {
		t.Fatalf("Len after Stop = %d, want 0 (queued messages dropped)", n)
	}
	assertPostsStopped(t, ref)
	g.open()
	if err := recv(t, rec.errs); err != nil {
		t.Fatalf("OnStop err = %v, want nil", err)
	}
	if n := processed.Load(); n != 1 {
		t.Fatalf("processed %d messages, want only the one in progress", n)
	}
	ref.Stop() // idempotent
	if n := rec.calls.Load(); n != 1 {
		t.Fatalf("OnStop called %d times", n)
	}
}

func TestStopIdleCallsOnStopSynchronously(t *testing.T) {
	sys, _ := newTestSystem(t)
	rec := newStopRecorder()
	ref := Spawn[int](sys, ReceiverFunc[int](func(int) {}), 4, WithOnStop(rec.onStop))
	ref.Stop()
	if n := rec.calls.Load(); n != 1 {
		t.Fatalf("OnStop called %d times before Stop returned, want 1", n)
	}
	assertPostsStopped(t, ref)
	ref.Stop()
	if n := rec.calls.Load(); n != 1 {
		t.Fatalf("OnStop called %d times after second Stop", n)
	}
}

func TestStopFromReceive(t *testing.T) {
	sys, _ := newTestSystem(t)
	rec := newStopRecorder()
	g := newGate()
	var processed atomic.Int32
	var ref *Ref[int]
	ref = Spawn[int](sys, ReceiverFunc[int](func(i int) {
		processed.Add(1)
		switch i {
		case 0:
			g.block()
		case 1:
			ref.Stop()
			if rec.calls.Load() != 0 {
				t.Error("OnStop ran inside Receive")
			}
		}
	}), 16, WithOnStop(rec.onStop))
	_ = ref.Post(0)
	recv(t, g.entered)
	for i := 1; i <= 4; i++ {
		_ = ref.Post(i)
	}
	g.open()
	if err := recv(t, rec.errs); err != nil {
		t.Fatalf("OnStop err = %v", err)
	}
	if n := processed.Load(); n != 2 {
		t.Fatalf("processed %d messages, want 2", n)
	}
}

// TestStopConcurrentOnStopOnce races Stop from many goroutines with a busy
// actor: OnStop must run exactly once whatever the interleaving.
func TestStopConcurrentOnStopOnce(t *testing.T) {
	sys, _ := newTestSystem(t)
	for range 200 {
		rec := newStopRecorder()
		ref := Spawn[int](sys, ReceiverFunc[int](func(int) {}), 64, WithOnStop(rec.onStop))
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := 0; ref.Post(i) == nil || i < 100; i++ {
				runtime.Gosched()
			}
		})
		for range 4 {
			wg.Go(ref.Stop)
		}
		wg.Wait()
		recv(t, rec.errs)
		checkFor(t, waitTimeout, "activation ended", func() bool { return sys.track.running() == 0 })
		if n := rec.calls.Load(); n != 1 {
			t.Fatalf("OnStop called %d times", n)
		}
	}
}

func TestPanicIsolation(t *testing.T) {
	sys, logs := newTestSystem(t)
	recA := newStopRecorder()
	var processedA atomic.Int32
	a := Spawn[int](sys, ReceiverFunc[int](func(i int) {
		if i == 2 {
			panic("boom")
		}
		processedA.Add(1)
	}), 64, WithOnStop(recA.onStop))
	recB := newStopRecorder()
	var processedB atomic.Int32
	b := Spawn[int](sys, ReceiverFunc[int](func(int) { processedB.Add(1) }), 64, WithOnStop(recB.onStop))

	for i := range 10 {
		_ = a.Post(i)
		_ = b.Post(i)
	}
	err := recv(t, recA.errs)
	var perr *PanicError
	if !errors.As(err, &perr) {
		t.Fatalf("OnStop err = %T %v, want *PanicError", err, err)
	}
	if perr.Value != "boom" || !strings.Contains(string(perr.Stack), "TestPanicIsolation") {
		t.Fatalf("PanicError = %v, stack:\n%s", perr.Value, perr.Stack)
	}
	if n := processedA.Load(); n != 2 {
		t.Fatalf("A processed %d messages, want 2 (queued ones dropped)", n)
	}
	assertPostsStopped(t, a)
	if n := logs.FilterMessageSnippet("panicked").Len(); n != 1 {
		t.Fatalf("%d panic log entries, want 1", n)
	}

	checkFor(t, waitTimeout, "B unaffected", func() bool { return processedB.Load() == 10 })
	if err := b.Post(10); err != nil {
		t.Fatalf("B Post after A panicked: %v", err)
	}
	checkFor(t, waitTimeout, "B keeps working", func() bool { return processedB.Load() == 11 })
	if n := recB.calls.Load(); n != 0 {
		t.Fatalf("B OnStop called %d times", n)
	}
}

func TestPanicErrorUnwrap(t *testing.T) {
	sys, _ := newTestSystem(t)
	rec := newStopRecorder()
	ref := Spawn[int](sys, ReceiverFunc[int](func(int) { panic(io.ErrUnexpectedEOF) }), 1,
		WithOnStop(rec.onStop))
	_ = ref.Post(0)
	err := recv(t, rec.errs)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("errors.Is(%v, io.ErrUnexpectedEOF) = false", err)
	}
	if !strings.Contains(err.Error(), "unexpected EOF") {
		t.Fatalf("Error() = %q", err.Error())
	}
}

// TestStopDuringPanickingMessage: Stop arrives while the message that will
// panic is in progress. OnStop still runs once, reporting the panic.
func TestStopDuringPanickingMessage(t *testing.T) {
	sys, _ := newTestSystem(t)
	rec := newStopRecorder()
	g := newGate()
	ref := Spawn[int](sys, ReceiverFunc[int](func(int) {
		g.block()
		panic("late")
	}), 1, WithOnStop(rec.onStop))
	_ = ref.Post(0)
	recv(t, g.entered)
	ref.Stop()
	g.open()
	var perr *PanicError
	if err := recv(t, rec.errs); !errors.As(err, &perr) {
		t.Fatalf("OnStop err = %v, want *PanicError", err)
	}
	checkFor(t, waitTimeout, "activation ended", func() bool { return sys.track.running() == 0 })
	if n := rec.calls.Load(); n != 1 {
		t.Fatalf("OnStop called %d times", n)
	}
}

// TestGoexitInReceive: runtime.Goexit (t.FailNow in a fake, for instance)
// must not leave the actor scheduled for ever.
func TestGoexitInReceive(t *testing.T) {
	sys, _ := newTestSystem(t)
	rec := newStopRecorder()
	ref := Spawn[int](sys, ReceiverFunc[int](func(int) { runtime.Goexit() }), 1,
		WithOnStop(rec.onStop))
	_ = ref.Post(0)
	var perr *PanicError
	if err := recv(t, rec.errs); !errors.As(err, &perr) {
		t.Fatalf("OnStop err = %v, want *PanicError", err)
	}
	assertPostsStopped(t, ref)
}

// TestDeadLettersSettled: messages queued when the actor stops reach
// DeadLetter exactly once, in order, after OnStop, never concurrently with
// Receive; posts after the stop are refused instead.
func TestDeadLettersSettled(t *testing.T) {
	sys, _ := newTestSystem(t)
	var (
		mu       sync.Mutex
		received []int
		dropped  []int
		order    []string
		inRecv   atomic.Bool
	)
	release := make(chan struct{})
	stopped := make(chan struct{})
	var ref *Ref[int]
	ref = Spawn[int](sys, deadLetterRecv{recv: func(m int) {
		inRecv.Store(true)
		defer inRecv.Store(false)
		mu.Lock()
		received = append(received, m)
		mu.Unlock()
		if m == 0 {
			<-release
			ref.Stop()
		}
	}, dead: func(m int) {
		if inRecv.Load() {
			t.Errorf("DeadLetter(%d) ran during Receive", m)
		}
		mu.Lock()
		dropped = append(dropped, m)
		order = append(order, "drop")
		if m == 9 {
			close(stopped)
		}
		mu.Unlock()
	}}, 64, WithOnStop(func(error) {
		mu.Lock()
		order = append(order, "stop")
		mu.Unlock()
	}))
	for i := 0; i < 10; i++ {
		if err := ref.Post(i); err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
	}
	close(release)
	<-stopped
	if err := ref.Post(99); !errors.Is(err, ErrStopped) {
		t.Fatalf("post after stop: %v, want ErrStopped", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(received) != 1 || len(dropped) != 9 {
		t.Fatalf("received %v, dropped %v: want [0] and 1..9", received, dropped)
	}
	for i, m := range dropped {
		if m != i+1 {
			t.Fatalf("dropped %v: out of order", dropped)
		}
	}
	if order[0] != "stop" {
		t.Fatalf("order %v: OnStop must come first", order)
	}
}

// TestDeadLettersIdleStop: Stop on an idle actor settles nothing queued and
// runs OnStop synchronously.
func TestDeadLettersIdleStop(t *testing.T) {
	sys, _ := newTestSystem(t)
	var drops int
	ref := Spawn[int](sys, deadLetterRecv{recv: func(int) {}, dead: func(int) { drops++ }}, 4)
	ref.Stop()
	if drops != 0 {
		t.Fatalf("drops = %d", drops)
	}
}

// deadLetterRecv is a Receiver that also takes dead letters.
type deadLetterRecv struct{ recv, dead func(int) }

func (d deadLetterRecv) Receive(m int)    { d.recv(m) }
func (d deadLetterRecv) DeadLetter(m int) { d.dead(m) }
