package mailbox

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// v1Entry is an entry of a schema 1 file: its value is the 8-byte stored
// time and the data, with no sender.
type v1Entry struct {
	id     uint64
	stored time.Time
	data   string
	raw    []byte // if set, the value as is (a malformed one)
}

// writeV1 writes dir/mailbox.db as chatd wrote it before senders and
// usage counters existed, with raw bbolt.
func writeV1(t *testing.T, dir string, mailboxes map[string][]v1Entry) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket(metaBucket)
		if err != nil {
			return err
		}
		if err := meta.Put(versionKey, []byte("1")); err != nil {
			return err
		}
		users, err := tx.CreateBucket(usersBucket)
		if err != nil {
			return err
		}
		for user, es := range mailboxes {
			b, err := users.CreateBucket([]byte(user))
			if err != nil {
				return err
			}
			for _, e := range es {
				v := e.raw
				if v == nil {
					v = binary.BigEndian.AppendUint64(nil, uint64(e.stored.UnixNano()))
					v = append(v, e.data...)
				}
				if err := b.Put(idKey(e.id), v); err != nil {
					return err
				}
			}
			if err := b.SetSequence(uint64(len(es))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// v1Mailboxes is a schema 1 file's content: n users with a few entries
// each, of known total size.
func v1Mailboxes(n int, now time.Time) (m map[string][]v1Entry, total uint64) {
	m = map[string][]v1Entry{}
	for u := range n {
		var es []v1Entry
		for i := range u%3 + 1 {
			e := v1Entry{id: uint64(u*10 + i), stored: now.Add(-time.Duration(i) * time.Minute), data: fmt.Sprintf("v1 message %d/%d", u, i)}
			total += uint64(len(e.data))
			es = append(es, e)
		}
		m[fmt.Sprintf("user%04d", u)] = es
	}
	return m, total
}

// checkV1Loaded checks that every schema 1 entry loads as written, with
// sender "".
func checkV1Loaded(t *testing.T, s *Store, m map[string][]v1Entry, now time.Time) {
	t.Helper()
	for user, es := range m {
		got, err := s.Load(user, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(es) {
			t.Fatalf("%s: loaded %d entries, want %d", user, len(got), len(es))
		}
		for i, e := range es {
			g := got[i]
			if g.ID != e.id || !g.Stored.Equal(e.stored) || string(g.Data) != e.data || g.Sender != "" {
				t.Fatalf("%s: loaded %+v, want %+v with no sender", user, g, e)
			}
		}
	}
}

func TestMigrateV1(t *testing.T) {
	clk := newClock()
	dir := t.TempDir()
	m, total := v1Mailboxes(2*pruneChunk+10, clk.Now()) // more than one rebuild transaction
	m["empty data"] = []v1Entry{{id: 1, stored: clk.Now()}}
	m["malformed"] = []v1Entry{{id: 1, stored: clk.Now(), data: "ok"}, {id: 2, raw: []byte{1, 2, 3}}}
	total += 2
	writeV1(t, dir, m)

	s := openTest(t, Config{Dir: dir, MaxBytesPerSender: 1 << 20}, WithClock(clk.Now))
	scan := checkFile(t, s)
	if got := s.Stats().Bytes; got != total {
		t.Fatalf("Stats.Bytes = %d, want %d", got, total)
	}
	if got := scan["user0002"]; got.count != 3 || got.senders[""] != got.bytes || len(got.senders) != 1 {
		t.Fatalf("user0002 usage %+v, want 3 entries, all from sender \"\"", got)
	}
	// The malformed value was kept (as expired, 0 bytes); Load drops it.
	wantCount(t, s, "malformed", 2)
	malformed := m["malformed"][:1]
	delete(m, "malformed")
	checkV1Loaded(t, s, m, clk.Now())
	checkV1Loaded(t, s, map[string][]v1Entry{"malformed": malformed}, clk.Now())
	wantCount(t, s, "malformed", 1)
	if st := s.Stats(); st.Expired != 1 {
		t.Fatalf("Stats.Expired = %d, want 1 (the malformed value)", st.Expired)
	}
	// New entries go next to migrated ones, under the same counters.
	if err := s.Put("user0000", Entry{ID: 99, Sender: "bob", Data: []byte("new")}); err != nil {
		t.Fatal(err)
	}
	checkFile(t, s)
}

// TestMigrateV1Resumes: a migration interrupted after its first
// transactions (a crash) carries on at the next Open, rewriting every
// value exactly once; meanwhile the file says schema 2, so an older chatd
// refuses it.
func TestMigrateV1Resumes(t *testing.T) {
	clk := newClock()
	dir := t.TempDir()
	m, total := v1Mailboxes(2*pruneChunk+10, clk.Now())
	writeV1(t, dir, m)

	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error { return startRebuild(tx, tx.Bucket(metaBucket), rebuildRewrite) })
	if err != nil {
		t.Fatal(err)
	}
	var done bool
	err = db.Update(func(tx *bolt.Tx) (err error) {
		_, _, _, done, err = rebuildChunk(tx)
		return err
	})
	if err != nil || done {
		t.Fatalf("first chunk: done %v, %v", done, err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(metaBucket)
		if v := meta.Get(versionKey); string(v) != schemaVersion {
			return fmt.Errorf("version %q during the rebuild", v)
		}
		if v := meta.Get(rebuildKey); len(v) < 2 || v[0] != rebuildRewrite {
			return fmt.Errorf("rebuild state %q", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := openTest(t, Config{Dir: dir}, WithClock(clk.Now))
	checkFile(t, s)
	if got := s.Stats().Bytes; got != total {
		t.Fatalf("Stats.Bytes = %d, want %d", got, total)
	}
	checkV1Loaded(t, s, m, clk.Now())
}

// TestRebuildMissingCounters: a schema 2 file that lost its counters
// gets them back from a scan at Open.
func TestRebuildMissingCounters(t *testing.T) {
	for _, lose := range []string{"usage", "meta/bytes", "both"} {
		t.Run(lose, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(Config{Dir: dir}, nil)
			if err != nil {
				t.Fatal(err)
			}
			for u := range 5 {
				for i := range u + 1 {
					e := Entry{ID: uint64(i), Sender: fmt.Sprint("s", i%2), Data: []byte(strings.Repeat("x", u+i))}
					if err := s.Put(fmt.Sprint("u", u), e); err != nil {
						t.Fatal(err)
					}
				}
			}
			want := checkFile(t, s)
			err = s.db.Update(func(tx *bolt.Tx) error {
				if lose != "meta/bytes" {
					if err := tx.DeleteBucket(usageBucket); err != nil {
						return err
					}
				}
				if lose != "usage" {
					return tx.Bucket(metaBucket).Delete(bytesKey)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = openTest(t, Config{Dir: dir})
			if got := checkFile(t, s); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("rebuilt usage %v, want %v", got, want)
			}
		})
	}
}

func TestOpenRefusesUnknownSchema(t *testing.T) {
	dir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket(metaBucket)
		if err != nil {
			return err
		}
		return meta.Put(versionKey, []byte("3"))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(Config{Dir: dir}, nil); err == nil || !strings.Contains(err.Error(), `schema version "3"`) {
		t.Fatalf("Open of a schema 3 file: %v", err)
	}
}

// TestNewFileLayout: a new file has every bucket and a zero total, and
// the buckets are the ones the layout comment names.
func TestNewFileLayout(t *testing.T) {
	s := openTest(t, Config{})
	var names []string
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			names = append(names, string(name))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"meta", "seen", "usage", "users"}; !slices.Equal(names, want) {
		t.Fatalf("buckets %q, want %q", names, want)
	}
	checkFile(t, s)
}
