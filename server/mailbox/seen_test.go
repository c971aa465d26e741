package mailbox

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func wantSeen(t *testing.T, s *Store, user string, want time.Time, wantOK bool) {
	t.Helper()
	at, ok, err := s.Seen(user)
	if err != nil || ok != wantOK || !at.Equal(want) {
		t.Fatalf("Seen(%q) = %v, %v, %v; want %v, %v", user, at, ok, err, want, wantOK)
	}
}

func TestSeen(t *testing.T) {
	clk := newClock()
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir, SeenMaxAge: time.Hour}, nil, WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	wantSeen(t, s, "alice", time.Time{}, false)
	at := clk.Now().Add(-time.Minute).Add(7 * time.Nanosecond)
	if err := s.SetSeen("alice", at); err != nil {
		t.Fatal(err)
	}
	wantSeen(t, s, "alice", at, true)
	later := clk.Now()
	if err := s.SetSeen("alice", later); err != nil {
		t.Fatal(err)
	}
	wantSeen(t, s, "alice", later, true)
	if err := s.SetSeen("bob", at); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTest(t, Config{Dir: dir, SeenMaxAge: time.Hour}, WithClock(clk.Now))
	wantSeen(t, s, "alice", later, true)
	wantSeen(t, s, "bob", at, true)
	clk.Advance(time.Hour) // bob's record is now 1h1m old, alice's exactly 1h
	wantSeen(t, s, "alice", later, true)
	wantSeen(t, s, "bob", time.Time{}, false) // before any Prune
	if _, err := s.Prune(clk.Now()); err != nil {
		t.Fatal(err)
	}
	if got := s.Stats().SeenPruned; got != 1 {
		t.Fatalf("Stats.SeenPruned = %d, want 1", got)
	}
	wantSeen(t, s, "alice", later, true)
	if got := seenKeys(t, s); got != "alice" {
		t.Fatalf("seen records %q, want alice's only", got)
	}
	checkFile(t, s) // seen records are not mailbox entries
}

func TestSeenBadUser(t *testing.T) {
	s := openTest(t, Config{})
	for _, user := range []string{"", strings.Repeat("x", MaxUserBytes+1)} {
		if err := s.SetSeen(user, time.Now()); !errors.Is(err, ErrBadUser) {
			t.Errorf("SetSeen(%d-byte user) = %v", len(user), err)
		}
		if _, _, err := s.Seen(user); !errors.Is(err, ErrBadUser) {
			t.Errorf("Seen(%d-byte user) = %v", len(user), err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSeen("alice", time.Now()); !errors.Is(err, ErrClosed) {
		t.Errorf("SetSeen after Close = %v", err)
	}
	if _, _, err := s.Seen("alice"); !errors.Is(err, ErrClosed) {
		t.Errorf("Seen after Close = %v", err)
	}
}

// TestPruneSeenChunks prunes more records than one chunk, old and new
// interleaved, plus a malformed one.
func TestPruneSeenChunks(t *testing.T) {
	clk := newClock()
	s := openTest(t, Config{SeenMaxAge: time.Hour}, WithClock(clk.Now))
	const n = 3*seenChunk + 5
	old, fresh := clk.Now().Add(-2*time.Hour), clk.Now()
	err := s.db.Update(func(tx *bolt.Tx) error { // one transaction: SetSeen would fsync n times
		b := tx.Bucket(seenBucket)
		for i := range n {
			at := fresh
			if i%3 != 0 {
				at = old
			}
			if err := b.Put(fmt.Appendf(nil, "user%05d", i), putUint(uint64(at.UnixNano()))); err != nil {
				return err
			}
		}
		return b.Put([]byte("malformed"), []byte{1})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Prune(clk.Now()); err != nil {
		t.Fatal(err)
	}
	keep := (n + 2) / 3
	if got := s.Stats().SeenPruned; got != uint64(n-keep+1) {
		t.Fatalf("Stats.SeenPruned = %d, want %d", got, n-keep+1)
	}
	if got := strings.Count(seenKeys(t, s), "user"); got != keep {
		t.Fatalf("%d records left, want %d", got, keep)
	}
	wantSeen(t, s, "user00003", fresh, true)
	wantSeen(t, s, "user00001", time.Time{}, false)
}

func seenKeys(t *testing.T, s *Store) string {
	t.Helper()
	var keys []string
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(seenBucket).ForEach(func(k, _ []byte) error {
			keys = append(keys, string(k))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(keys, ",")
}
