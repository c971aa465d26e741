package mailbox

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/goleak"
	"go.uber.org/zap/zaptest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// clock is a settable time source for WithClock.
type clock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// openTest opens a Store in a fresh temporary directory (unless cfg.Dir is
// set) and closes it when the test ends.
func openTest(tb testing.TB, cfg Config, opts ...Option) *Store {
	tb.Helper()
	if cfg.Dir == "" {
		cfg.Dir = tb.TempDir()
	}
	s, err := Open(cfg, zaptest.NewLogger(tb), opts...)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func data(id uint64) []byte { return fmt.Appendf(nil, "message %d", id) }

func mustPut(tb testing.TB, s *Store, user string, ids ...uint64) {
	tb.Helper()
	for _, id := range ids {
		if err := s.Put(user, Entry{ID: id, Data: data(id)}); err != nil {
			tb.Fatalf("Put(%q, %d): %v", user, id, err)
		}
	}
}

// loadIDs loads user's mailbox at now and checks every entry's data.
func loadIDs(tb testing.TB, s *Store, user string, now time.Time) []uint64 {
	tb.Helper()
	es, err := s.Load(user, now)
	if err != nil {
		tb.Fatalf("Load(%q): %v", user, err)
	}
	ids := make([]uint64, len(es))
	for i, e := range es {
		ids[i] = e.ID
		if string(e.Data) != string(data(e.ID)) {
			tb.Fatalf("Load(%q): entry %d has data %q, want %q", user, e.ID, e.Data, data(e.ID))
		}
	}
	return ids
}

func wantIDs(tb testing.TB, got []uint64, want ...uint64) {
	tb.Helper()
	if !slices.Equal(got, want) {
		tb.Fatalf("ids = %v, want %v", got, want)
	}
}

func wantCount(tb testing.TB, s *Store, user string, want int) {
	tb.Helper()
	n, err := s.Count(user)
	if err != nil {
		tb.Fatalf("Count(%q): %v", user, err)
	}
	if n != want {
		tb.Fatalf("Count(%q) = %d, want %d", user, n, want)
	}
}

// checkFile runs bbolt's consistency check and verifies every counter
// against a scan of the entries: each user bucket is non-empty and its
// count matches its entries; its usage bucket exists and holds its bytes
// and exactly the non-zero bytes of each sender; no usage bucket is left
// without a mailbox; meta/bytes and Stats.Bytes are the sum of all bytes.
// It returns what it scanned.
func checkFile(tb testing.TB, s *Store) map[string]usageOf {
	tb.Helper()
	scanned := map[string]usageOf{}
	var total uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		users, usage := tx.Bucket(usersBucket), tx.Bucket(usageBucket)
		err := users.ForEachBucket(func(name []byte) error {
			b := users.Bucket(name)
			u, err := scanUsage(b)
			if err != nil {
				return fmt.Errorf("user %q: %w", name, err)
			}
			scanned[string(name)] = u
			total += u.bytes
			if u.count == 0 {
				return fmt.Errorf("user %q: empty bucket left behind", name)
			}
			if u.count != b.Sequence() {
				return fmt.Errorf("user %q: count %d, entries %d", name, b.Sequence(), u.count)
			}
			use := usage.Bucket(name)
			if use == nil {
				return fmt.Errorf("user %q: no usage bucket", name)
			}
			if use.Sequence() != u.bytes {
				return fmt.Errorf("user %q: usage says %d bytes, entries hold %d", name, use.Sequence(), u.bytes)
			}
			senders := map[string]uint64{}
			err = use.ForEach(func(k, v []byte) error {
				if len(k) == 0 || k[0] != 's' || len(v) != 8 {
					return fmt.Errorf("user %q: bad usage record %q = %x", name, k, v)
				}
				if getUint(v) == 0 {
					return fmt.Errorf("user %q: zero usage record for sender %q", name, k[1:])
				}
				senders[string(k[1:])] = getUint(v)
				return nil
			})
			if err != nil {
				return err
			}
			if !maps.Equal(senders, u.senders) {
				return fmt.Errorf("user %q: usage by sender %v, entries hold %v", name, senders, u.senders)
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = usage.ForEachBucket(func(name []byte) error {
			if users.Bucket(name) == nil {
				return fmt.Errorf("usage bucket of %q has no mailbox", name)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if got := getUint(tx.Bucket(metaBucket).Get(bytesKey)); got != total {
			return fmt.Errorf("meta/bytes %d, entries hold %d", got, total)
		}
		if v := tx.Bucket(metaBucket).Get(versionKey); string(v) != schemaVersion {
			return fmt.Errorf("meta/version %q", v)
		}
		if v := tx.Bucket(metaBucket).Get(rebuildKey); v != nil {
			return fmt.Errorf("meta/rebuild %q left behind", v)
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("file check: %v", err)
	}
	if got := s.Stats().Bytes; got != total {
		tb.Fatalf("Stats.Bytes = %d, entries hold %d", got, total)
	}
	return scanned
}

// userBuckets returns the names of the user buckets in the file.
func userBuckets(tb testing.TB, s *Store) []string {
	tb.Helper()
	var names []string
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(usersBucket).ForEachBucket(func(name []byte) error {
			names = append(names, string(name))
			return nil
		})
	})
	if err != nil {
		tb.Fatal(err)
	}
	return names
}
