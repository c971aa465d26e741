package jsmail_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/server/cluster/jsmail"
	"github.com/chatd/chatd/server/mailbox"
)

// nodes opens n Stores on one server, each over its own connection, as n
// chat nodes would.
func nodes(t *testing.T, n int, cfg jsmail.Config) []*jsmail.Store {
	t.Helper()
	srv := runServer(t, t.TempDir(), syncAlways)
	out := make([]*jsmail.Store, n)
	for i := range out {
		out[i] = openJS(t, connect(t, srv), cfg)
	}
	return out
}

// TestStoredOrder checks "after" and Ack with IDs that do not increase in
// stored order, as when entries come from nodes whose clocks differ. Each
// case runs with two Stores on one stream: a is the node that pages, b a
// node that never paged (no hints).
func TestStoredOrder(t *testing.T) {
	now := time.Now()
	cases := []struct {
		name string
		run  func(t *testing.T, a, b *jsmail.Store)
	}{
		{"pages follow stored order", func(t *testing.T, a, b *jsmail.Store) {
			mustPut(t, a, "bob", 5, 10, 7, 12)
			wantIDs(t, "all", all(t, b, "bob", now), 5, 10, 7, 12)
			wantIDs(t, "page 1", page(t, a, "bob", 0, 2, 0, now), 5, 10)
			wantIDs(t, "page 2, from the hint", page(t, a, "bob", 10, 2, 0, now), 7, 12)
			wantIDs(t, "page 2, found by ID", page(t, b, "bob", 10, 2, 0, now), 7, 12)
		}},
		{"ack removes through the acked entry", func(t *testing.T, a, b *jsmail.Store) {
			mustPut(t, a, "bob", 5, 12, 10, 11)
			ack(t, b, "bob", 10, 3) // 12 came before 10, so it was delivered before it
			wantIDs(t, "left", all(t, b, "bob", now), 11)
		}},
		{"ack never removes an entry after the acked one", func(t *testing.T, a, b *jsmail.Store) {
			mustPut(t, a, "bob", 5, 10, 7)
			ack(t, b, "bob", 10, 2)
			wantIDs(t, "left", all(t, b, "bob", now), 7)
		}},
		{"ack of an absent id stops at a greater id", func(t *testing.T, a, b *jsmail.Store) {
			mustPut(t, a, "bob", 5, 12, 10)
			ack(t, b, "bob", 11, 1)
			wantIDs(t, "left", all(t, b, "bob", now), 12, 10)
		}},
		{"drain without acks loses no late, lower id", func(t *testing.T, a, b *jsmail.Store) {
			mustPut(t, a, "bob", 5, 10)
			wantIDs(t, "page 1", page(t, a, "bob", 0, 2, 0, now), 5, 10)
			ack(t, a, "bob", 10, 2)
			mustPut(t, b, "bob", 7, 12) // another node stores, with a lower id first
			wantIDs(t, "page 2, from the hint", page(t, a, "bob", 10, 10, 0, now), 7, 12)
			wantIDs(t, "page 2 elsewhere: 10 is gone, so from the head", page(t, b, "bob", 10, 10, 0, now), 7, 12)
			ack(t, a, "bob", 12, 2)
		}},
		{"with client acks, acked before the next page", func(t *testing.T, a, b *jsmail.Store) {
			mustPut(t, a, "bob", 5, 10, 7, 12)
			wantIDs(t, "page 1", page(t, a, "bob", 0, 2, 0, now), 5, 10)
			ack(t, a, "bob", 10, 2)
			wantIDs(t, "page 2", page(t, a, "bob", 10, 2, 0, now), 7, 12)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			n := nodes(t, 2, jsmail.Config{})
			c.run(t, n[0], n[1])
		})
	}
}

// TestRestart stops the NATS server and starts another on the same store
// directory: every entry whose Put returned nil is there, acked ones are
// not, and last-seen records are kept.
func TestRestart(t *testing.T) {
	dir := t.TempDir()
	srv := runServer(t, dir, syncAlways)
	s := openJS(t, connect(t, srv), jsmail.Config{})
	mustPut(t, s, "bob", seq(1, 100)...)
	mustPut(t, s, "carol", 1000)
	ack(t, s, "bob", 10, 10)
	at := time.Now().Truncate(time.Millisecond)
	if err := s.SetSeen("bob", at); err != nil {
		t.Fatal(err)
	}
	srv.Shutdown()
	srv.WaitForShutdown()

	s = openJS(t, connect(t, runServer(t, dir, syncAlways)), jsmail.Config{})
	wantIDs(t, "bob", all(t, s, "bob", time.Now()), seq(11, 100)...)
	wantIDs(t, "carol", all(t, s, "carol", time.Now()), 1000)
	if got, ok, err := s.Seen("bob"); !ok || err != nil || !got.Equal(at) {
		t.Fatalf("Seen = %v, %v, %v; want %v", got, ok, err, at)
	}
}

