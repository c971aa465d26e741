package mailbox

import (
	"errors"
	"slices"
	"testing"
	"time"
)

const testAge = time.Hour

func TestExpiryOnLoad(t *testing.T) {
	clk := newClock()
	s := openTest(t, Config{MaxAge: testAge}, WithClock(clk.Now))
	mustPut(t, s, "alice", 1, 2)
	clk.Advance(30 * time.Minute)
	mustPut(t, s, "alice", 3)

	// Exactly MaxAge old is not yet expired.
	wantIDs(t, loadIDs(t, s, "alice", clk.Now().Add(30*time.Minute)), 1, 2, 3)
	wantCount(t, s, "alice", 3)

	wantIDs(t, loadIDs(t, s, "alice", clk.Now().Add(31*time.Minute)), 3)
	wantCount(t, s, "alice", 1) // Load deleted the expired ones
	if got := s.Stats().Expired; got != 2 {
		t.Fatalf("Stats.Expired = %d, want 2", got)
	}
	wantIDs(t, loadIDs(t, s, "alice", clk.Now().Add(2*time.Hour)))
	wantCount(t, s, "alice", 0)
	if slices.Contains(userBuckets(t, s), "alice") {
		t.Error("mailbox emptied by expiry was not deleted")
	}
	checkFile(t, s)
}

func TestExpiryOnLoadOutOfOrder(t *testing.T) {
	clk := newClock()
	s := openTest(t, Config{MaxAge: testAge}, WithClock(clk.Now))
	old := clk.Now().Add(-2 * testAge)
	for _, e := range []Entry{{ID: 1}, {ID: 2, Stored: old}, {ID: 3}} {
		if err := s.Put("alice", e); err != nil {
			t.Fatal(err)
		}
	}
	es, err := s.Load("alice", clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].ID != 1 || es[1].ID != 3 {
		t.Fatalf("Load = %+v, want IDs 1 and 3 (2 expired)", es)
	}
	wantCount(t, s, "alice", 2)
	checkFile(t, s)
}

func TestPrune(t *testing.T) {
	clk := newClock()
	s := openTest(t, Config{MaxAge: testAge}, WithClock(clk.Now))
	mustPut(t, s, "old", 1, 2)
	mustPut(t, s, "mixed", 3)
	clk.Advance(45 * time.Minute)
	mustPut(t, s, "mixed", 4, 5)
	mustPut(t, s, "fresh", 6)

	if n, err := s.Prune(clk.Now()); n != 0 || err != nil {
		t.Fatalf("Prune before expiry = %d, %v", n, err)
	}
	n, err := s.Prune(clk.Now().Add(30 * time.Minute))
	if n != 3 || err != nil {
		t.Fatalf("Prune = %d, %v; want 3", n, err)
	}
	wantCount(t, s, "old", 0)
	wantCount(t, s, "mixed", 2)
	wantCount(t, s, "fresh", 1)
	if got, want := userBuckets(t, s), []string{"fresh", "mixed"}; !slices.Equal(got, want) {
		t.Fatalf("user buckets %v, want %v", got, want)
	}
	if got := s.Stats().Expired; got != 3 {
		t.Fatalf("Stats.Expired = %d, want 3", got)
	}
	checkFile(t, s)
}

func TestPruneManyUsers(t *testing.T) {
	clk := newClock()
	s := openTest(t, Config{MaxAge: testAge}, WithClock(clk.Now))
	const users = pruneChunk*2 + 17 // more than one write transaction
	for u := range users {
		mustPut(t, s, "u"+string(rune('A'+u%26))+string(rune(0x100+u)), uint64(u))
	}
	n, err := s.Prune(clk.Now().Add(2 * testAge))
	if n != users || err != nil {
		t.Fatalf("Prune = %d, %v; want %d", n, err, users)
	}
	if left := userBuckets(t, s); len(left) != 0 {
		t.Fatalf("%d user buckets left", len(left))
	}
	checkFile(t, s)
}

func TestFullIgnoresExpired(t *testing.T) {
	clk := newClock()
	s := openTest(t, Config{MaxMessages: 3, MaxAge: testAge}, WithClock(clk.Now))
	mustPut(t, s, "alice", 1, 2)
	clk.Advance(40 * time.Minute)
	mustPut(t, s, "alice", 3)
	clk.Advance(40 * time.Minute) // 1 and 2 expired, 3 not

	mustPut(t, s, "alice", 4, 5)
	if err := s.Put("alice", Entry{ID: 6}); !errors.Is(err, ErrFull) {
		t.Fatalf("Put beyond unexpired bound: %v, want ErrFull", err)
	}
	wantIDs(t, loadIDs(t, s, "alice", clk.Now()), 3, 4, 5)
	if st := s.Stats(); st.Expired != 2 || st.Rejected != 1 {
		t.Fatalf("Stats = %+v, want Expired 2, Rejected 1", st)
	}
	checkFile(t, s)
}
