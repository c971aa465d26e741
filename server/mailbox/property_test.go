package mailbox

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
)

// TestUsageProperty runs a random sequence of every operation that
// changes the counters (Put new and replacing, Ack, Load meeting expired
// entries, Prune, a full Put dropping expired ones, reopening), with small
// bounds so every bound is hit often. After each operation it checks every
// counter against a scan of the entries, that no bound is exceeded, and
// that every rejection was necessary.
func TestUsageProperty(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0x6d61696c626f78))
	clk := newClock()
	cfg := Config{
		Dir: t.TempDir(), MaxMessages: 6, MaxBytes: 200, MaxBytesPerSender: 90, MaxTotalBytes: 500,
		MaxAge: time.Hour,
	}
	open := func() *Store {
		s, err := Open(cfg, zap.NewNop(), WithClock(clk.Now))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	defer func() { s.Close() }()

	users := []string{"u0", "u1", "u2", "u3"}
	senders := []string{"", "s1", "s2"}
	counts := map[string]int{}
	const ops = 1200
	for i := range ops {
		user := users[rng.IntN(len(users))]
		switch op := rng.IntN(100); {
		case op < 55:
			e := sized(uint64(1+rng.IntN(20)), senders[rng.IntN(len(senders))], rng.IntN(70))
			if rng.IntN(10) == 0 {
				e.Stored = clk.Now().Add(-time.Duration(rng.IntN(90)) * time.Minute)
			}
			before := checkFile(t, s)
			err := s.Put(user, e)
			after := checkFile(t, s)
			switch {
			case err == nil:
				counts["stored"]++
			case errors.Is(err, ErrFull), errors.Is(err, ErrSenderQuota), errors.Is(err, ErrStoreFull):
				counts[err.Error()]++
				checkRejection(t, s, i, cfg, before, after, user, e, err)
			default:
				t.Fatalf("op %d: Put: %v", i, err)
			}
		case op < 70:
			if _, err := s.Ack(user, uint64(rng.IntN(22))); err != nil {
				t.Fatalf("op %d: Ack: %v", i, err)
			}
			counts["ack"]++
		case op < 80:
			if _, err := s.Load(user, clk.Now()); err != nil {
				t.Fatalf("op %d: Load: %v", i, err)
			}
			counts["load"]++
		case op < 84:
			if _, err := s.Prune(clk.Now()); err != nil {
				t.Fatalf("op %d: Prune: %v", i, err)
			}
			counts["prune"]++
		case op < 98:
			clk.Advance(time.Duration(rng.IntN(15)) * time.Minute)
		default:
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = open()
			counts["reopen"]++
		}
		checkBounds(t, i, cfg, checkFile(t, s))
	}
	t.Logf("%v; %+v", counts, s.Stats())
}

// checkBounds fails unless every mailbox is within every bound.
func checkBounds(t *testing.T, op int, cfg Config, scan map[string]usageOf) {
	t.Helper()
	var total uint64
	for user, u := range scan {
		total += u.bytes
		if u.count > uint64(cfg.MaxMessages) || u.bytes > uint64(cfg.MaxBytes) {
			t.Fatalf("op %d: %s holds %d entries, %d bytes", op, user, u.count, u.bytes)
		}
		for sender, n := range u.senders {
			if n > uint64(cfg.MaxBytesPerSender) {
				t.Fatalf("op %d: %s holds %d bytes from %q", op, user, n, sender)
			}
		}
	}
	if total > uint64(cfg.MaxTotalBytes) {
		t.Fatalf("op %d: store holds %d bytes", op, total)
	}
}

