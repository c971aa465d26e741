package mailbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatd/chatd/server/internal/boltfile"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
	"go.uber.org/zap"
)

var (
	// ErrFull means the user's mailbox already holds Config.MaxMessages
	// unexpired messages, or the entry would take it over Config.MaxBytes.
	// Nothing was written; the sender must be told.
	ErrFull = errors.New("mailbox: recipient's mailbox is full")
	// ErrSenderQuota means the entry would take the sender's messages in
	// this mailbox over Config.MaxBytesPerSender. Nothing was written; the
	// sender must wait until the recipient has read some.
	ErrSenderQuota = errors.New("mailbox: you have too much mail waiting for this recipient")
	// ErrStoreFull means the entry would take the whole store over
	// Config.MaxTotalBytes. Nothing was written.
	ErrStoreFull = errors.New("mailbox: offline message store is full")
	// ErrLocked means another Store, in this process or another, has the
	// file open. Open gives up after a short wait rather than blocking.
	ErrLocked = errors.New("mailbox: store file is in use")
	// ErrClosed is returned by every method called after Close.
	ErrClosed = errors.New("mailbox: store is closed")
	// ErrBadUser is returned for an empty user name or one longer than
	// MaxUserBytes.
	ErrBadUser = errors.New("mailbox: invalid user name")
)

// MaxUserBytes is the longest user name the store accepts (bbolt's key
// limit).
const MaxUserBytes = bolt.MaxKeySize

// MaxSenderBytes is the longest Entry.Sender the store accepts; a longer
// one is refused with ErrBadUser. (The sender's usage record is keyed by a
// one-byte prefix and the name, so an empty Sender has a key too.)
const MaxSenderBytes = MaxUserBytes - 1

const (
	// schemaVersion is written to meta/version when the file is created.
	// Schema 1 had no sender in the values and no usage counters; Open
	// migrates it (see rebuild).
	schemaVersion = "2"
	// defaultLockTimeout bounds the wait for the file lock in Open.
	defaultLockTimeout = time.Second
	// pruneChunk is how many users Prune cleans per write transaction, so
	// the janitor never holds the writer lock for long.
	pruneChunk = 256
)

var (
	metaBucket  = []byte("meta")
	usersBucket = []byte("users")
	usageBucket = []byte("usage")
	seenBucket  = []byte("seen")
	versionKey  = []byte("version")
	bytesKey    = []byte("bytes")
	rebuildKey  = []byte("rebuild")
)

// Option adjusts a code seam of the Store (the clock); operator
// knobs live in Config.
type Option func(*options)

type options struct {
	now         func() time.Time
	lockTimeout time.Duration
	boltBatch   bool
}

// WithClock replaces time.Now, which stamps entries whose Stored is zero
// and decides which entries are expired when a mailbox is full.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// withBoltBatch makes writes go through bbolt's db.Batch instead of the
// Store's group commit. It exists only so BenchmarkPut can show why.
func withBoltBatch() Option { return func(o *options) { o.boltBatch = true } }

// Stats are cumulative counters since Open, except Bytes.
type Stats struct {
	Stored   uint64 // Puts that returned nil (a replaced ID counts again)
	Rejected uint64 // Puts refused by a bound: the sum of the four below
	Acked    uint64 // entries removed by Ack
	Expired  uint64 // entries dropped because they were older than MaxAge
	Commits  uint64 // write transactions (fsyncs) that carried Puts, Acks and cleanups

	RejectedMessages uint64 // ErrFull: the mailbox held MaxMessages entries
	RejectedBytes    uint64 // ErrFull: the mailbox would exceed MaxBytes
	RejectedSender   uint64 // ErrSenderQuota: MaxBytesPerSender
	RejectedStore    uint64 // ErrStoreFull: MaxTotalBytes

	SeenPruned uint64 // last-seen records Prune deleted as older than SeenMaxAge

	// Bytes is the store's current total of Data bytes, as of the last
	// write transaction; it may trail writes still in flight.
	Bytes uint64
}

