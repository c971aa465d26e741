package actor

import (
	"testing"
)

// TestRingFIFOAcrossWrapAndGrow drives a lane's ring the way post and next
// do, interleaving pushes and pops so the head wraps and the ring grows
// while wrapped; order must be preserved and popped slots zeroed.
func TestRingFIFOAcrossWrapAndGrow(t *testing.T) {
	cases := []struct {
		name       string
		pushPerRun int
		popPerRun  int
	}{
		{"balanced", 3, 3},
		{"growing", 5, 3},
		{"bursty", 40, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var pool ringPool[*int]
			var r *ring[*int]
			next, want := 0, 0
			for range 200 {
				for range tc.pushPerRun {
					if r == nil || r.n == len(r.buf) {
						r = pool.grow(r)
					}
					v := next
					r.push(&v)
					next++
				}
				for range tc.popPerRun {
					if r.n == 0 {
						break
					}
					head := r.head
					if got := *r.pop(); got != want {
						t.Fatalf("popped %d, want %d", got, want)
					}
					if r.buf[head] != nil {
						t.Fatal("popped slot not zeroed")
					}
					want++
				}
			}
			if len(r.buf)&(len(r.buf)-1) != 0 {
				t.Fatalf("ring size %d is not a power of two", len(r.buf))
			}
			r.clear()
			for i, p := range r.buf {
				if p != nil {
					t.Fatalf("slot %d not zeroed after clear", i)
				}
			}
			pool.put(r)
		})
	}
}

func TestRingPoolSizes(t *testing.T) {
	var pool ringPool[int]
	for _, slots := range []int{1, 2, 8, 64, 1 << 12} {
		r := pool.get(slots)
		if len(r.buf) != slots || r.n != 0 || r.head != 0 {
			t.Fatalf("get(%d) = len %d n %d head %d", slots, len(r.buf), r.n, r.head)
		}
		r.push(1)
		r.pop()
		pool.put(r)
		if again := pool.get(slots); len(again.buf) != slots || again.head != 0 {
			t.Fatalf("get(%d) after put = len %d head %d", slots, len(again.buf), again.head)
		}
	}
}
