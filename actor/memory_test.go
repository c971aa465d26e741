package actor

import (
	"runtime"
	"sync/atomic"
	"testing"
	"unsafe"
)

// maxIdleBytes is the budget of one idle actor with an empty queue.
const maxIdleBytes = 256

// idleActors is how many actors a memory measurement spawns, so that the
// runtime's own noise (a few KB) is negligible per actor.
const idleActors = 100_000

// nopReceive is shared by every measured actor, so the measurement counts
// the runtime's cost and not a per-actor receiver.
func nopReceive(int) {}

// bytesPerIdle spawns n actors with spawn, keeps them reachable, and returns
// the heap plus goroutine-stack bytes they cost each, measured after a full
// GC (twice, so sync.Pool victims are freed too). settle runs after
// spawning and before measuring, to let the actors go idle.
func bytesPerIdle(n int, spawn func() any, settle func(keep []any)) float64 {
	keep := make([]any, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range keep {
		keep[i] = spawn()
	}
	if settle != nil {
		settle(keep)
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(keep)
	used := int64(after.HeapAlloc) - int64(before.HeapAlloc) +
		int64(after.StackInuse) - int64(before.StackInuse)
	return float64(used) / float64(n)
}

// trafficThenIdle posts one message to every actor, in batches so that the
// number of simultaneous activations (whose goroutine descriptors the
// runtime keeps for ever) stays small, and waits until all are idle again.
func trafficThenIdle(tb testing.TB, sys *System, processed *atomic.Int64) func([]any) {
	return func(keep []any) {
		const batch = 256
		for i, a := range keep {
			if err := a.(*Ref[int]).Post(i); err != nil {
				tb.Fatal(err)
			}
			if (i+1)%batch == 0 || i == len(keep)-1 {
				checkFor(tb, waitTimeout, "batch processed", func() bool {
					return processed.Load() == int64(i+1)
				})
			}
		}
		checkFor(tb, waitTimeout, "all idle", func() bool { return sys.track.running() == 0 })
	}
}

func TestIdleMemoryPerActor(t *testing.T) {
	cases := []struct {
		name    string
		traffic bool
	}{
		{"fresh", false},
		{"after traffic", true}, // rings must have gone back to the pool
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sys, _ := newTestSystem(t)
			var processed atomic.Int64
			r := ReceiverFunc[int](func(int) { processed.Add(1) })
			Spawn[int](sys, r, 1) // create the type's ring pool before measuring
			var settle func([]any)
			if tc.traffic {
				settle = trafficThenIdle(t, sys, &processed)
			}
			per := bytesPerIdle(idleActors, func() any { return Spawn[int](sys, r, 1024) }, settle)
			t.Logf("%.1f bytes per idle actor (Ref header %d bytes)", per, unsafe.Sizeof(Ref[int]{}))
			if per > maxIdleBytes {
				t.Fatalf("idle actor costs %.1f bytes, budget %d", per, maxIdleBytes)
			}
		})
	}
}
