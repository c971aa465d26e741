package jsmail

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/chatd/chatd/server/mailbox"
)

// The errors are the bbolt store's, so the chat layer tells them apart the
// same way whichever store it has: mailbox.ErrFull, mailbox.ErrSenderQuota
// and mailbox.ErrStoreFull for the bounds, mailbox.ErrBadUser for a name
// out of range, mailbox.ErrClosed after Close.

// MaxUserBytes is the longest user name (and Entry.Sender) the store
// accepts. A name becomes a subject token (base64url, 4/3 as long), and a
// NATS protocol line, subject included, must fit in 4 KiB.
const MaxUserBytes = 1024

// Option adjusts a code seam of the Store (the clock); operator knobs live
// in Config.
type Option func(*options)

type options struct {
	now func() time.Time
}

// WithClock replaces time.Now, which stamps entries whose Stored is zero
// and decides which entries and last-seen records have expired.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// Stats are cumulative counters since Open.
type Stats struct {
	Stored    uint64 // Puts that returned nil
	Rejected  uint64 // Puts refused by a bound (ErrFull, ErrSenderQuota, ErrStoreFull)
	Acked     uint64 // entries removed by Ack
	Conflicts uint64 // Put attempts that lost a race with another writer and read again
}

// Store is the offline mailbox kept in JetStream: one stream for every
// user's mail, one subject per user, and one key-value bucket for
// last-seen times. It holds no per-user state except a bounded map of
// paging hints (see LoadPage). All methods are safe for concurrent use,
// from this process and from other nodes sharing the stream; every method
// waits for the NATS server, so call them off the actors, on a worker
// pool. The Store starts no goroutines and does not own the NATS
// connection: Close does not close it.
type Store struct {
	js     jetstream.JetStream
	nc     *nats.Conn
	kv     jetstream.KeyValue
	cfg    Config
	log    *zap.Logger
	now    func() time.Time
	api    string // JetStream API subject prefix, such as "$JS.API."
	stream string // cfg.StreamName()
	nonce  string // makes this Store's Nats-Msg-Ids its own (put.go)

	closed atomic.Bool

	mu    sync.Mutex      // guards hints
	hints map[string]hint // by user: where LoadPage last stopped

	stored, rejected, acked, conflicts atomic.Uint64
}

// Open creates the mail stream and the last-seen bucket, or updates their
// limits to cfg, and returns a Store using them over js. Zero Config
// fields take their defaults. Stores on several nodes may share them, as
// long as they are opened with the same Config.
func Open(js jetstream.JetStream, cfg Config, log *zap.Logger, opts ...Option) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	if _, err := js.CreateOrUpdateStream(ctx, streamConfig(cfg)); err != nil {
		return nil, fmt.Errorf("jsmail: stream %s: %w", cfg.StreamName(), err)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      cfg.SeenBucket(),
		Description: "chatd: when each user was last seen",
		History:     1,
		TTL:         cfg.SeenMaxAge,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("jsmail: bucket %s: %w", cfg.SeenBucket(), err)
	}
	var nonce [9]byte
	rand.Read(nonce[:])
	s := &Store{
		js: js, nc: js.Conn(), kv: kv, cfg: cfg, log: log, now: o.now,
		api: apiPrefix(js.Options()), stream: cfg.StreamName(),
		nonce: base64.RawURLEncoding.EncodeToString(nonce[:]),
		hints: make(map[string]hint),
	}
	log.Info("jetstream mailbox opened", zap.String("stream", s.stream), zap.String("seen_bucket", cfg.SeenBucket()),
		zap.Int("replicas", cfg.Replicas), zap.Int("max_messages", cfg.MaxMessages), zap.Int64("max_bytes", cfg.MaxBytes),
		zap.Int64("max_bytes_per_sender", cfg.MaxBytesPerSender), zap.Int64("max_total_bytes", cfg.MaxTotalBytes),
		zap.Duration("max_age", cfg.MaxAge), zap.Duration("seen_max_age", cfg.SeenMaxAge))
	return s, nil
}

// streamConfig is the mail stream: the bounds JetStream enforces by
// itself (see the package documentation) and direct gets for paging.
func streamConfig(cfg Config) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:                 cfg.StreamName(),
		Description:          "chatd: offline mailboxes, one subject per user",
		Subjects:             []string{cfg.Prefix + ".mail.>"},
		Retention:            jetstream.LimitsPolicy,
		Storage:              jetstream.FileStorage,
		Replicas:             cfg.Replicas,
		Discard:              jetstream.DiscardNew,
		DiscardNewPerSubject: true,
		MaxMsgsPerSubject:    int64(cfg.MaxMessages),
		MaxBytes:             cfg.MaxTotalBytes,
		MaxAge:               cfg.MaxAge,
		Duplicates:           min(cfg.MaxAge, 2*time.Minute), // may not exceed MaxAge
		AllowDirect:          true,
	}
}

// apiPrefix is the subject prefix of js's API requests, for the two
// requests the Store makes itself (batched direct gets and purges).
func apiPrefix(o jetstream.JetStreamOptions) string {
	switch {
	case o.Domain != "":
		return "$JS." + o.Domain + ".API."
	case o.APIPrefix != "":
		return strings.TrimSuffix(o.APIPrefix, ".") + "."
	}
	return jetstream.DefaultAPIPrefix
}

// Close makes every later call fail with mailbox.ErrClosed. Calls in
// flight finish. It does not close the NATS connection.
func (s *Store) Close() error {
	s.closed.Store(true)
	return nil
}

// Prune exists for the chat layer's janitor and does nothing: JetStream
// removes messages older than Config.MaxAge from the stream by itself (the
// stream's MaxAge), and last-seen records older than Config.SeenMaxAge
// from the bucket (its TTL), so there is nothing left to prune. It
// returns 0.
func (s *Store) Prune(time.Time) (int, error) {
	if s.closed.Load() {
		return 0, mailbox.ErrClosed
	}
	return 0, nil
}

// Stats returns the counters.
func (s *Store) Stats() Stats {
	return Stats{Stored: s.stored.Load(), Rejected: s.rejected.Load(), Acked: s.acked.Load(), Conflicts: s.conflicts.Load()}
}

// begin checks that the Store is open and user is valid, and returns the
// context bounding the call.
func (s *Store) begin(user string) (context.Context, context.CancelFunc, error) {
	if s.closed.Load() {
		return nil, nil, mailbox.ErrClosed
	}
	if err := checkName(user); err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
	return ctx, cancel, nil
}

func checkName(name string) error {
	if name == "" || len(name) > MaxUserBytes {
		return fmt.Errorf("%w: %d bytes, want 1 to %d", mailbox.ErrBadUser, len(name), MaxUserBytes)
	}
	return nil
}

// token is user as a subject token and key: base64url without padding,
// which uses only letters, digits, '-' and '_'.
func token(user string) string { return base64.RawURLEncoding.EncodeToString([]byte(user)) }

// subject is user's mailbox subject, Prefix.mail.<token>.
func (s *Store) subject(user string) string { return s.cfg.Prefix + ".mail." + token(user) }

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("jsmail: %s: %w", op, err)
}
