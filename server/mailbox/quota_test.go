package mailbox

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

// sized returns an entry of n bytes of Data from sender.
func sized(id uint64, sender string, n int) Entry {
	return Entry{ID: id, Sender: sender, Data: make([]byte, n)}
}

// Stats counters a rejection must raise.
var (
	byMessages = func(s Stats) uint64 { return s.RejectedMessages }
	byBytes    = func(s Stats) uint64 { return s.RejectedBytes }
	bySender   = func(s Stats) uint64 { return s.RejectedSender }
	byStore    = func(s Stats) uint64 { return s.RejectedStore }
)

// quotaStep is one Put of a quota test and the error it must return.
type quotaStep struct {
	user    string
	e       Entry
	want    error
	counter func(Stats) uint64 // the Stats counter a rejection raises
}

// runQuotaSteps runs steps in order; a step that must fail must also
// leave the file exactly as it was and raise its Stats counter.
func runQuotaSteps(t *testing.T, s *Store, steps []quotaStep) {
	t.Helper()
	for i, st := range steps {
		before, stats := checkFile(t, s), s.Stats()
		err := s.Put(st.user, st.e)
		if !errors.Is(err, st.want) || (st.want == nil) != (err == nil) {
			t.Fatalf("step %d: Put(%q, id %d, %q, %d bytes) = %v, want %v",
				i, st.user, st.e.ID, st.e.Sender, len(st.e.Data), err, st.want)
		}
		after := checkFile(t, s)
		if st.want == nil {
			continue
		}
		if !reflect.DeepEqual(before, after) {
			t.Fatalf("step %d: a rejected Put changed the file:\nbefore %v\nafter  %v", i, before, after)
		}
		got := s.Stats()
		if got.Rejected != stats.Rejected+1 || st.counter(got) != st.counter(stats)+1 ||
			got.Stored != stats.Stored || got.Bytes != stats.Bytes {
			t.Fatalf("step %d: Stats went from %+v to %+v", i, stats, got)
		}
	}
}

func TestQuotaBoundaries(t *testing.T) {
	cases := []struct {
		name  string
		cfg   Config
		steps []quotaStep
		users []string // the mailboxes left
	}{
		{
			name: "mailbox bytes",
			cfg:  Config{MaxBytes: 100, MaxBytesPerSender: 100, MaxTotalBytes: 1000},
			steps: []quotaStep{
				{user: "alice", e: sized(1, "a", 60)},
				{user: "alice", e: sized(2, "b", 40)}, // exactly MaxBytes
				{user: "alice", e: sized(3, "c", 1), want: ErrFull, counter: byBytes},
				{user: "alice", e: sized(4, "c", 0)}, // no bytes: only the count bound applies
				{user: "bob", e: sized(5, "c", 100)}, // the bound is per mailbox
			},
			users: []string{"alice", "bob"},
		},
		{
			name: "per sender",
			cfg:  Config{MaxBytes: 100, MaxBytesPerSender: 50, MaxTotalBytes: 1000},
			steps: []quotaStep{
				{user: "alice", e: sized(1, "a", 30)},
				{user: "alice", e: sized(2, "a", 20)}, // exactly MaxBytesPerSender
				{user: "alice", e: sized(3, "a", 1), want: ErrSenderQuota, counter: bySender},
				{user: "bob", e: sized(4, "a", 50)}, // per mailbox too
				{user: "alice", e: sized(5, "", 50)},
				{user: "alice", e: sized(6, "b", 1), want: ErrFull, counter: byBytes},
			},
			users: []string{"alice", "bob"},
		},
		{
			name: "store total",
			cfg:  Config{MaxBytes: 100, MaxBytesPerSender: 100, MaxTotalBytes: 150},
			steps: []quotaStep{
				{user: "alice", e: sized(1, "a", 100)},
				{user: "bob", e: sized(2, "a", 50)}, // exactly MaxTotalBytes
				{user: "carol", e: sized(3, "a", 1), want: ErrStoreFull, counter: byStore},
				{user: "bob", e: sized(4, "a", 1), want: ErrStoreFull, counter: byStore},
			},
			users: []string{"alice", "bob"}, // no empty mailbox for carol
		},
		{
			name: "messages",
			cfg:  Config{MaxMessages: 2},
			steps: []quotaStep{
				{user: "alice", e: sized(1, "a", 1)},
				{user: "alice", e: sized(2, "a", 1)},
				{user: "alice", e: sized(3, "a", 0), want: ErrFull, counter: byMessages},
			},
			users: []string{"alice"},
		},
		{
			name: "one entry larger than every bound",
			cfg:  Config{MaxBytes: 100, MaxBytesPerSender: 100, MaxTotalBytes: 100},
			steps: []quotaStep{
				{user: "alice", e: sized(1, "a", 101), want: ErrSenderQuota, counter: bySender},
			},
		},
		{
			name: "narrowest bound is reported",
			cfg:  Config{MaxBytes: 100, MaxBytesPerSender: 50, MaxTotalBytes: 100},
			steps: []quotaStep{
				{user: "alice", e: sized(1, "a", 50)},
				{user: "alice", e: sized(2, "b", 50)},
				{user: "alice", e: sized(3, "a", 1), want: ErrSenderQuota, counter: bySender},
				{user: "alice", e: sized(3, "c", 1), want: ErrFull, counter: byBytes},
				{user: "bob", e: sized(3, "c", 1), want: ErrStoreFull, counter: byStore},
			},
			users: []string{"alice"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t, tc.cfg)
			runQuotaSteps(t, s, tc.steps)
			if got := userBuckets(t, s); !slices.Equal(got, tc.users) {
				t.Fatalf("mailboxes %q, want %q", got, tc.users)
			}
		})
	}
}

