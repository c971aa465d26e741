package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/chatd/chatd/server/wire"
)

// logEvery is the least time between two log lines of one kind (failed
// deliveries, dropped events).
const logEvery = 10 * time.Second

// persistEvery is how often a durable Sink writes its new events and
// forgets its delivered ones in the file.
const persistEvery = 100 * time.Millisecond

// maxAnswerBytes is how much of an answer's body is read (and thrown
// away) so its connection can be used again.
const maxAnswerBytes = 64 << 10

// Sink queues chat events and POSTs them to Config.URL on one goroutine.
// Emit is safe for concurrent use and never blocks; Close is called once,
// after the last Emit that matters (later ones are dropped and counted).
type Sink struct {
	cfg       Config
	log       *zap.Logger
	secret    []byte // nil: bodies are not signed
	transport *http.Transport
	client    *http.Client
	store     *store // nil unless Config.Durable

	mu     sync.Mutex // guards the fields below; held for O(1) work only
	queue  []item     // queue[head:] waits, oldest first; the worker's batch is its front
	head   int
	bytes  int    // estimated JSON bytes of queue[head:]
	lastID uint64 // the last id given
	closed bool   // Close has begun: Emit drops
	// With a store: every queued event up to persisted is in the file;
	// every event up to delivered was answered 2xx (ids are delivered in
	// order).
	persisted uint64
	delivered uint64

	wake        chan struct{} // capacity 1: there may be events to send
	closing     chan struct{} // closed by Close: send what is left, then stop
	ctx         context.Context
	cancel      context.CancelFunc // at Close's deadline: abort the POST and the retries
	done        chan struct{}      // closed when the worker has returned
	stopPersist chan struct{}      // closed by Close, after the worker returned
	persistDone chan struct{}      // closed when the persist goroutine has returned

	sent     atomic.Uint64 // events answered 2xx
	dropped  atomic.Uint64 // events refused (queue full, closed) or lost at Close
	failures atomic.Uint64 // POSTs that failed
	dropLog  logLimit
	failLog  logLimit
}

// item is one queued event and its estimated size.
type item struct {
	ev   wire.Event
	size int
}

// Stats are a Sink's counters.
type Stats struct {
	Queued    int    // events waiting, the POST in flight included
	Delivered uint64 // events a POST answered 2xx carried
	Dropped   uint64 // events not queued (queue full, or after Close) or lost at Close
	Failures  uint64 // failed POSTs (network error, timeout, non-2xx)
}

// New starts a Sink for cfg, which must have a URL. With cfg.Durable it
// opens Dir/webhooks.db and queues the events a previous Close kept there,
// ahead of any new one.
func New(cfg Config, log *zap.Logger) (*Sink, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid webhooks config:\n%w", err)
	}
	if cfg.URL == "" {
		return nil, errors.New("webhooks.url: not set")
	}
	s := &Sink{
		cfg:     cfg,
		log:     log,
		wake:    make(chan struct{}, 1),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
	}
	switch {
	case cfg.Secret != "" && cfg.SecretFile != "":
		return nil, errors.New("webhooks.secret and webhooks.secret_file: set one, not both")
	case cfg.SecretFile != "":
		b, err := os.ReadFile(cfg.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("webhooks.secret_file: %w", err)
		}
		if s.secret = []byte(strings.TrimSpace(string(b))); len(s.secret) == 0 {
			return nil, fmt.Errorf("webhooks.secret_file %s: empty", cfg.SecretFile)
		}
	case cfg.Secret != "":
		s.secret = []byte(cfg.Secret)
	}
	if cfg.Durable {
		st, err := openStore(cfg.Dir)
		if err != nil {
			return nil, err
		}
		evs, err := st.load()
		if err != nil {
			st.close()
			return nil, fmt.Errorf("webhooks store: %w", err)
		}
		s.store = st
		s.stopPersist, s.persistDone = make(chan struct{}), make(chan struct{})
		for _, e := range evs {
			s.lastID = max(s.lastID, e.ID)
			if n := size(e); len(s.queue) < cfg.QueueEvents && s.bytes+n <= cfg.QueueBytes {
				s.queue = append(s.queue, item{ev: e, size: n})
				s.bytes += n
			} else {
				s.dropped.Add(1)
			}
		}
		s.persisted = s.lastID
		if len(evs) > 0 {
			log.Info("webhooks: events kept at the last shutdown", zap.Int("queued", len(s.queue)),
				zap.Int("dropped", len(evs)-len(s.queue)))
		}
	}
	s.transport = http.DefaultTransport.(*http.Transport).Clone()
	s.client = &http.Client{
		Transport: s.transport,
		// A redirect is an answer that is not 2xx: retried, not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if len(s.queue) > 0 {
		s.wake <- struct{}{} // the loaded events
	}
	go s.run()
	if s.store != nil {
		go s.persist()
	}
	return s, nil
}

