package mailbox

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
	"go.uber.org/zap"
)

var (
	// ErrFull means the user's mailbox already holds Config.MaxMessages
	// unexpired messages. Nothing was written; the sender must be told.
	ErrFull = errors.New("mailbox: recipient's mailbox is full")
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

const (
	// schemaVersion is written to meta/version when the file is created.
	schemaVersion = "1"
	// defaultLockTimeout bounds the wait for the file lock in Open.
	defaultLockTimeout = time.Second
	// pruneChunk is how many users Prune cleans per write transaction, so
	// the janitor never holds the writer lock for long.
	pruneChunk = 256
)

var (
	metaBucket  = []byte("meta")
	usersBucket = []byte("users")
	versionKey  = []byte("version")
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

// Stats are cumulative counters since Open.
type Stats struct {
	Stored   uint64 // Puts that returned nil (a replaced ID counts again)
	Rejected uint64 // Puts that returned ErrFull
	Acked    uint64 // entries removed by Ack
	Expired  uint64 // entries dropped because they were older than MaxAge
	Commits  uint64 // write transactions (fsyncs) that carried Puts, Acks and cleanups
}

// Store is the durable offline mailbox, one bbolt file. All methods are safe
// for concurrent use: reads run in parallel on bbolt read transactions, and
// writes (Put, Ack, expiry cleanups) are group-committed by the Store's one
// goroutine, which Open starts and Close stops. Every method blocks on
// disk, so call them off the actors, on a worker pool. Operations on one
// user are not ordered against each other unless the caller orders them
// (chatd serialises them per user).
//
// Layout: bucket "users" holds one nested bucket per user (key: the user
// name). Its keys are 8-byte big-endian entry IDs, so a cursor walks them
// in ID order; each value is the 8-byte big-endian Stored time (Unix
// nanoseconds) followed by Data. The nested bucket's sequence number is the
// user's entry count, updated in the same transaction as the entries, so
// Count and the full check are O(1). An empty user bucket is deleted.
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

	stored, rejected, acked, expired, commits atomic.Uint64
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
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("mailbox: create dir: %w", err)
	}
	path := filepath.Join(cfg.Dir, FileName)
	_, statErr := os.Stat(path)
	created := errors.Is(statErr, fs.ErrNotExist)

	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.lockTimeout})
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("%w: %s is held by another chatd process or Store (no lock after %v)", ErrLocked, path, o.lockTimeout)
	case err != nil:
		return nil, fmt.Errorf("mailbox: open %s: %w", path, err)
	}
	db.MaxBatchDelay = boltBatchDelay
	if err := initSchema(db); err != nil {
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
		zap.Int("max_messages", cfg.MaxMessages), zap.Duration("max_age", cfg.MaxAge))
	s := &Store{
		db: db, cfg: cfg, log: log, now: o.now, path: path,
		reqs: make(chan *request), quit: make(chan struct{}), stopped: make(chan struct{}),
		boltBatch: o.boltBatch,
	}
	go s.run()
	return s, nil
}

func initSchema(db *bolt.DB) error {
	return db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(metaBucket)
		if err != nil {
			return err
		}
		switch v := meta.Get(versionKey); {
		case v == nil:
			if err := meta.Put(versionKey, []byte(schemaVersion)); err != nil {
				return err
			}
		case string(v) != schemaVersion:
			return fmt.Errorf("schema version %q, this chatd reads %q", v, schemaVersion)
		}
		_, err = tx.CreateBucketIfNotExists(usersBucket)
		return err
	})
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
	return Stats{
		Stored:   s.stored.Load(),
		Rejected: s.rejected.Load(),
		Acked:    s.acked.Load(),
		Expired:  s.expired.Load(),
		Commits:  s.commits.Load(),
	}
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

func idKey(id uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), id) }

func keyID(k []byte) uint64 { return binary.BigEndian.Uint64(k) }

func encodeValue(stored time.Time, data []byte) []byte {
	v := make([]byte, 8, 8+len(data))
	binary.BigEndian.PutUint64(v, uint64(stored.UnixNano()))
	return append(v, data...)
}

// storedNanos reads the Stored time of a value; a malformed value reads as
// the oldest possible time, so it expires instead of being delivered.
func storedNanos(v []byte) int64 {
	if len(v) < 8 {
		return minNanos
	}
	return int64(binary.BigEndian.Uint64(v))
}

const minNanos = -1 << 63

// decodeEntry copies k and v out of the transaction's memory.
func decodeEntry(k, v []byte) Entry {
	e := Entry{ID: keyID(k), Stored: time.Unix(0, storedNanos(v))}
	if len(v) > 8 {
		e.Data = bytes.Clone(v[8:])
	}
	return e
}