func TestQuotaReplace(t *testing.T) {
	s := openTest(t, Config{MaxBytes: 100, MaxBytesPerSender: 50, MaxTotalBytes: 1000})
	runQuotaSteps(t, s, []quotaStep{
		{user: "alice", e: sized(1, "a", 40)},
		{user: "alice", e: sized(1, "a", 50)}, // grows to exactly the sender's bound
		{user: "alice", e: sized(1, "a", 51), want: ErrSenderQuota, counter: bySender},
		{user: "alice", e: sized(1, "a", 50)}, // a retry
		{user: "alice", e: sized(1, "b", 50)}, // moves 50 bytes from a to b
		{user: "alice", e: sized(2, "a", 50)}, // so a has room again
		{user: "alice", e: sized(3, "c", 1), want: ErrFull, counter: byBytes},
		{user: "alice", e: sized(2, "a", 5)}, // shrinks
		{user: "alice", e: sized(3, "c", 45)},
	})
	got := checkFile(t, s)["alice"]
	want := usageOf{count: 3, bytes: 100, senders: map[string]uint64{"a": 5, "b": 50, "c": 45}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("usage %+v, want %+v", got, want)
	}
	if n, err := s.Ack("alice", 2); n != 2 || err != nil {
		t.Fatalf("Ack = %d, %v", n, err)
	}
	got = checkFile(t, s)["alice"]
	want = usageOf{count: 1, bytes: 45, senders: map[string]uint64{"c": 45}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("usage after Ack %+v, want %+v", got, want)
	}
}

// TestQuotaLowered: bounds lowered below what a file holds refuse growth
// but still take retries and shrinking replacements.
func TestQuotaLowered(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	runQuotaSteps(t, s, []quotaStep{
		{user: "alice", e: sized(1, "a", 80)},
		{user: "alice", e: sized(2, "a", 80)},
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, Config{Dir: dir, MaxBytes: 100, MaxBytesPerSender: 50, MaxTotalBytes: 100})
	if got := s.Stats().Bytes; got != 160 {
		t.Fatalf("Stats.Bytes after reopen = %d, want 160", got)
	}
	runQuotaSteps(t, s, []quotaStep{
		{user: "alice", e: sized(1, "a", 80)}, // a retry
		{user: "alice", e: sized(1, "a", 81), want: ErrSenderQuota, counter: bySender},
		{user: "alice", e: sized(3, "b", 1), want: ErrFull, counter: byBytes},
		{user: "bob", e: sized(3, "b", 1), want: ErrStoreFull, counter: byStore},
		{user: "alice", e: sized(1, "a", 10)},
	})
}

// TestQuotaDropsExpiredFirst: a Put over a byte bound first drops the
// mailbox's expired entries, counted in Stats.Expired.
func TestQuotaDropsExpiredFirst(t *testing.T) {
	clk := newClock()
	s := openTest(t, Config{MaxBytes: 100, MaxBytesPerSender: 100, MaxTotalBytes: 150, MaxAge: testAge},
		WithClock(clk.Now))
	runQuotaSteps(t, s, []quotaStep{
		{user: "alice", e: sized(1, "a", 60)},
		{user: "alice", e: sized(2, "b", 40)},
	})
	clk.Advance(testAge / 2)
	runQuotaSteps(t, s, []quotaStep{{user: "alice", e: sized(3, "b", 1), want: ErrFull, counter: byBytes}})
	clk.Advance(testAge/2 + time.Second) // 1 and 2 expired
	runQuotaSteps(t, s, []quotaStep{
		{user: "alice", e: sized(3, "a", 100)},
		// The store holds 100 unexpired bytes now; carol's mailbox has no
		// expired entries to drop.
		{user: "carol", e: sized(4, "a", 51), want: ErrStoreFull, counter: byStore},
		{user: "carol", e: sized(4, "a", 50)},
	})
	if st := s.Stats(); st.Expired != 2 || st.Bytes != 150 {
		t.Fatalf("Stats = %+v, want Expired 2, Bytes 150", st)
	}
	// Expired entries of other mailboxes hold room in the store until
	// Prune drops them.
	clk.Advance(2 * testAge)
	runQuotaSteps(t, s, []quotaStep{{user: "dave", e: sized(5, "a", 1), want: ErrStoreFull, counter: byStore}})
	if n, err := s.Prune(clk.Now()); n != 2 || err != nil {
		t.Fatalf("Prune = %d, %v", n, err)
	}
	runQuotaSteps(t, s, []quotaStep{{user: "dave", e: sized(5, "a", 100)}})
}
