package actor

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// shortCtx returns a context that ends soon, to observe that Shutdown
// respects its deadline. The deadline is a bound, not a synchronisation.
func shortCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	t.Cleanup(cancel)
	return ctx
}

func TestShutdownWaitsForInFlightActivation(t *testing.T) {
	sys, _ := newTestSystem(t)
	g := newGate()
	var processed atomic.Int32
	ref := Spawn[int](sys, ReceiverFunc[int](func(i int) {
		if i == 0 {
			g.block()
		}
		processed.Add(1)
	}), 8)
	for i := range 4 { // one in progress, three queued before Shutdown
		_ = ref.Post(i)
	}
	recv(t, g.entered)

	err := sys.Shutdown(shortCtx(t))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown with a blocked activation: got %v, want DeadlineExceeded", err)
	}
	assertPostsStopped(t, ref) // the actor is still scheduled, but the System is closed

	g.open()
	if err := sys.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if n := processed.Load(); n != 4 {
		t.Fatalf("processed %d when Shutdown returned, want 4 (queued messages drained)", n)
	}
}

func TestShutdownWaitsForGo(t *testing.T) {
	sys, logs := newTestSystem(t)
	release := make(chan struct{})
	var exited atomic.Bool
	sys.Go(func() {
		<-sys.Closing()
		<-release
		exited.Store(true)
	})
	if err := sys.Shutdown(shortCtx(t)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown with a running Go: got %v, want DeadlineExceeded", err)
	}
	close(release)
	if err := sys.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !exited.Load() {
		t.Fatal("Shutdown returned before the Go goroutine")
	}

	ran := false
	sys.Go(func() { ran = true }) // after Shutdown: not started
	if ran || sys.track.running() != 0 {
		t.Fatal("Go started a goroutine after Shutdown")
	}
	if logs.FilterMessageSnippet("after Shutdown").Len() != 1 {
		t.Fatal("Go after Shutdown was not logged")
	}
}

func TestShutdownIdleAndConcurrent(t *testing.T) {
	sys, _ := newTestSystem(t)
	ref := Spawn[int](sys, ReceiverFunc[int](func(int) {}), 1)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if err := sys.Shutdown(context.Background()); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
		})
	}
	wg.Wait()
	select {
	case <-sys.Closing():
	default:
		t.Fatal("Closing not closed after Shutdown")
	}
	assertPostsStopped(t, ref)
}

// TestPostRacesShutdown: whatever the interleaving, every accepted post is
// processed before Shutdown returns, and every rejected one says ErrStopped.
func TestPostRacesShutdown(t *testing.T) {
	for range 50 {
		sys, _ := newTestSystem(t)
		var processed, accepted atomic.Int64
		refs := make([]*Ref[int], 16)
		for i := range refs {
			refs[i] = Spawn[int](sys, ReceiverFunc[int](func(int) { processed.Add(1) }), 1<<20)
		}
		var wg sync.WaitGroup
		for p := range 4 {
			wg.Go(func() {
				for i := 0; ; i++ {
					err := refs[(p+i)%len(refs)].Post(i)
					if errors.Is(err, ErrStopped) {
						return
					}
					if err != nil {
						t.Errorf("Post: %v", err)
						return
					}
					accepted.Add(1)
				}
			})
		}
		checkFor(t, waitTimeout, "some traffic", func() bool { return accepted.Load() > 100 })
		if err := sys.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if a, p := accepted.Load(), processed.Load(); a != p {
			t.Fatalf("accepted %d posts but processed %d before Shutdown returned", a, p)
		}
	}
}

// TestIdleActorsHaveNoGoroutine: once every queue drained, the goroutine
// count returns to what it was before the actors existed.
func TestIdleActorsHaveNoGoroutine(t *testing.T) {
	sys, _ := newTestSystem(t)
	base := runtime.NumGoroutine()
	var processed atomic.Int64
	refs := make([]*Ref[int], 1000)
	for i := range refs {
		refs[i] = Spawn[int](sys, ReceiverFunc[int](func(int) { processed.Add(1) }), 16)
	}
	if n := runtime.NumGoroutine(); n > base {
		t.Fatalf("Spawn started goroutines: %d > %d", n, base)
	}
	for round := range 10 {
		for _, r := range refs {
			if err := r.Post(round); err != nil {
				t.Fatal(err)
			}
		}
	}
	checkFor(t, waitTimeout, "all processed", func() bool { return processed.Load() == 10*1000 })
	checkFor(t, waitTimeout, "goroutines back to baseline", func() bool {
		return runtime.NumGoroutine() <= base && sys.track.running() == 0
	})
	for _, r := range refs {
		r.mu.Lock()
		held := r.normal != nil || r.system != nil || r.scheduled
		r.mu.Unlock()
		if held {
			t.Fatal("an idle actor still holds a ring or is scheduled")
		}
	}
}

func TestWithDispatcher(t *testing.T) {
	cases := []struct {
		name string
		d    func(run func())
	}{
		{"goroutine", func(run func()) { go run() }},
		{"synchronous", func(run func()) { run() }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var dispatched atomic.Int32
			sys, _ := newTestSystem(t, WithDispatcher(func(run func()) {
				dispatched.Add(1)
				tc.d(run)
			}))
			done := make(chan int, 16)
			var ping, pong *Ref[int]
			ping = Spawn[int](sys, ReceiverFunc[int](func(i int) {
				done <- i
				if i%2 == 0 {
					_ = pong.Post(i + 1) // a nested activation when synchronous
				}
			}), 4)
			pong = Spawn[int](sys, ReceiverFunc[int](func(i int) { _ = ping.Post(i) }), 4)
			for i := 0; i < 6; i += 2 {
				if err := ping.Post(i); err != nil {
					t.Fatal(err)
				}
				if got := recv(t, done); got != i {
					t.Fatalf("got %d, want %d", got, i)
				}
				if got := recv(t, done); got != i+1 {
					t.Fatalf("got %d, want %d", got, i+1)
				}
			}
			if dispatched.Load() == 0 {
				t.Fatal("dispatcher never called")
			}
		})
	}
}
