package mailbox

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestConcurrentPuts(t *testing.T) {
	modes := []struct {
		name string
		opts []Option
	}{
		{name: "group commit"},
		{name: "bbolt batch", opts: []Option{withBoltBatch()}},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			const writers, perWriter, users = 32, 40, 5
			s := openTest(t, Config{}, m.opts...)
			var next atomic.Uint64
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			for w := range writers {
				wg.Go(func() {
					user := string(rune('a' + w%users))
					for range perWriter {
						id := next.Add(1)
						if err := s.Put(user, Entry{ID: id, Data: data(id)}); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			total := 0
			for u := range users {
				user := string(rune('a' + u))
				ids := loadIDs(t, s, user, time.Now())
				if !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
					t.Fatalf("%s: ids not strictly increasing: %v", user, ids)
				}
				wantCount(t, s, user, len(ids))
				total += len(ids)
			}
			if total != writers*perWriter {
				t.Fatalf("stored %d entries, want %d", total, writers*perWriter)
			}
			if st := s.Stats(); st.Stored != writers*perWriter {
				t.Fatalf("Stats.Stored = %d", st.Stored)
			}
			checkFile(t, s)
		})
	}
}

// TestCloseDuringPuts closes the store under load: every Put returns nil
// (and its entry survives a reopen) or ErrClosed, and nothing hangs.
func TestCloseDuringPuts(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const writers = 16
	var wg sync.WaitGroup
	stored := make([][]uint64, writers)
	var started sync.WaitGroup
	started.Add(writers)
	for w := range writers {
		wg.Go(func() {
			user := "u" + string(rune('a'+w))
			for i := range uint64(10_000) {
				id := i*writers + uint64(w)
				err := s.Put(user, Entry{ID: id, Data: data(id)})
				if i == 0 {
					started.Done()
				}
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				stored[w] = append(stored[w], id)
			}
		})
	}
	started.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	s = openTest(t, Config{Dir: dir})
	for w := range writers {
		got := loadIDs(t, s, "u"+string(rune('a'+w)), time.Now())
		wantIDs(t, got, stored[w]...)
	}
	checkFile(t, s)
}

// TestCommitIsolatesFailure: a write that fails inside a shared commit
// fails alone; the writes batched with it are retried and stored.
func TestCommitIsolatesFailure(t *testing.T) {
	s := openTest(t, Config{})
	boom := errors.New("boom")
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range uint64(20) {
				if w == 0 && i%5 == 0 {
					if err := s.write(func(*bolt.Tx) error { return boom }); !errors.Is(err, boom) {
						t.Errorf("failing write returned %v", err)
					}
					continue
				}
				id := i*8 + uint64(w)
				if err := s.Put("alice", Entry{ID: id, Data: data(id)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	wantCount(t, s, "alice", 8*20-4)
	checkFile(t, s)
}
