package jsmail_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/chatd/chatd/server/chat"
	"github.com/chatd/chatd/server/cluster/jsmail"
	"github.com/chatd/chatd/server/mailbox"
)

// The Store is one of chat's offline mailboxes.
var _ chat.Mailbox = (*jsmail.Store)(nil)

// syncAlways makes the embedded server fsync every write before it
// acknowledges it; the tests that claim durability need it (the default
// is an fsync every 2 minutes).
const syncAlways = true

// runServer starts an embedded NATS server with JetStream on dir, on a
// random loopback port, and shuts it down when the test ends.
func runServer(tb testing.TB, dir string, sync bool) *server.Server {
	tb.Helper()
	srv, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: dir,
		SyncAlways: sync, NoLog: true, NoSigs: true,
	})
	if err != nil {
		tb.Fatalf("nats server: %v", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		tb.Fatal("nats server not ready within 10s")
	}
	tb.Cleanup(func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	})
	return srv
}

// connect opens a client connection to srv, closed when the test ends.
func connect(tb testing.TB, srv *server.Server) jetstream.JetStream {
	tb.Helper()
	nc, err := nats.Connect(srv.ClientURL(), nats.MaxReconnects(0))
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatalf("jetstream: %v", err)
	}
	return js
}

// openJS opens a Store on js, closed when the test ends.
func openJS(tb testing.TB, js jetstream.JetStream, cfg jsmail.Config, opts ...jsmail.Option) *jsmail.Store {
	tb.Helper()
	var log *zap.Logger = zap.NewNop()
	if t, ok := tb.(*testing.T); ok {
		log = zaptest.NewLogger(t)
	}
	s, err := jsmail.Open(js, cfg, log, opts...)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// newJS starts a server and opens a Store on it with a synced store.
func newJS(tb testing.TB, cfg jsmail.Config, opts ...jsmail.Option) *jsmail.Store {
	tb.Helper()
	return openJS(tb, connect(tb, runServer(tb, tb.TempDir(), syncAlways)), cfg, opts...)
}

// clock is a settable time source for WithClock.
type clock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().Truncate(time.Millisecond)} }

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

func data(id uint64) []byte { return fmt.Appendf(nil, "message %d", id) }

func mustPut(tb testing.TB, s chat.Mailbox, user string, ids ...uint64) {
	tb.Helper()
	for _, id := range ids {
		if err := s.Put(user, mailbox.Entry{ID: id, Sender: "s", Data: data(id)}); err != nil {
			tb.Fatalf("Put(%q, %d): %v", user, id, err)
		}
	}
}

// page loads one page and returns its IDs.
func page(tb testing.TB, s chat.Mailbox, user string, after uint64, maxEntries, maxBytes int, now time.Time) []uint64 {
	tb.Helper()
	es, err := s.LoadPage(user, after, maxEntries, maxBytes, now)
	if err != nil {
		tb.Fatalf("LoadPage(%q, %d): %v", user, after, err)
	}
	ids := make([]uint64, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	return ids
}

// all loads user's whole mailbox.
func all(tb testing.TB, s chat.Mailbox, user string, now time.Time) []uint64 {
	tb.Helper()
	return page(tb, s, user, 0, 0, 0, now)
}

func ack(tb testing.TB, s chat.Mailbox, user string, upTo uint64, want int) {
	tb.Helper()
	n, err := s.Ack(user, upTo)
	if err != nil || n != want {
		tb.Fatalf("Ack(%q, %d) = %d, %v; want %d", user, upTo, n, err, want)
	}
}

func seq(from, to uint64) []uint64 {
	var ids []uint64
	for id := from; id <= to; id++ {
		ids = append(ids, id)
	}
	return ids
}