// checkRejection fails unless storing e really would break the bound err
// names, judged from after, the file as the rejected Put left it (it may
// have dropped expired entries, and nothing else). The order in which
// bounds are reported is TestQuotaBoundaries' concern.
func checkRejection(t *testing.T, s *Store, op int, cfg Config, before, after map[string]usageOf, user string, e Entry, err error) {
	t.Helper()
	b, a := before[user], after[user]
	if a.count > b.count || a.bytes > b.bytes {
		t.Fatalf("op %d: rejected Put (%v) grew %s from %+v to %+v", op, err, user, b, a)
	}
	for u := range before {
		if u != user && !equalUsage(before[u], after[u]) {
			t.Fatalf("op %d: rejected Put to %s changed %s", op, user, u)
		}
	}
	// The entry the Put would have replaced, if the file still has it (the
	// Put may have dropped it as expired).
	var oldSize, oldSame uint64
	old, replace := rawGet(t, s, user, e.ID)
	if replace {
		oldSize = uint64(len(old.data))
		if string(old.sender) == e.Sender {
			oldSame = oldSize
		}
	}
	size := uint64(len(e.Data))
	var total uint64
	for _, u := range after {
		total += u.bytes
	}
	// Each bound is checked only if the Put would raise its counter.
	over := func(cur, freed, limit uint64) bool { return cur-freed+size > max(cur, limit) }
	var ok bool
	switch {
	case errors.Is(err, ErrSenderQuota):
		ok = over(a.senders[e.Sender], oldSame, uint64(cfg.MaxBytesPerSender))
	case errors.Is(err, ErrStoreFull):
		ok = over(total, oldSize, uint64(cfg.MaxTotalBytes))
	case errors.Is(err, ErrFull):
		ok = (!replace && a.count >= uint64(cfg.MaxMessages)) || over(a.bytes, oldSize, uint64(cfg.MaxBytes))
	}
	if !ok {
		t.Fatalf("op %d: Put(%s, id %d, %q, %d bytes) = %v with %+v, store %d bytes",
			op, user, e.ID, e.Sender, size, err, a, total)
	}
}

func equalUsage(a, b usageOf) bool {
	if a.count != b.count || a.bytes != b.bytes || len(a.senders) != len(b.senders) {
		return false
	}
	for k, v := range a.senders {
		if b.senders[k] != v {
			return false
		}
	}
	return true
}

// TestConcurrentPutsByteQuota: many goroutines fill one mailbox from four
// senders; the mailbox and per-sender bounds are never exceeded and the
// mailbox ends exactly full.
func TestConcurrentPutsByteQuota(t *testing.T) {
	const (
		writers, perWriter, size = 16, 40, 100
		maxBytes, perSender      = 10_000, 3_000
	)
	s := openTest(t, Config{MaxBytes: maxBytes, MaxBytesPerSender: perSender, MaxTotalBytes: 1 << 20})
	var wg sync.WaitGroup
	var mu sync.Mutex // guards accepted, rejected
	accepted, rejected := map[string]int{}, map[error]int{}
	for w := range writers {
		wg.Go(func() {
			sender := string(rune('a' + w%4))
			for i := range perWriter {
				id := uint64(w*perWriter + i)
				err := s.Put("alice", sized(id, sender, size))
				mu.Lock()
				switch {
				case err == nil:
					accepted[sender]++
				case errors.Is(err, ErrFull), errors.Is(err, ErrSenderQuota):
					rejected[err]++
				default:
					t.Error(err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	u := checkFile(t, s)["alice"]
	if u.bytes != maxBytes || u.count != maxBytes/size {
		t.Fatalf("mailbox holds %d entries, %d bytes; want exactly %d bytes", u.count, u.bytes, maxBytes)
	}
	for sender, n := range u.senders {
		if n > perSender || uint64(accepted[sender]*size) != n {
			t.Fatalf("sender %q: %d bytes stored, %d Puts accepted", sender, n, accepted[sender])
		}
	}
	st := s.Stats()
	if st.Stored != maxBytes/size || st.Rejected != writers*perWriter-maxBytes/size ||
		st.RejectedBytes+st.RejectedSender != st.Rejected {
		t.Fatalf("Stats = %+v; rejections seen %v", st, rejected)
	}
}

// rawGet reads one entry's value without Load (which would drop expired
// entries).
func rawGet(t *testing.T, s *Store, user string, id uint64) (val value, ok bool) {
	t.Helper()
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(usersBucket).Bucket([]byte(user)); b != nil {
			if v := b.Get(idKey(id)); v != nil {
				val, _ = decodeValue(bytes.Clone(v))
				ok = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return val, ok
}