// Store is the durable offline mailbox, one bbolt file. All methods are safe
// for concurrent use: reads run in parallel on bbolt read transactions, and
// writes (Put, Ack, SetSeen, expiry cleanups) are group-committed by the
// Store's one goroutine, which Open starts and Close stops. Every method
// blocks on disk, so call them off the actors, on a worker pool.
// Operations on one user are not ordered against each other unless the
// caller orders them (chatd serialises them per user).
//
// Layout (schema 2, meta/version "2"):
//
//	meta/version              "2"
//	meta/bytes                8-byte big-endian: bytes of Data in the store
//	meta/rebuild              only while Open rebuilds the counters (see rebuild)
//	users/<user>/<id>         one entry: the 8-byte big-endian ID is the key, so
//	                          a cursor walks a mailbox in ID order; the value is
//	                          the stored time, the sender and Data (value.go)
//	users/<user>.Sequence     the mailbox's entry count
//	usage/<user>.Sequence     the mailbox's bytes of Data
//	usage/<user>/'s'+<sender> 8-byte big-endian: bytes of Data from sender
//	seen/<user>               8-byte big-endian Unix nanoseconds: last seen
//
// Every counter is updated in the same transaction as the entries it
// counts, so Count, the bounds and Stats.Bytes are O(1) and exact. A user's
// users and usage buckets exist only while the mailbox has an entry; a
// sender's record only while it is above 0.
type Store struct {
	db   *bolt.DB
	cfg  Config
	log  *zap.Logger
	now  func() time.Time
	path string

	reqs    chan *request // writes for run; unbuffered
	quit    chan struct{} // closed by Close: run stops, write refuses
	stopped chan struct{} // closed by run when it returns

	boltBatch bool // withBoltBatch: write uses db.Batch, run idles

	closeOnce sync.Once
	closeErr  error // written once inside closeOnce

	stored, acked, expired, commits atomic.Uint64
	rejected                        [overStore + 1]atomic.Uint64 // by rejection; [accepted] unused
	seenPruned                      atomic.Uint64
	bytes                           atomic.Int64 // meta/bytes: set by Open, then moved by each write's change
}

// Open opens or creates Dir/mailbox.db. Zero Config fields take their
// defaults. If another Store holds the file, Open fails within about a
// second with an error that wraps ErrLocked.
func Open(cfg Config, log *zap.Logger, opts ...Option) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	o := options{now: time.Now, lockTimeout: defaultLockTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	db, path, created, err := boltfile.Open(cfg.Dir, FileName, o.lockTimeout)
	var locked *boltfile.LockError
	switch {
	case errors.As(err, &locked):
		return nil, fmt.Errorf("%w: %v", ErrLocked, locked)
	case err != nil:
		return nil, fmt.Errorf("mailbox: %w", err)
	}
	db.MaxBatchDelay = boltBatchDelay
	total, err := initSchema(db, log)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("mailbox: %s: %w", path, err)
	}
	if created {
		// bbolt fsyncs the file but not the directory entry naming it.
		if err := syncDir(cfg.Dir); err != nil {
			db.Close()
			return nil, fmt.Errorf("mailbox: sync dir: %w", err)
		}
	}
	log.Info("store opened", zap.String("path", path), zap.Bool("created", created),
		zap.Int("max_messages", cfg.MaxMessages), zap.Int64("max_bytes", cfg.MaxBytes),
		zap.Int64("max_bytes_per_sender", cfg.MaxBytesPerSender), zap.Int64("max_total_bytes", cfg.MaxTotalBytes),
		zap.Uint64("bytes", total), zap.Duration("max_age", cfg.MaxAge), zap.Duration("seen_max_age", cfg.SeenMaxAge))
	s := &Store{
		db: db, cfg: cfg, log: log, now: o.now, path: path,
		reqs: make(chan *request), quit: make(chan struct{}), stopped: make(chan struct{}),
		boltBatch: o.boltBatch,
	}
	s.bytes.Store(int64(total))
	go s.run()
	return s, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Close stops the commit goroutine, closes the file and releases its lock.
// Writes already taken into a commit finish; others fail with ErrClosed, as
// do later calls. Close is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.quit)
		<-s.stopped
		s.closeErr = s.db.Close()
		s.log.Info("store closed", zap.String("path", s.path))
	})
	return s.closeErr
}

// Stats returns the counters since Open.
func (s *Store) Stats() Stats {
	st := Stats{
		Stored:           s.stored.Load(),
		Acked:            s.acked.Load(),
		Expired:          s.expired.Load(),
		Commits:          s.commits.Load(),
		RejectedMessages: s.rejected[overMessages].Load(),
		RejectedBytes:    s.rejected[overBytes].Load(),
		RejectedSender:   s.rejected[overSender].Load(),
		RejectedStore:    s.rejected[overStore].Load(),
		SeenPruned:       s.seenPruned.Load(),
		Bytes:            uint64(max(0, s.bytes.Load())),
	}
	st.Rejected = st.RejectedMessages + st.RejectedBytes + st.RejectedSender + st.RejectedStore
	return st
}

// Path returns the store's file.
func (s *Store) Path() string { return s.path }

// wrap adds the operation to err and maps bbolt's "not open" to ErrClosed.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrClosed) || errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return fmt.Errorf("mailbox: %s: %w", op, err)
}

func checkUser(user string) error {
	if user == "" || len(user) > MaxUserBytes {
		return fmt.Errorf("%w: %d bytes, want 1 to %d", ErrBadUser, len(user), MaxUserBytes)
	}
	return nil
}

func checkSender(sender string) error {
	if len(sender) > MaxSenderBytes {
		return fmt.Errorf("%w: sender of %d bytes, want at most %d", ErrBadUser, len(sender), MaxSenderBytes)
	}
	return nil
}

func idKey(id uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), id) }

func keyID(k []byte) uint64 { return binary.BigEndian.Uint64(k) }
