package jsmail_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chatd/chatd/server/cluster/jsmail"
	"github.com/chatd/chatd/server/mailbox"
)

var benchData = make([]byte, 200) // a typical encoded chat message

// benchStore starts a server (fsync on every write or at the default
// interval) and opens a Store with room for large mailboxes.
func benchStore(b *testing.B, sync bool) (*jsmail.Store, jetstream.JetStream) {
	b.Helper()
	js := connect(b, runServer(b, b.TempDir(), sync))
	cfg := jsmail.Config{Config: mailbox.Config{MaxMessages: 1_000_000, MaxBytes: 1 << 30, MaxBytesPerSender: 1 << 30, MaxTotalBytes: 1 << 34}}
	return openJS(b, js, cfg), js
}

// fill gives user a mailbox of n entries, IDs 1 to n.
func fill(b *testing.B, s *jsmail.Store, user string, n int) {
	b.Helper()
	es := make([]mailbox.Entry, n)
	for i := range es {
		es[i] = mailbox.Entry{ID: uint64(i + 1), Sender: "alice", Data: benchData}
	}
	if err := jsmail.Fill(s, user, es); err != nil {
		b.Fatal(err)
	}
}

// bigUsers is how many prefilled mailboxes BenchmarkPut spreads its Puts
// over, so that each grows little during the run.
const bigUsers = 16

// BenchmarkPut: a Put reads the mailbox (empty: one round trip; 1000
// entries: the whole mailbox) and then publishes; with sync always the
// server fsyncs before it acknowledges.
func BenchmarkPut(b *testing.B) {
	cases := []struct {
		name    string
		sync    bool
		entries int // in the mailbox before each Put
		writers int // concurrent Puts, each to its own users
	}{
		{"mailbox=0/sync=always", true, 0, 1},
		{"mailbox=0/sync=always/writers=16", true, 0, 16},
		{"mailbox=0/sync=2m", false, 0, 1},
		{"mailbox=0/sync=2m/writers=16", false, 0, 16},
		{"mailbox=100/sync=2m", false, 100, 1},
		{"mailbox=1000/sync=2m", false, 1000, 1},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			s, _ := benchStore(b, bc.sync)
			for i := range bigUsers * min(bc.entries, 1) {
				fill(b, s, fmt.Sprint("big", i), bc.entries)
			}
			var next atomic.Uint64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range bc.writers {
				wg.Go(func() {
					for {
						id := next.Add(1)
						if id > uint64(b.N) {
							return
						}
						user := fmt.Sprint("user", id) // a new, empty mailbox
						if bc.entries > 0 {
							user = fmt.Sprint("big", id%bigUsers) // each grows by b.N/bigUsers
						}
						e := mailbox.Entry{ID: 1_000_000 + id, Sender: "alice", Data: benchData}
						if err := s.Put(user, e); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

// BenchmarkLoadPage reads a mailbox of 1000 entries of 200 bytes.
func BenchmarkLoadPage(b *testing.B) {
	s, js := benchStore(b, false)
	fill(b, s, "bob", 1000)
	now := time.Now()
	b.Run("page=100", func(b *testing.B) {
		for b.Loop() {
			if es, err := s.LoadPage("bob", 0, 100, 256<<10, now); err != nil || len(es) != 100 {
				b.Fatal(len(es), err)
			}
		}
	})
	b.Run("page=100/next", func(b *testing.B) { // after the previous page: from the hint
		after := uint64(0)
		for b.Loop() {
			es, err := s.LoadPage("bob", after, 100, 256<<10, now)
			if err != nil {
				b.Fatal(err)
			}
			after = 0
			if len(es) > 0 {
				after = es[len(es)-1].ID
			}
		}
	})
	b.Run("page=100/after=900/no-hint", func(b *testing.B) { // another node's: search by ID
		other := openJS(b, js, jsmail.Config{Config: mailbox.Config{MaxMessages: 1_000_000, MaxBytes: 1 << 30, MaxBytesPerSender: 1 << 30, MaxTotalBytes: 1 << 34}})
		for b.Loop() {
			if es, err := other.LoadPage("bob", 900, 100, 256<<10, now); err != nil || len(es) != 100 {
				b.Fatal(len(es), err)
			}
		}
	})
	b.Run("all=1000", func(b *testing.B) {
		for b.Loop() {
			if es, err := s.LoadPage("bob", 0, 0, 0, now); err != nil || len(es) != 1000 {
				b.Fatal(len(es), err)
			}
		}
	})
}

// BenchmarkRead1000 compares ways to read a 1000-entry mailbox: the
// batched direct get LoadPage uses; jetstream's Stream.GetMsg with
// next-by-subject, one request per entry (the package's API in v1.56.0);
// and an ephemeral pull consumer, created, fetched from and deleted. The
// consumer is faster on one server, but in a cluster every consumer
// created is a proposal to the meta leader, once per page read; a direct
// get is answered by the stream's servers alone.
func BenchmarkRead1000(b *testing.B) {
	s, js := benchStore(b, false)
	fill(b, s, "bob", 1000)
	now := time.Now()
	b.Run("batch", func(b *testing.B) {
		for b.Loop() {
			if es, err := s.LoadPage("bob", 0, 0, 0, now); err != nil || len(es) != 1000 {
				b.Fatal(len(es), err)
			}
		}
	})
	b.Run("getmsg", func(b *testing.B) {
		ctx := context.Background()
		st, err := js.Stream(ctx, jsmail.Default().StreamName())
		if err != nil {
			b.Fatal(err)
		}
		subj := jsmail.Default().Prefix + ".mail.Ym9i" // "bob"
		for b.Loop() {
			n := 0
			for next := uint64(1); ; n++ {
				m, err := st.GetMsg(ctx, next, jetstream.WithGetMsgSubject(subj))
				if err != nil {
					break
				}
				next = m.Sequence + 1
			}
			if n != 1000 {
				b.Fatal(n)
			}
		}
	})
	b.Run("consumer", func(b *testing.B) {
		ctx := context.Background()
		for b.Loop() {
			c, err := js.CreateConsumer(ctx, jsmail.Default().StreamName(), jetstream.ConsumerConfig{
				FilterSubject: jsmail.Default().Prefix + ".mail.Ym9i", AckPolicy: jetstream.AckNonePolicy,
				InactiveThreshold: time.Minute, MemoryStorage: true, Replicas: 1,
			})
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for n < 1000 {
				batch, err := c.FetchNoWait(1000 - n)
				if err != nil {
					b.Fatal(err)
				}
				k := 0
				for m := range batch.Messages() {
					if md, err := m.Metadata(); err != nil || md.Sequence.Stream == 0 || m.Headers().Get("Chatd-Entry") == "" {
						b.Fatal(md, err)
					}
					k++
				}
				if k == 0 {
					break
				}
				n += k
			}
			if n != 1000 {
				b.Fatal(n)
			}
			if err := js.DeleteConsumer(ctx, jsmail.Default().StreamName(), c.CachedInfo().Name); err != nil {
				b.Fatal(err)
			}
		}
	})
}
