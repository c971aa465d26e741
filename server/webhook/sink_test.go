package webhook

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap/zaptest"

	"github.com/chatd/chatd/server/wire"
)

// TestDeliversSignedInOrder: events emitted from several goroutines all
// arrive once, signed, each body in id order and the bodies in order.
func TestDeliversSignedInOrder(t *testing.T) {
	r := newReceiver(t, "s3cret", always(answerOK))
	s := newSink(t, r, Config{Secret: "s3cret", BatchEvents: 7})
	const writers, each = 5, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				s.Emit(ev(w*each + i))
			}
		})
	}
	wg.Wait()
	got := r.waitEvents(t, writers*each, 10*time.Second)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.badSig != 0 {
		t.Errorf("%d bodies with a bad signature", r.badSig)
	}
	if len(r.events) != len(got) {
		t.Errorf("%d events received, %d distinct: duplicates from a healthy receiver", len(r.events), len(got))
	}
	ids := make([]uint64, len(r.events))
	for i, e := range r.events {
		ids[i] = e.ID
		if e.Time == 0 || e.Type != wire.EventJoin {
			t.Fatalf("event %+v: want a time and type join", e)
		}
	}
	if !slices.IsSorted(ids) {
		t.Errorf("ids not increasing in arrival order: %v", ids)
	}
	for _, b := range r.batches {
		if len(b) > 7 {
			t.Errorf("a body of %d events, want at most batch_events 7", len(b))
		}
	}
}

