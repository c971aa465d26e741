package history

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestReopen: what was appended is back after Close and Open, seq and
// messages, in seq order, within the bounds the appends kept; a clean
// close loses nothing and skips no seq.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().UnixMilli()
	s := openTest(t, Config{Dir: dir})
	if got := s.Rooms(); len(got) != 0 {
		t.Fatalf("a new file has rooms: %v", got)
	}
	appendRange(s, "dev", 1, 5, now, 0)
	appendRange(s, "ops", 1, 30, now, 10)                          // keeps 21..30
	s.Append("big", Entry{Seq: 1, TS: now, Data: []byte("{}")}, 2) // kept nothing, has a seq
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	rooms := byName(t, openTest(t, Config{Dir: dir}))
	wantRoom(t, rooms["dev"], 5, seqRange(1, 5), [2]uint64{})
	wantRoom(t, rooms["ops"], 30, seqRange(21, 30), [2]uint64{})
	wantRoom(t, rooms["big"], 1, nil, [2]uint64{})
	if len(rooms) != 3 {
		t.Fatalf("rooms %v", rooms)
	}
}

// TestTrimDrop: Trim deletes the messages before the first kept, Drop
// forgets a room with its seq, and a room dropped and written again within
// one interval holds only the new messages.
func TestTrimDrop(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().UnixMilli()
	s := openTest(t, Config{Dir: dir})
	appendRange(s, "a", 1, 6, now, 0)
	appendRange(s, "b", 1, 3, now, 0)
	appendRange(s, "c", 1, 3, now, 0)
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	s.Trim("a", 4)
	s.Drop("b")
	s.Drop("c")
	s.Append("c", msg("c", 1, now), 1) // c starts over
	s.Trim("nowhere", 3)               // a room never written: nothing
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	rooms := byName(t, openTest(t, Config{Dir: dir}))
	wantRoom(t, rooms["a"], 6, seqRange(4, 6), [2]uint64{})
	wantRoom(t, rooms["c"], 1, []uint64{1}, [2]uint64{})
	if _, ok := rooms["b"]; ok || len(rooms) != 2 {
		t.Fatalf("rooms %v", rooms)
	}
}

// TestLoadBounds: Open loads each room's newest messages within
// Config.Messages, MaxBytes and MaxAge, whatever the file holds.
func TestLoadBounds(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t: time.UnixMilli(10_000_000)}
	s := openTest(t, Config{Dir: dir})
	for seq := uint64(1); seq <= 10; seq++ {
		// One a minute, ending now.
		s.Append("r", msg("r", seq, c.t.UnixMilli()-int64(10-seq)*60_000), 1)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	size := func(from, to uint64) (n int) { // of the data of seqs from..to
		for seq := from; seq <= to; seq++ {
			n += len(msg("r", seq, 0).Data)
		}
		return n
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		want []uint64
	}{
		{"messages", Config{Messages: 3}, seqRange(8, 10)},
		{"bytes", Config{MaxBytes: size(7, 10)}, seqRange(7, 10)},
		{"bytes, one short", Config{MaxBytes: size(7, 10) - 1}, seqRange(8, 10)},
		{"age", Config{MaxAge: 5*time.Minute + time.Second}, seqRange(5, 10)},
		{"all", Config{}, seqRange(1, 10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Dir = dir
			s := openTest(t, tc.cfg, WithClock(c.Now))
			wantRoom(t, byName(t, s)["r"], 10, tc.want, [2]uint64{})
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestPendingBounded: what waits for a commit is bounded by what each
// room keeps, however many messages arrive in one interval.
func TestPendingBounded(t *testing.T) {
	s := openTest(t, Config{})
	appendRange(s, "r", 1, 100_000, 0, 100)
	s.mu.Lock()
	n := len(s.pending["r"].entries)
	s.mu.Unlock()
	if n != 100 {
		t.Fatalf("%d entries pending, want 100", n)
	}
}

// TestFlushInterval: appended messages reach the file within about
// FlushInterval, in one commit, without Sync or Close.
func TestFlushInterval(t *testing.T) {
	s := openTest(t, Config{FlushInterval: 10 * time.Millisecond})
	appendRange(s, "r", 1, 50, 0, 0)
	deadline := time.Now().Add(5 * time.Second)
	for {
		var n int
		_ = s.db.View(func(tx *bolt.Tx) error {
			if b := tx.Bucket(roomsBucket).Bucket([]byte("r")); b != nil {
				n = b.Stats().KeyN
			}
			return nil
		})
		if st := s.Stats(); n == 50 && st.Appended == 50 {
			if st.Errors != 0 || st.Commits > 2 { // a tick may split the 50
				t.Fatalf("stats %+v", st)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 50 entries written after 5s; stats %+v", n, s.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestLocked: a second Store on the same file fails with ErrLocked.
func TestLocked(t *testing.T) {
	dir := t.TempDir()
	openTest(t, Config{Dir: dir})
	o := withLockTimeout(50 * time.Millisecond)
	if _, err := Open(Config{Dir: dir}, nil, o); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
}

// TestAfterClose: changes recorded after Close are ignored; Close is
// idempotent.
func TestAfterClose(t *testing.T) {
	s := openTest(t, Config{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s.Append("r", msg("r", 1, 0), 1)
	s.Trim("r", 1)
	s.Drop("r")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentAppends: many rooms appended to at once, with commits
// running, all come back (run with -race).
func TestConcurrentAppends(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, Config{Dir: dir, FlushInterval: time.Millisecond})
	const rooms, each = 16, 300
	var wg sync.WaitGroup
	for r := range rooms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			appendRange(s, fmt.Sprint("room", r), 1, each, time.Now().UnixMilli(), 50)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 20 {
			if err := s.Sync(); err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got := byName(t, openTest(t, Config{Dir: dir}))
	for r := range rooms {
		wantRoom(t, got[fmt.Sprint("room", r)], each, seqRange(each-49, each), [2]uint64{})
	}
}
