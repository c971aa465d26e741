package actor

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
)

// chanActor is the baseline the benchmarks compare against: the textbook
// Go actor, one goroutine ranging over one buffered channel, alive for the
// whole life of the actor even when idle.
//
// Concurrency: Post is safe for concurrent use; stop must be called once,
// after the last Post.
type chanActor[M any] struct {
	ch   chan M
	done chan struct{}
}

func spawnChan[M any](r Receiver[M], capacity int) *chanActor[M] {
	c := &chanActor[M]{ch: make(chan M, capacity), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for m := range c.ch {
			r.Receive(m)
		}
	}()
	return c
}

// Post never blocks, like Ref.Post.
func (c *chanActor[M]) Post(m M) error {
	select {
	case c.ch <- m:
		return nil
	default:
		return ErrQueueFull
	}
}

func (c *chanActor[M]) stop() {
	close(c.ch)
	<-c.done
}

// poster is what the benchmarks need from an actor implementation.
type poster interface{ Post(int) error }

// benchImpl builds one actor of an implementation. The returned stop tears
// down everything the implementation started.
type benchImpl struct {
	name string
	// newGroup returns a spawn function for many actors sharing one
	// environment (one System for ours), and its teardown.
	newGroup func(tb testing.TB) (func(r Receiver[int], capacity int) poster, func())
}

// benchImpls is shared by every benchmark: ours first, then the baseline.
var benchImpls = []benchImpl{
	{
		name: "actor",
		newGroup: func(tb testing.TB) (func(Receiver[int], int) poster, func()) {
			sys := NewSystem(nil)
			spawn := func(r Receiver[int], capacity int) poster { return Spawn(sys, r, capacity) }
			return spawn, func() {
				if err := sys.Shutdown(context.Background()); err != nil {
					tb.Fatal(err)
				}
			}
		},
	},
	{
		name: "chan-goroutine",
		newGroup: func(tb testing.TB) (func(Receiver[int], int) poster, func()) {
			all := make([]*chanActor[int], 0, idleActors+1) // sized up front: not an actor's cost
			spawn := func(r Receiver[int], capacity int) poster {
				c := spawnChan(r, capacity)
				all = append(all, c)
				return c
			}
			return spawn, func() {
				for _, c := range all {
					c.stop()
				}
			}
		},
	},
}

// postRetry posts m, yielding while the queue is full: the benchmarks
// measure throughput, so nothing may be dropped.
func postRetry(tb testing.TB, p poster, m int) {
	for {
		err := p.Post(m)
		if err == nil {
			return
		}
		if !errors.Is(err, ErrQueueFull) {
			tb.Fatal(err)
		}
		runtime.Gosched()
	}
}

// waitCount spins until c reaches n. Benchmarks may not use checkFor's
// deadline (a slow box is not a failure), but they never sleep either.
func waitCount(c *atomic.Int64, n int64) {
	for c.Load() < n {
		runtime.Gosched()
	}
}

// BenchmarkThroughputOneActor: one producer posts b.N messages to one
// actor (capacity 1024), and the clock stops once all were processed.
func BenchmarkThroughputOneActor(b *testing.B) {
	for _, impl := range benchImpls {
		b.Run(impl.name, func(b *testing.B) {
			spawn, stop := impl.newGroup(b)
			defer stop()
			var processed atomic.Int64
			a := spawn(ReceiverFunc[int](func(int) { processed.Add(1) }), 1024)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				postRetry(b, a, i)
			}
			waitCount(&processed, int64(b.N))
		})
	}
}

// BenchmarkManyActors: 1000 actors (capacity 64); one producer posts b.N
// messages round-robin over them. Each actor sees one message every 1000
// posts, so ours often goes idle and is re-activated: the worst case for a
// scheduled-on-demand actor.
func BenchmarkManyActors(b *testing.B) {
	const actors = 1000
	for _, impl := range benchImpls {
		b.Run(impl.name, func(b *testing.B) {
			spawn, stop := impl.newGroup(b)
			defer stop()
			var processed atomic.Int64
			r := ReceiverFunc[int](func(int) { processed.Add(1) })
			refs := make([]poster, actors)
			for i := range refs {
				refs[i] = spawn(r, 64)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				postRetry(b, refs[i%actors], i)
			}
			waitCount(&processed, int64(b.N))
		})
	}
}

// BenchmarkIdleMemory spawns idleActors idle actors per op and reports the
// heap plus stack bytes each costs (bytes/actor), for several queue
// capacities: a channel allocates its whole buffer up front, our ring is
// taken from a pool only while messages are queued. ns/op includes forced
// GCs and is not meaningful; the metric is.
func BenchmarkIdleMemory(b *testing.B) {
	for _, impl := range benchImpls {
		for _, capacity := range []int{1, 64, 1024} {
			b.Run(fmt.Sprintf("%s/cap=%d", impl.name, capacity), func(b *testing.B) {
				var per float64
				for range b.N {
					spawn, stop := impl.newGroup(b)
					r := ReceiverFunc[int](nopReceive)
					spawn(r, 1) // warm up per-group state (the ring pool) outside the measurement
					per = bytesPerIdle(idleActors, func() any { return spawn(r, capacity) }, nil)
					stop()
				}
				b.ReportMetric(per, "bytes/actor")
			})
		}
	}
}
