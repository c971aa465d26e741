package mailbox

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPutLoadOrder(t *testing.T) {
	clk := newClock()
	s := openTest(t, Config{}, WithClock(clk.Now))
	mustPut(t, s, "alice", 30, 10, 20, 5)
	mustPut(t, s, "bob", 7)

	wantIDs(t, loadIDs(t, s, "alice", clk.Now()), 5, 10, 20, 30)
	wantIDs(t, loadIDs(t, s, "bob", clk.Now()), 7)
	wantIDs(t, loadIDs(t, s, "nobody", clk.Now()))

	es, err := s.Load("alice", clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !es[0].Stored.Equal(clk.Now()) {
		t.Errorf("Stored = %v, want the clock's %v", es[0].Stored, clk.Now())
	}
	// Load does not consume: entries stay until acked.
	wantIDs(t, loadIDs(t, s, "alice", clk.Now()), 5, 10, 20, 30)
}

func TestPutKeepsGivenStoredAndEmptyData(t *testing.T) {
	clk := newClock()
	s := openTest(t, Config{}, WithClock(clk.Now))
	at := clk.Now().Add(-time.Hour).Add(123 * time.Nanosecond)
	if err := s.Put("alice", Entry{ID: 1, Stored: at}); err != nil {
		t.Fatal(err)
	}
	es, err := s.Load("alice", clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || !es[0].Stored.Equal(at) || len(es[0].Data) != 0 {
		t.Fatalf("Load = %+v, want one entry stored at %v with no data", es, at)
	}
}

func TestLoadAfterPages(t *testing.T) {
	s := openTest(t, Config{})
	mustPut(t, s, "alice", 1, 2, 3, 4, 5, 6, 7)
	var got []uint64
	var after uint64
	for {
		page, err := s.LoadAfter("alice", after, 3, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if len(page) > 3 {
			t.Fatalf("page of %d, want at most 3", len(page))
		}
		for _, e := range page {
			got = append(got, e.ID)
		}
		after = page[len(page)-1].ID
	}
	wantIDs(t, got, 1, 2, 3, 4, 5, 6, 7)
	if page, err := s.LoadAfter("alice", ^uint64(0), 0, time.Now()); err != nil || len(page) != 0 {
		t.Fatalf("LoadAfter(max) = %v, %v", page, err)
	}
}

func TestAckCumulative(t *testing.T) {
	cases := []struct {
		name        string
		acks        []uint64
		wantRemoved []int
		wantLeft    []uint64
	}{
		{name: "below all", acks: []uint64{5}, wantRemoved: []int{0}, wantLeft: []uint64{10, 20, 30}},
		{name: "exact id", acks: []uint64{20}, wantRemoved: []int{2}, wantLeft: []uint64{30}},
		{name: "between ids", acks: []uint64{25}, wantRemoved: []int{2}, wantLeft: []uint64{30}},
		{name: "step by step", acks: []uint64{10, 20, 30}, wantRemoved: []int{1, 1, 1}},
		{name: "repeated ack", acks: []uint64{20, 20, 15}, wantRemoved: []int{2, 0, 0}, wantLeft: []uint64{30}},
		{name: "beyond all", acks: []uint64{1 << 60}, wantRemoved: []int{3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t, Config{})
			mustPut(t, s, "alice", 10, 20, 30)
			mustPut(t, s, "bob", 1, 2)
			for i, upTo := range tc.acks {
				n, err := s.Ack("alice", upTo)
				if err != nil || n != tc.wantRemoved[i] {
					t.Fatalf("Ack(%d) = %d, %v; want %d", upTo, n, err, tc.wantRemoved[i])
				}
			}
			wantIDs(t, loadIDs(t, s, "alice", time.Now()), tc.wantLeft...)
			wantCount(t, s, "alice", len(tc.wantLeft))
			wantIDs(t, loadIDs(t, s, "bob", time.Now()), 1, 2)
			if len(tc.wantLeft) == 0 && slices.Contains(userBuckets(t, s), "alice") {
				t.Error("empty mailbox's bucket was not deleted")
			}
			checkFile(t, s)
		})
	}
}

func TestAckUnknownUser(t *testing.T) {
	s := openTest(t, Config{})
	if n, err := s.Ack("ghost", 100); n != 0 || err != nil {
		t.Fatalf("Ack(ghost) = %d, %v", n, err)
	}
	if got := s.Stats().Acked; got != 0 {
		t.Fatalf("Stats.Acked = %d", got)
	}
}

func TestCount(t *testing.T) {
	s := openTest(t, Config{})
	wantCount(t, s, "alice", 0)
	mustPut(t, s, "alice", 1, 2, 3)
	wantCount(t, s, "alice", 3)
	mustPut(t, s, "alice", 2) // replaces, does not add
	wantCount(t, s, "alice", 3)
	if _, err := s.Ack("alice", 1); err != nil {
		t.Fatal(err)
	}
	wantCount(t, s, "alice", 2)
	checkFile(t, s)
}

func TestPutReplacesSameID(t *testing.T) {
	s := openTest(t, Config{})
	if err := s.Put("alice", Entry{ID: 1, Data: []byte("first")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("alice", Entry{ID: 1, Data: []byte("retry")}); err != nil {
		t.Fatal(err)
	}
	es, err := s.Load("alice", time.Now())
	if err != nil || len(es) != 1 || string(es[0].Data) != "retry" {
		t.Fatalf("Load = %+v, %v; want one entry with the second data", es, err)
	}
}

func TestFull(t *testing.T) {
	s := openTest(t, Config{MaxMessages: 3})
	mustPut(t, s, "alice", 1, 2, 3)
	err := s.Put("alice", Entry{ID: 4, Data: data(4)})
	if !errors.Is(err, ErrFull) {
		t.Fatalf("Put to a full mailbox: %v, want ErrFull", err)
	}
	wantIDs(t, loadIDs(t, s, "alice", time.Now()), 1, 2, 3)
	wantCount(t, s, "alice", 3)
	mustPut(t, s, "alice", 2) // replacing an entry needs no room
	mustPut(t, s, "bob", 1)   // the bound is per user
	if st := s.Stats(); st.Rejected != 1 || st.Stored != 5 {
		t.Fatalf("Stats = %+v, want Rejected 1, Stored 5", st)
	}
	if _, err := s.Ack("alice", 1); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "alice", 4)
	wantIDs(t, loadIDs(t, s, "alice", time.Now()), 2, 3, 4)
	checkFile(t, s)
}

func TestBadUser(t *testing.T) {
	s := openTest(t, Config{})
	for _, user := range []string{"", strings.Repeat("x", MaxUserBytes+1)} {
		if err := s.Put(user, Entry{ID: 1}); !errors.Is(err, ErrBadUser) {
			t.Errorf("Put(%d-byte user) = %v, want ErrBadUser", len(user), err)
		}
		if _, err := s.Load(user, time.Now()); !errors.Is(err, ErrBadUser) {
			t.Errorf("Load(%d-byte user) = %v, want ErrBadUser", len(user), err)
		}
		if _, err := s.Ack(user, 1); !errors.Is(err, ErrBadUser) {
			t.Errorf("Ack(%d-byte user) = %v, want ErrBadUser", len(user), err)
		}
		if _, err := s.Count(user); !errors.Is(err, ErrBadUser) {
			t.Errorf("Count(%d-byte user) = %v, want ErrBadUser", len(user), err)
		}
	}
	mustPut(t, s, "名前 with spaces\x00and NUL", 1)
	wantCount(t, s, "名前 with spaces\x00and NUL", 1)
}

func TestReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "alice", 3, 1, 2)
	mustPut(t, s, "bob", 9)
	if _, err := s.Ack("bob", 9); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, Config{Dir: dir})
	wantIDs(t, loadIDs(t, s, "alice", time.Now()), 1, 2, 3)
	wantCount(t, s, "alice", 3)
	wantCount(t, s, "bob", 0)
	checkFile(t, s)
}

