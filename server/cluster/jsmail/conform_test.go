package jsmail_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/chatd/chatd/server/chat"
	"github.com/chatd/chatd/server/cluster/jsmail"
	"github.com/chatd/chatd/server/mailbox"
)

// store is what the conformance suite drives: chat's Mailbox, and Close.
type store interface {
	chat.Mailbox
	Close() error
}

// backends are the stores the suite checks: the bbolt store chatd uses on
// one node, and this package's.
var backends = []struct {
	name string
	open func(t *testing.T, cfg mailbox.Config, clk *clock) store
}{
	{name: "bbolt", open: func(t *testing.T, cfg mailbox.Config, clk *clock) store {
		cfg.Dir = t.TempDir()
		s, err := mailbox.Open(cfg, zaptest.NewLogger(t), mailbox.WithClock(clk.Now))
		if err != nil {
			t.Fatalf("mailbox.Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
	{name: "jetstream", open: func(t *testing.T, cfg mailbox.Config, clk *clock) store {
		return newJS(t, jsmail.Config{Config: cfg}, jsmail.WithClock(clk.Now))
	}},
}

// sized is an entry of n bytes of Data from sender.
func sized(id uint64, sender string, n int) mailbox.Entry {
	return mailbox.Entry{ID: id, Sender: sender, Data: make([]byte, n)}
}

func wantErr(t *testing.T, what string, got, want error) {
	t.Helper()
	if !errors.Is(got, want) || (want == nil) != (got == nil) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func wantIDs(t *testing.T, what string, got []uint64, want ...uint64) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

// conformCases are the behaviour both stores share. IDs increase with
// time here, as they do on one node: then stored order is ID order, and
// the two stores' definitions of "after" and of Ack agree.
var conformCases = []struct {
	name string
	cfg  mailbox.Config
	run  func(t *testing.T, s store, clk *clock)
}{
	{name: "order kept over 200 puts", run: func(t *testing.T, s store, clk *clock) {
		mustPut(t, s, "bob", seq(1, 200)...)
		wantIDs(t, "all", all(t, s, "bob", clk.Now()), seq(1, 200)...)
		wantIDs(t, "other user", all(t, s, "carol", clk.Now()))
	}},
	{name: "entry round trip", run: func(t *testing.T, s store, clk *clock) {
		e := mailbox.Entry{ID: 7, Stored: clk.Now().Add(-time.Minute), Sender: "élodie \"x\"\n", Data: []byte{0, 1, 0xff, '\r', '\n'}}
		if err := s.Put("zoë", e); err != nil {
			t.Fatal(err)
		}
		mustPut(t, s, "zoë", 8) // zero Stored: the store's clock
		es, err := s.LoadPage("zoë", 0, 0, 0, clk.Now())
		if err != nil || len(es) != 2 {
			t.Fatalf("LoadPage = %v, %v", es, err)
		}
		if g := es[0]; g.ID != e.ID || !g.Stored.Equal(e.Stored) || g.Sender != e.Sender || !bytes.Equal(g.Data, e.Data) {
			t.Fatalf("loaded %+v, want %+v", g, e)
		}
		if !es[1].Stored.Equal(clk.Now()) {
			t.Fatalf("zero Stored loaded as %v, want the clock's %v", es[1].Stored, clk.Now())
		}
	}},
	{name: "paging by count", run: func(t *testing.T, s store, clk *clock) {
		mustPut(t, s, "bob", seq(1, 10)...)
		var got [][]uint64
		for after := uint64(0); ; {
			ids := page(t, s, "bob", after, 3, 0, clk.Now())
			if len(ids) == 0 {
				break
			}
			got = append(got, ids)
			after = ids[len(ids)-1]
		}
		want := [][]uint64{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}, {10}}
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("pages %v, want %v", got, want)
		}
		wantIDs(t, "after the last possible id", page(t, s, "bob", math.MaxUint64, 3, 0, clk.Now()))
	}},
	{name: "paging by bytes", run: func(t *testing.T, s store, clk *clock) {
		for i, n := range []int{10, 10, 10, 40, 10} {
			if err := s.Put("bob", sized(uint64(i+1), "a", n)); err != nil {
				t.Fatal(err)
			}
		}
		wantIDs(t, "25 bytes", page(t, s, "bob", 0, 0, 25, clk.Now()), 1, 2)
		wantIDs(t, "25 bytes after 2", page(t, s, "bob", 2, 0, 25, clk.Now()), 3)
		wantIDs(t, "an entry over the bound comes alone", page(t, s, "bob", 3, 0, 25, clk.Now()), 4)
		wantIDs(t, "both bounds", page(t, s, "bob", 0, 2, 1000, clk.Now()), 1, 2)
	}},
	{name: "ack", run: func(t *testing.T, s store, clk *clock) {
		mustPut(t, s, "bob", seq(1, 10)...)
		ack(t, s, "bob", 3, 3)
		wantIDs(t, "after ack 3", all(t, s, "bob", clk.Now()), seq(4, 10)...)
		ack(t, s, "bob", 3, 0)
		ack(t, s, "bob", 0, 0)
		ack(t, s, "nobody", 5, 0)
		ack(t, s, "bob", 10, 7)
		wantIDs(t, "after ack 10", all(t, s, "bob", clk.Now()))
		mustPut(t, s, "bob", 11, 12)
		ack(t, s, "bob", 100, 2) // an id past the mailbox, such as a live message's
	}},
	{name: "drain without client acks", run: func(t *testing.T, s store, clk *clock) {
		mustPut(t, s, "bob", seq(1, 10)...)
		var got []uint64
		for after := uint64(0); ; {
			ids := page(t, s, "bob", after, 4, 0, clk.Now())
			if len(ids) == 0 {
				break
			}
			got = append(got, ids...)
			after = ids[len(ids)-1]
			ack(t, s, "bob", after, len(ids)) // chat acks a written page before reading the next
		}
		wantIDs(t, "delivered", got, seq(1, 10)...)
	}},
	{name: "max messages", cfg: mailbox.Config{MaxMessages: 3}, run: func(t *testing.T, s store, clk *clock) {
		mustPut(t, s, "bob", 1, 2, 3)
		wantErr(t, "4th Put", s.Put("bob", mailbox.Entry{ID: 4}), mailbox.ErrFull)
		mustPut(t, s, "carol", 5) // per mailbox
		ack(t, s, "bob", 1, 1)
		mustPut(t, s, "bob", 6)
		wantIDs(t, "bob", all(t, s, "bob", clk.Now()), 2, 3, 6)
	}},
	{name: "mailbox and sender bytes", cfg: mailbox.Config{MaxBytes: 100, MaxBytesPerSender: 50, MaxTotalBytes: 1 << 20}, run: func(t *testing.T, s store, clk *clock) {
		steps := []struct {
			user string
			e    mailbox.Entry
			want error
		}{
			{"bob", sized(1, "a", 30), nil},
			{"bob", sized(2, "b", 30), nil},
			{"bob", sized(3, "a", 30), mailbox.ErrSenderQuota},
			{"bob", sized(4, "a", 20), nil}, // exactly MaxBytesPerSender
			{"bob", sized(5, "c", 30), mailbox.ErrFull},
			{"bob", sized(6, "c", 20), nil}, // exactly MaxBytes
			{"bob", sized(7, "c", 0), nil},  // no bytes: only the count bound applies
			{"carol", sized(8, "a", 50), nil},
		}
		for i, st := range steps {
			wantErr(t, fmt.Sprintf("step %d: Put(%q, id %d)", i, st.user, st.e.ID), s.Put(st.user, st.e), st.want)
		}
		wantIDs(t, "bob", all(t, s, "bob", clk.Now()), 1, 2, 4, 6, 7)
		ack(t, s, "bob", 1, 1)
		mustPut(t, s, "bob", 9) // sender "s", 9 bytes: room again
	}},
	{name: "store full", cfg: mailbox.Config{MaxBytes: 1000, MaxBytesPerSender: 1000, MaxTotalBytes: 1000}, run: func(t *testing.T, s store, clk *clock) {
		wantErr(t, "alice", s.Put("alice", sized(1, "a", 600)), nil)
		wantErr(t, "bob", s.Put("bob", sized(2, "a", 600)), mailbox.ErrStoreFull)
		ack(t, s, "alice", 1, 1)
		wantErr(t, "bob after alice's ack", s.Put("bob", sized(3, "a", 600)), nil)
	}},
	{name: "expiry", cfg: mailbox.Config{MaxMessages: 3, MaxAge: time.Hour}, run: func(t *testing.T, s store, clk *clock) {
		mustPut(t, s, "bob", 1, 2)
		clk.Advance(30 * time.Minute)
		mustPut(t, s, "bob", 3)
		clk.Advance(31 * time.Minute)
		wantIDs(t, "unexpired", all(t, s, "bob", clk.Now()), 3)
		mustPut(t, s, "bob", 4) // full, but 1 and 2 have expired: dropped first
		mustPut(t, s, "bob", 5)
		wantErr(t, "full of live entries", s.Put("bob", mailbox.Entry{ID: 6}), mailbox.ErrFull)
		wantIDs(t, "after", all(t, s, "bob", clk.Now()), 3, 4, 5)
		wantIDs(t, "page at a later now", all(t, s, "bob", clk.Now().Add(31*time.Minute)), 4, 5)
	}},
	{name: "seen", cfg: mailbox.Config{SeenMaxAge: time.Hour}, run: func(t *testing.T, s store, clk *clock) {
		if _, ok, err := s.Seen("bob"); ok || err != nil {
			t.Fatalf("Seen(unknown) = %v, %v", ok, err)
		}
		at := clk.Now().Add(-10 * time.Minute)
		if err := s.SetSeen("bob", at); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := s.Seen("bob"); !ok || err != nil || !got.Equal(at) {
			t.Fatalf("Seen = %v, %v, %v; want %v", got, ok, err, at)
		}
		if err := s.SetSeen("carol", clk.Now().Add(-time.Hour-time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := s.Seen("carol"); ok || err != nil {
			t.Fatalf("Seen(older than SeenMaxAge) = %v, %v", ok, err)
		}
		clk.Advance(51 * time.Minute)
		if _, ok, err := s.Seen("bob"); ok || err != nil {
			t.Fatalf("Seen after SeenMaxAge passed = %v, %v", ok, err)
		}
	}},
	{name: "bad user", run: func(t *testing.T, s store, clk *clock) {
		wantErr(t, "Put", s.Put("", mailbox.Entry{ID: 1}), mailbox.ErrBadUser)
		_, err := s.LoadPage("", 0, 0, 0, clk.Now())
		wantErr(t, "LoadPage", err, mailbox.ErrBadUser)
		_, err = s.Ack("", 1)
		wantErr(t, "Ack", err, mailbox.ErrBadUser)
		wantErr(t, "SetSeen", s.SetSeen("", clk.Now()), mailbox.ErrBadUser)
		_, _, err = s.Seen("")
		wantErr(t, "Seen", err, mailbox.ErrBadUser)
	}},
	{name: "closed", run: func(t *testing.T, s store, clk *clock) {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "Put", s.Put("bob", mailbox.Entry{ID: 1}), mailbox.ErrClosed)
		_, err := s.LoadPage("bob", 0, 0, 0, clk.Now())
		wantErr(t, "LoadPage", err, mailbox.ErrClosed)
	}},
}

func TestConformance(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, c := range conformCases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					clk := newClock()
					c.run(t, b.open(t, c.cfg, clk), clk)
				})
			}
		})
	}
}
