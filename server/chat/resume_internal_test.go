package chat

import (
	"testing"
	"time"
)

// TestResumesBounded: closed sessions are kept at most max (the oldest go
// first) and for ttl; a record is taken once, and only for its name.
func TestResumesBounded(t *testing.T) {
	r := newResumes(time.Minute, 3)
	now := time.Now()
	for id := uint64(1); id <= 5; id++ {
		r.closedAt(id, "u", []string{"dev"}, now)
	}
	if n := r.size(); n != 3 {
		t.Fatalf("%d kept, want max_closed 3", n)
	}
	for _, id := range []uint64{1, 2} {
		if _, ok := r.take(id, "u", now); ok {
			t.Fatalf("id %d kept past max_closed", id)
		}
	}
	if _, ok := r.take(3, "v", now); ok {
		t.Fatal("taken for another name")
	}
	if rooms, ok := r.take(3, "u", now); !ok || len(rooms) != 1 {
		t.Fatalf("take 3: %v %v", rooms, ok)
	}
	if _, ok := r.take(3, "u", now); ok {
		t.Fatal("taken twice")
	}
	if _, ok := r.take(4, "u", now.Add(2*time.Minute)); ok {
		t.Fatal("taken past the ttl")
	}
	r.sweep(now.Add(2 * time.Minute))
	if n := r.size(); n != 0 {
		t.Fatalf("%d kept after the ttl's sweep", n)
	}
	if len(r.order) != 0 {
		t.Fatalf("order keeps %d ids after the sweep", len(r.order))
	}
}