func TestClosed(t *testing.T) {
	s, err := Open(Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	errs := map[string]error{"Put": s.Put("alice", Entry{ID: 1})}
	_, errs["Load"] = s.Load("alice", time.Now())
	_, errs["Ack"] = s.Ack("alice", 1)
	_, errs["Count"] = s.Count("alice")
	_, errs["Prune"] = s.Prune(time.Now())
	for op, err := range errs {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", op, err)
		}
	}
}

func TestSecondOpenFailsPromptly(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, Config{Dir: dir})
	start := time.Now()
	s2, err := Open(Config{Dir: dir}, nil)
	took := time.Since(start)
	if err == nil {
		s2.Close()
		t.Fatal("second Open of the same file succeeded")
	}
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), s.Path()) {
		t.Fatalf("second Open: %v, want ErrLocked naming %s", err, s.Path())
	}
	if took > 3*time.Second {
		t.Fatalf("second Open took %v, want about %v", took, defaultLockTimeout)
	}
	mustPut(t, s, "alice", 1) // the first Store is unaffected
}

func TestFilePermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	s := openTest(t, Config{Dir: dir})
	for path, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, s.Path(): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode(), want)
		}
	}
	if s.Path() != filepath.Join(dir, FileName) {
		t.Errorf("Path() = %s", s.Path())
	}
}