// Emit queues e without blocking, setting its ID and, when zero, its Time
// to now. When the queue is full (Config.QueueEvents, QueueBytes) or the
// Sink is closing, e is dropped and counted.
func (s *Sink) Emit(e wire.Event) {
	now := time.Now()
	if e.Time == 0 {
		e.Time = now.UnixMilli()
	}
	n := size(e)
	s.mu.Lock()
	if s.closed || len(s.queue)-s.head >= s.cfg.QueueEvents || s.bytes+n > s.cfg.QueueBytes {
		s.mu.Unlock()
		s.drop(1)
		return
	}
	s.lastID = max(s.lastID+1, uint64(now.UnixMilli())*1000)
	e.ID = s.lastID
	s.queue = append(s.queue, item{ev: e, size: n})
	s.bytes += n
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// size estimates e's JSON size: the fields of unbounded length plus the
// rest, at most.
func size(e wire.Event) int {
	return 160 + len(e.Type) + len(e.User) + len(e.Room) + len(e.Sender)
}

func (s *Sink) drop(n int) {
	total := s.dropped.Add(uint64(n))
	if s.dropLog.allow() {
		s.log.Warn("webhooks: queue full, events dropped", zap.Uint64("dropped_total", total),
			zap.Int("queue_events", s.cfg.QueueEvents), zap.Int("queue_bytes", s.cfg.QueueBytes))
	}
}

// Stats returns the counters.
func (s *Sink) Stats() Stats {
	s.mu.Lock()
	q := len(s.queue) - s.head
	s.mu.Unlock()
	return Stats{Queued: q, Delivered: s.sent.Load(), Dropped: s.dropped.Load(), Failures: s.failures.Load()}
}

// Close stops taking events and sends those queued until ctx is done;
// then it aborts the POST in flight and, with Config.Durable, writes the
// undelivered events to the file (otherwise it counts them as dropped and
// returns an error saying how many). The worker has returned when Close
// returns; give ctx a deadline, or Close waits as long as the receiver
// fails. Later calls do nothing.
func (s *Sink) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.closing)
	select {
	case <-s.done:
	case <-ctx.Done():
		s.cancel()
		<-s.done
	}
	s.cancel()
	s.transport.CloseIdleConnections()
	if s.store != nil {
		close(s.stopPersist)
		<-s.persistDone
	}
	left := s.pending()
	st := s.Stats()
	s.log.Info("webhooks stopped", zap.Uint64("delivered", st.Delivered), zap.Uint64("dropped", st.Dropped),
		zap.Uint64("failures", st.Failures), zap.Int("undelivered", len(left)))
	if s.store != nil {
		err := errors.Join(s.store.save(left), s.store.close())
		if err != nil {
			s.dropped.Add(uint64(len(left)))
			return fmt.Errorf("webhooks: keeping %d undelivered events: %w", len(left), err)
		}
		return nil
	}
	if len(left) > 0 {
		s.dropped.Add(uint64(len(left)))
		return fmt.Errorf("webhooks: %d events not delivered by the shutdown deadline", len(left))
	}
	return nil
}

// pending copies the events still queued.
func (s *Sink) pending() []wire.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]wire.Event, 0, len(s.queue)-s.head)
	for _, it := range s.queue[s.head:] {
		out = append(out, it.ev)
	}
	return out
}

// run is the worker: it POSTs the front of the queue, at most
// Config.BatchEvents events, and removes them once answered 2xx; a failed
// POST is sent again, with the same events and any queued since up to the
// batch size, after a backoff. It returns when the queue is empty after
// Close began, or at Close's deadline.
func (s *Sink) run() {
	defer close(s.done)
	var batch []wire.Event
	failed := 0 // consecutive failed POSTs
	for {
		batch = s.peek(batch[:0])
		if len(batch) == 0 {
			select {
			case <-s.wake:
				continue
			case <-s.closing:
				if batch = s.peek(batch[:0]); len(batch) == 0 {
					return // nothing is queued after closed is set
				}
			case <-s.ctx.Done():
				return
			}
		}
		if failed == 0 {
			if batch = s.gather(batch); batch == nil {
				return
			}
		}
		err := s.post(batch)
		if err == nil {
			s.remove(len(batch))
			s.sent.Add(uint64(len(batch)))
			failed = 0
			continue
		}
		if s.ctx.Err() != nil {
			return
		}
		s.failures.Add(1)
		wait := backoff(s.cfg.RetryMin, s.cfg.RetryMax, failed)
		failed++
		if s.failLog.allow() {
			s.log.Warn("webhooks: delivery failed, will retry", zap.Error(err), zap.Int("events", len(batch)),
				zap.Int("consecutive_failures", failed), zap.Duration("retry_in", wait))
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			return
		}
	}
}