// TestConcurrentPuts has several nodes and goroutines put into one
// mailbox at once: the count bound (JetStream's) and the sender's bytes
// bound (the Store's read-then-publish) are never exceeded, and every Put
// that returned nil is there.
func TestConcurrentPuts(t *testing.T) {
	cases := []struct {
		name      string
		cfg       jsmail.Config
		size      int
		oneSender bool  // all writers put as one sender, else each as its own
		room      int   // how many entries fit
		want      error // what the others get
	}{
		{"max messages", jsmail.Config{Config: mailbox.Config{MaxMessages: 25}}, 10, false, 25, mailbox.ErrFull},
		{"sender bytes", jsmail.Config{Config: mailbox.Config{MaxBytesPerSender: 1000}}, 100, true, 10, mailbox.ErrSenderQuota},
		{"mailbox bytes", jsmail.Config{Config: mailbox.Config{MaxBytes: 2000, MaxBytesPerSender: 2000}}, 100, false, 20, mailbox.ErrFull},
	}
	const writers, perWriter = 8, 10
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stores := nodes(t, 4, c.cfg)
			var next atomic.Uint64
			var ok atomic.Int64
			var wg sync.WaitGroup
			for w := range writers {
				s, sender := stores[w%len(stores)], "eve"
				if !c.oneSender {
					sender = fmt.Sprint("writer ", w)
				}
				wg.Go(func() {
					for range perWriter {
						id := next.Add(1)
						err := s.Put("bob", mailbox.Entry{ID: id, Sender: sender, Data: make([]byte, c.size)})
						switch {
						case err == nil:
							ok.Add(1)
						case !errors.Is(err, c.want):
							t.Errorf("Put %d: %v, want nil or %v", id, err, c.want)
						}
					}
				})
			}
			wg.Wait()
			got := all(t, stores[0], "bob", time.Now())
			if ok.Load() != int64(c.room) || len(got) != c.room {
				t.Fatalf("%d Puts returned nil and %d entries are stored; want %d", ok.Load(), len(got), c.room)
			}
			var conflicts uint64
			for _, s := range stores {
				conflicts += s.Stats().Conflicts
			}
			t.Logf("%d puts, %d conflicts (read again)", writers*perWriter, conflicts)
		})
	}
}

// TestRetryStoredOnce: a Put that meets its own earlier write (same
// Nats-Msg-Id, as after a lost ack) stores nothing more; a Put of the
// same ID by another Store does store another entry.
func TestRetryStoredOnce(t *testing.T) {
	n := nodes(t, 3, jsmail.Config{})
	jsmail.ShareNonce(n[1], n[0])
	mustPut(t, n[0], "bob", 1)
	mustPut(t, n[1], "bob", 1) // a retry of n[0]'s
	wantIDs(t, "after a retry", all(t, n[0], "bob", time.Now()), 1)
	mustPut(t, n[2], "bob", 1) // the same id from another node
	wantIDs(t, "same id, another node", all(t, n[0], "bob", time.Now()), 1, 1)
}

// TestServerExpiry: JetStream itself drops entries older than MaxAge.
func TestServerExpiry(t *testing.T) {
	js := connect(t, runServer(t, t.TempDir(), syncAlways))
	cfg := jsmail.Config{Config: mailbox.Config{MaxAge: time.Second}}
	s := openJS(t, js, cfg)
	mustPut(t, s, "bob", 1, 2, 3)
	if n, err := s.Prune(time.Now()); n != 0 || err != nil {
		t.Fatalf("Prune = %d, %v", n, err)
	}
	ctx := context.Background()
	st, err := js.Stream(ctx, jsmail.Default().StreamName())
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages still stored 10s after they expired", info.State.Msgs)
		}
	}
	// Expired entries are gone, not just hidden: even at a now before
	// they were stored, nothing loads.
	wantIDs(t, "after expiry", all(t, s, "bob", time.Time{}))
}

func TestPrefixes(t *testing.T) {
	js := connect(t, runServer(t, t.TempDir(), syncAlways))
	a := openJS(t, js, jsmail.Config{Prefix: "a"})
	b := openJS(t, js, jsmail.Config{Prefix: "b"})
	mustPut(t, a, "bob", 1)
	wantIDs(t, "other prefix", all(t, b, "bob", time.Now()))
	names := js.StreamNames(context.Background())
	var got []string
	for n := range names.Name() {
		got = append(got, n)
	}
	if err := names.Err(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a_mail", "b_mail", "KV_a_seen", "KV_b_seen"} {
		if !slices.Contains(got, want) {
			t.Fatalf("streams %v: no %s", got, want)
		}
	}
}

func TestConfig(t *testing.T) {
	if err := jsmail.Default().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	cases := []struct {
		name string
		cfg  jsmail.Config
		want string // in the error
	}{
		{"replicas", jsmail.Config{Replicas: 6}, "replicas 6"},
		{"prefix", jsmail.Config{Prefix: "chat.d"}, `prefix "chat.d"`},
		{"timeout", jsmail.Config{Timeout: -time.Second}, "timeout"},
		{"quota", jsmail.Config{Config: mailbox.Config{MaxMessages: -1}}, "chat.mailbox.max_messages"},
	}
	js := connect(t, runServer(t, t.TempDir(), syncAlways))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := jsmail.Open(js, c.cfg, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Open = %v, want an error about %s", err, c.want)
			}
		})
	}
	if _, err := jsmail.Open(js, jsmail.Config{Replicas: 3}, nil); err == nil {
		t.Fatal("Open with 3 replicas on one server succeeded")
	}
}