// TestFailingHangingRecovering: the receiver fails (500), then hangs past
// the timeout, then recovers: every event arrives at least once, with its
// signature, and the failures were counted.
func TestFailingHangingRecovering(t *testing.T) {
	answer := func(n int) int {
		switch {
		case n <= 3:
			return answerFail
		case n <= 5:
			return answerHang
		}
		return answerOK
	}
	r := newReceiver(t, "k", answer)
	s := newSink(t, r, Config{Secret: "k", Timeout: 100 * time.Millisecond, RetryMin: 10 * time.Millisecond,
		RetryMax: 40 * time.Millisecond, BatchEvents: 5})
	const n = 60
	for i := range n {
		s.Emit(ev(i))
		if i%10 == 0 {
			time.Sleep(20 * time.Millisecond) // some events come during the failures
		}
	}
	got := r.waitEvents(t, n, 10*time.Second)
	if len(got) != n {
		t.Fatalf("%d distinct events, want %d", len(got), n)
	}
	st := s.Stats()
	if st.Failures < 5 || st.Dropped != 0 {
		t.Errorf("stats %+v: want at least 5 failures (3 x 500, 2 timeouts) and nothing dropped", st)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.badSig != 0 {
		t.Errorf("%d bad signatures", r.badSig)
	}
}

// TestQueueFullDropsWithoutBlocking: with the receiver stuck, events past
// queue_events are dropped and counted, and Emit never waits.
func TestQueueFullDropsWithoutBlocking(t *testing.T) {
	release := make(chan struct{})
	r := newReceiver(t, "", func(int) int { <-release; return answerOK })
	s := newSink(t, r, Config{QueueEvents: 10, Timeout: 10 * time.Second})
	start := time.Now()
	for i := range 1000 {
		s.Emit(ev(i))
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("1000 Emits with the receiver stuck took %v", d)
	}
	if st := s.Stats(); st.Dropped != 990 || st.Queued != 10 {
		t.Errorf("stats %+v: want 990 dropped, 10 queued", st)
	}
	close(release)
	r.waitEvents(t, 10, 10*time.Second)
}

// TestQueueBytesBound: the byte bound drops too.
func TestQueueBytesBound(t *testing.T) {
	release := make(chan struct{})
	r := newReceiver(t, "", func(int) int { <-release; return answerOK })
	s := newSink(t, r, Config{QueueBytes: 1024, Timeout: 10 * time.Second})
	big := wire.Event{Type: wire.EventStored, User: strings.Repeat("u", 300)}
	for range 10 {
		s.Emit(big)
	}
	st := s.Stats()
	if want := 1024 / size(big); st.Queued != want || st.Dropped != uint64(10-want) {
		t.Errorf("stats %+v: want %d queued, the rest dropped", st, want)
	}
	close(release)
}

// TestCloseFlushes: Close sends what is queued before it returns.
func TestCloseFlushes(t *testing.T) {
	r := newReceiver(t, "", always(answerOK))
	s := newSink(t, r, Config{BatchEvents: 10})
	for i := range 100 {
		s.Emit(ev(i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := len(r.distinct()); got != 100 {
		t.Fatalf("%d events delivered by Close, want 100", got)
	}
	s.Emit(ev(0))
	if st := s.Stats(); st.Dropped != 1 {
		t.Errorf("an Emit after Close: stats %+v, want 1 dropped", st)
	}
}

// TestCloseLosesWithoutDurable: with the receiver down and no durable
// store, Close returns at its deadline and says how many were lost.
func TestCloseLosesWithoutDurable(t *testing.T) {
	r := newReceiver(t, "", always(answerFail))
	s := newSink(t, r, Config{RetryMin: 5 * time.Millisecond, RetryMax: 10 * time.Millisecond})
	for i := range 3 {
		s.Emit(ev(i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Close(ctx)
	if err == nil || !strings.Contains(err.Error(), "3 events not delivered") {
		t.Fatalf("Close: %v, want 3 events not delivered", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v past a 100ms deadline", d)
	}
}

// TestClosePersistsAndResends: with durable on, what the receiver did not
// take by the deadline is kept and sent after the next start, with the
// same ids; new events get larger ids.
func TestClosePersistsAndResends(t *testing.T) {
	dir := t.TempDir()
	r, setUp := newSwitchedReceiver(t, false)
	cfg := Config{URL: r.srv.URL, Durable: true, Dir: dir, RetryMin: 5 * time.Millisecond, RetryMax: 10 * time.Millisecond}
	s, err := New(cfg, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		s.Emit(ev(i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
		t.Fatal(err)
	}
	setUp(true)
	s2 := newSink(t, r, cfg)
	old := r.waitEvents(t, 20, 10*time.Second)
	var top uint64
	for id := range old {
		top = max(top, id)
	}
	s2.Emit(ev(99))
	got := r.waitEvents(t, 21, 10*time.Second)
	for id := range got {
		if _, seen := old[id]; !seen && id <= top {
			t.Errorf("new event id %d not above the kept ones (max %d)", id, top)
		}
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	if err := s2.Close(ctx2); err != nil {
		t.Fatal(err)
	}
	// Everything was delivered: a third start sends nothing again.
	s3 := newSink(t, r, cfg)
	if st := s3.Stats(); st.Queued != 0 {
		t.Errorf("third start queued %d events, want 0 (all delivered)", st.Queued)
	}
}

func TestBackoff(t *testing.T) {
	lo, hi := 100*time.Millisecond, time.Second
	for failed, want := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		want *= time.Millisecond
		for range 50 {
			if d := backoff(lo, hi, failed); d < want/2 || d > want {
				t.Fatalf("backoff after %d failures = %v, want %v to %v", failed, d, want/2, want)
			}
		}
	}
	if d := backoff(lo, hi, 1000); d < hi/2 || d > hi {
		t.Fatalf("backoff after 1000 failures = %v", d)
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"events":[]}`)
	sig := Sign([]byte("k"), body)
	cases := []struct {
		name   string
		secret string
		body   string
		header string
		want   bool
	}{
		{"good", "k", string(body), sig, true},
		{"other secret", "j", string(body), sig, false},
		{"other body", "k", `{"events":[{}]}`, sig, false},
		{"no prefix", "k", string(body), strings.TrimPrefix(sig, "sha256="), false},
		{"not hex", "k", string(body), "sha256=zz", false},
		{"empty", "k", string(body), "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Verify([]byte(tc.secret), []byte(tc.body), tc.header); got != tc.want {
				t.Fatalf("Verify = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	ok := Default()
	ok.URL = "https://backend.example.com/events"
	cases := []struct {
		name string
		edit func(*Config)
		want string // "" valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"off", func(c *Config) { c.URL = "" }, ""},
		{"ftp", func(c *Config) { c.URL = "ftp://x/y" }, "webhooks.url"},
		{"no host", func(c *Config) { c.URL = "http:///x" }, "webhooks.url"},
		{"timeout", func(c *Config) { c.Timeout = 0 }, "webhooks.timeout"},
		{"batch", func(c *Config) { c.BatchEvents = 0 }, "webhooks.batch_events"},
		{"no batch wait", func(c *Config) { c.BatchWait = 0 }, ""},
		{"batch wait", func(c *Config) { c.BatchWait = -time.Second }, "webhooks.batch_wait"},
		{"queue events", func(c *Config) { c.QueueEvents = 0 }, "webhooks.queue_events"},
		{"queue bytes", func(c *Config) { c.QueueBytes = 10 }, "webhooks.queue_bytes"},
		{"retry order", func(c *Config) { c.RetryMax = c.RetryMin / 2 }, "webhooks.retry_max"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Validate: %v, want an error naming %s", err, tc.want)
			}
		})
	}
}

func TestNewSecretFile(t *testing.T) {
	r := newReceiver(t, "from-file", always(answerOK))
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newSink(t, r, Config{SecretFile: path})
	s.Emit(ev(1))
	r.waitEvents(t, 1, 5*time.Second)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.badSig != 0 {
		t.Fatal("signature from the secret file does not verify")
	}
	if _, err := New(Config{}, zaptest.NewLogger(t)); err == nil {
		t.Error("New without a URL: no error")
	}
	if _, err := New(Config{URL: "http://127.0.0.1:1/", SecretFile: filepath.Join(t.TempDir(), "none")}, zaptest.NewLogger(t)); err == nil {
		t.Error("New with a missing secret file: no error")
	}
	if _, err := New(Config{URL: "http://127.0.0.1:1/", Secret: "a", SecretFile: path}, zaptest.NewLogger(t)); err == nil ||
		!strings.Contains(err.Error(), "not both") {
		t.Errorf("New with secret and secret_file: %v, want an error", err)
	}
}

// BenchmarkEmit is the cost an event adds to the chat path that emits it
// (a login, a join): queueing only, the POSTs run on the worker.
func BenchmarkEmit(b *testing.B) {
	r := &receiver{answer: always(answerOK)}
	srv := newBenchServer(b, r)
	s, err := New(Config{URL: srv, QueueEvents: 10_000_000, QueueBytes: 1 << 30, BatchEvents: 1000}, zaptest.NewLogger(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close(context.Background())
	e := wire.Event{Type: wire.EventLogin, User: "alice", Conn: 7}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s.Emit(e)
	}
}

// BenchmarkDeliver measures events per second through a local receiver
// (batches of 100, one POST in flight).
func BenchmarkDeliver(b *testing.B) {
	r := &receiver{answer: always(answerOK)}
	srv := newBenchServer(b, r)
	s, err := New(Config{URL: srv, QueueEvents: 10_000_000, QueueBytes: 1 << 30}, zaptest.NewLogger(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close(context.Background())
	e := wire.Event{Type: wire.EventLogin, User: "alice", Conn: 7}
	start := time.Now()
	for range b.N {
		s.Emit(e)
	}
	for s.Stats().Delivered < uint64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

func newBenchServer(b *testing.B, r *receiver) string {
	b.Helper()
	srv := newHTTPTestServer(r)
	b.Cleanup(srv.Close)
	return srv.URL
}

// crash stops s the way a kill -9 leaves its file: the worker and the
// persist goroutine stop, and nothing is saved at the end.
func crash(s *Sink) {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	<-s.done
	close(s.stopPersist)
	<-s.persistDone
	s.transport.CloseIdleConnections()
	_ = s.store.close()
}

// TestDurableSurvivesCrash: with durable on, events queued more than a
// persist round before a crash are sent after the restart, and events
// delivered before it are not sent again.
func TestDurableSurvivesCrash(t *testing.T) {
	dir := t.TempDir()
	r, setUp := newSwitchedReceiver(t, true)
	cfg := Config{URL: r.srv.URL, Durable: true, Dir: dir, RetryMin: 5 * time.Millisecond, RetryMax: 10 * time.Millisecond}
	s, err := New(cfg, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		s.Emit(ev(i)) // delivered before the crash
	}
	r.waitEvents(t, 5, 5*time.Second)
	setUp(false)
	for i := range 10 {
		s.Emit(ev(100 + i)) // not delivered before the crash
	}
	// The file holds exactly the 10 undelivered events once a round has
	// added them and deleted the delivered ones.
	inFile := func() int {
		n := 0
		_ = s.store.db.View(func(tx *bolt.Tx) error {
			n = tx.Bucket(bucketEvents).Stats().KeyN
			return nil
		})
		return n
	}
	for deadline := time.Now().Add(5 * time.Second); inFile() != 10; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the file holds %d events after 5s, want 10", inFile())
		}
	}
	crash(s)

	setUp(true)
	newSink(t, r, cfg)
	r.waitEvents(t, 15, 5*time.Second)
	// Each of the 5 delivered before the crash came once. (The 10 may come
	// twice: a POST the crash cut off can still reach the handler after
	// the receiver came back up, as a real receiver may process a request
	// whose sender gave up.)
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[uint64]int{}
	for _, e := range r.events {
		seen[e.ID]++
	}
	for _, e := range r.events[:5] {
		if seen[e.ID] != 1 {
			t.Errorf("event %d, delivered before the crash, came %d times; bodies %v", e.ID, seen[e.ID], r.batches)
		}
	}
}

// TestBatchWaitGathers: events emitted close together share a POST when
// batch_wait lets them gather; a full batch goes at once. No wall clock:
// the full batch is judged under a batch_wait of a minute, which it could
// only have waited out by failing the 10-s wait.
func TestBatchWaitGathers(t *testing.T) {
	full := newReceiver(t, "", always(answerOK))
	s := newSink(t, full, Config{BatchWait: time.Minute, BatchEvents: 10})
	for i := range 10 {
		s.Emit(ev(i)) // a full batch: sent without waiting out batch_wait
	}
	full.waitEvents(t, 10, 10*time.Second)

	r := newReceiver(t, "", always(answerOK))
	s = newSink(t, r, Config{BatchWait: 200 * time.Millisecond, BatchEvents: 10})
	for i := range 5 {
		s.Emit(ev(10 + i))
	}
	r.waitEvents(t, 5, 5*time.Second)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.batches) != 1 {
		t.Errorf("bodies %v, want 1: the 5 events gathered", r.batches)
	}
}

// newSwitchedReceiver is a receiver that answers 200 while up and fails
// otherwise; setUp switches it.
func newSwitchedReceiver(t *testing.T, up bool) (r *receiver, setUp func(bool)) {
	var mu sync.Mutex
	r = newReceiver(t, "", func(int) int {
		mu.Lock()
		defer mu.Unlock()
		if up {
			return answerOK
		}
		return answerFail
	})
	return r, func(v bool) {
		mu.Lock()
		up = v
		mu.Unlock()
	}
}