// gather waits up to Config.BatchWait for batch (not empty) to fill to
// Config.BatchEvents, so that events coming close together share one
// POST, and returns it as queued then; it returns at once when Close has
// begun, and nil at Close's deadline.
func (s *Sink) gather(batch []wire.Event) []wire.Event {
	if s.cfg.BatchWait <= 0 || len(batch) >= s.cfg.BatchEvents {
		return batch
	}
	t := time.NewTimer(s.cfg.BatchWait)
	defer t.Stop()
	for len(batch) < s.cfg.BatchEvents {
		select {
		case <-s.wake:
			batch = s.peek(batch[:0])
		case <-t.C:
			return s.peek(batch[:0])
		case <-s.closing:
			return s.peek(batch[:0])
		case <-s.ctx.Done():
			return nil
		}
	}
	return batch
}

// backoff is the wait after the failed-th consecutive failure (from 0):
// lo doubled that many times, at most hi, drawn from its upper half.
func backoff(lo, hi time.Duration, failed int) time.Duration {
	d := lo << min(failed, 32)
	if d > hi || d <= 0 {
		d = hi
	}
	return d/2 + rand.N(d/2+1)
}

// peek appends the front of the queue, at most Config.BatchEvents, to buf.
func (s *Sink) peek(buf []wire.Event) []wire.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	end := min(len(s.queue), s.head+s.cfg.BatchEvents)
	for _, it := range s.queue[s.head:end] {
		buf = append(buf, it.ev)
	}
	return buf
}

// remove drops the n events at the front, which the worker delivered.
func (s *Sink) remove(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := s.head; i < s.head+n; i++ {
		s.bytes -= s.queue[i].size
		s.delivered = s.queue[i].ev.ID
		s.queue[i] = item{}
	}
	s.head += n
	switch rest := len(s.queue) - s.head; {
	case rest == 0 && cap(s.queue) > 4096:
		s.queue, s.head = nil, 0 // give a burst's memory back
	case rest == 0:
		s.queue, s.head = s.queue[:0], 0
	case s.head > rest:
		copy(s.queue, s.queue[s.head:])
		clear(s.queue[rest:])
		s.queue, s.head = s.queue[:rest], 0
	}
}

// post sends one batch and reports whether it was answered 2xx in time.
func (s *Sink) post(batch []wire.Event) error {
	body, err := json.Marshal(wire.Events{Events: batch})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "chatd-webhooks")
	if s.secret != nil {
		req.Header.Set(SignatureHeader, Sign(s.secret, body))
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswerBytes))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("answer %s", resp.Status)
	}
	return nil
}

// logLimit lets one log line through per logEvery. Safe for concurrent use.
type logLimit struct{ last atomic.Int64 }

func (l *logLimit) allow() bool {
	now := time.Now().UnixNano()
	last := l.last.Load()
	return now-last >= int64(logEvery) && l.last.CompareAndSwap(last, now)
}

// persist is a durable Sink's writer: every persistEvery it adds the
// events queued since the last round to the file and deletes those
// delivered since, in one fsynced transaction, until Close. A failed write
// is logged (rate-limited) and retried next round.
func (s *Sink) persist() {
	defer close(s.persistDone)
	t := time.NewTicker(persistEvery)
	defer t.Stop()
	var fresh []wire.Event
	var wrote uint64 // delivered, as of the last round
	var failLog logLimit
	for {
		select {
		case <-s.stopPersist:
			return
		case <-t.C:
		}
		fresh = fresh[:0]
		s.mu.Lock()
		for i := len(s.queue) - 1; i >= s.head && s.queue[i].ev.ID > s.persisted; i-- {
			fresh = append(fresh, s.queue[i].ev)
		}
		delivered := s.delivered
		s.mu.Unlock()
		if len(fresh) == 0 && delivered == wrote {
			continue
		}
		if err := s.store.sync(fresh, delivered); err != nil {
			if failLog.allow() {
				s.log.Error("webhooks: writing the durable queue", zap.Error(err))
			}
			continue
		}
		wrote = delivered
		if len(fresh) > 0 {
			s.mu.Lock()
			s.persisted = max(s.persisted, fresh[0].ID)
			s.mu.Unlock()
		}
	}
}
