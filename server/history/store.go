package history

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatd/chatd/server/internal/boltfile"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
	"go.uber.org/zap"
)

// FileName is the name of the store's file inside Config.Dir.
const FileName = "history.db"

// CrashGap is how far Open moves each room's seq on from the last one
// written when the store was not closed cleanly: the seqs given to the
// messages lost with the last interval are never given again.
const CrashGap = 1 << 20

// ErrLocked means another Store, in this process or another, has the file
// open. Open gives up after a short wait rather than blocking.
var ErrLocked = errors.New("history: store file is in use")

// Config configures a Store. chatd builds it from chat.history and
// chat.mailbox.dir.
type Config struct {
	// Dir holds the store's single file, Dir/history.db. It is created
	// with mode 0700 if missing; the file with mode 0600.
	Dir string
	// FlushInterval is how long appended messages wait before they are
	// written, all together in one transaction. Default 100ms.
	FlushInterval time.Duration
	// Messages, MaxBytes (of Entry.Data) and MaxAge bound what Open loads
	// of each room: its newest messages within all three. Defaults 100,
	// 262144 and 24h.
	Messages int
	MaxBytes int
	MaxAge   time.Duration
}

func (c Config) withDefaults() Config {
	if c.FlushInterval <= 0 {
		c.FlushInterval = 100 * time.Millisecond
	}
	if c.Messages <= 0 {
		c.Messages = 100
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = 256 << 10
	}
	if c.MaxAge <= 0 {
		c.MaxAge = 24 * time.Hour
	}
	return c
}

// Entry is one message of a room's history.
type Entry struct {
	Seq  uint64
	TS   int64  // the message's time, Unix milliseconds
	Data []byte // the message's JSON object, as members received it
}

// Room is a room's history as Open found it.
type Room struct {
	Name    string
	Seq     uint64  // the room's last seq
	Entries []Entry // the kept messages, oldest first
	// Lost is set when the store was not closed cleanly: the seqs after
	// Lost[0] up to Lost[1] (= Seq) may have been given to messages that
	// were lost (see CrashGap).
	Lost [2]uint64
}

// LastTS is the time of the room's newest kept message, Unix ms; 0 if none.
func (r Room) LastTS() int64 {
	if len(r.Entries) == 0 {
		return 0
	}
	return r.Entries[len(r.Entries)-1].TS
}

// Option adjusts a code seam of the Store.
type Option func(*options)

type options struct {
	now         func() time.Time
	lockTimeout time.Duration
}

// WithClock replaces time.Now, which decides at Open which messages are
// too old to load.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// withLockTimeout bounds Open's wait for the file lock; for tests.
func withLockTimeout(d time.Duration) Option { return func(o *options) { o.lockTimeout = d } }

// Stats are counters since Open.
type Stats struct {
	Commits  uint64 // write transactions (one fsync each)
	Appended uint64 // entries written
	Errors   uint64 // transactions that failed (logged; their changes are lost)
}

// Store is the durable room history, one bbolt file. Append, Trim and Drop
// never block on disk: they record the change in memory, and the Store's
// one goroutine, started by Open and stopped by Close, writes what has
// gathered every Config.FlushInterval in one transaction. All methods are
// safe for concurrent use.
//
// Layout (meta/version "1"):
//
//	meta/version        "1"
//	meta/clean          "1" when the last Close wrote everything, "0" while open
//	seq/<room>          8-byte big-endian: the room's last seq
//	lost/<room>         16 bytes: the seqs (from, to] a crash may have lost
//	rooms/<room>/<seq>  one message: the 8-byte big-endian seq is the key,
//	                    so a cursor walks a room in seq order; the value is
//	                    the 8-byte big-endian time (Unix ms), then Data
type Store struct {
	db   *bolt.DB
	cfg  Config
	log  *zap.Logger
	path string

	loaded atomic.Pointer[[]Room] // what Open read, until Rooms takes it

	mu      sync.Mutex         // guards pending and closed
	pending map[string]*change // by room: what the next commit writes
	closed  bool
	// flushMu is held from taking pending to its commit, so commits
	// happen in the order their changes were taken.
	flushMu sync.Mutex

	quit, stopped chan struct{}
	closeOnce     sync.Once
	closeErr      error

	commits, appended, errs atomic.Uint64
}

// change is what one room needs written.
type change struct {
	drop    bool    // delete the room first
	entries []Entry // to put, oldest first
	seq     uint64  // the room's last seq; 0 when no entry was appended
	first   uint64  // delete the room's entries before it; 0: none
}

var (
	metaBucket  = []byte("meta")
	seqBucket   = []byte("seq")
	lostBucket  = []byte("lost")
	roomsBucket = []byte("rooms")
	versionKey  = []byte("version")
	cleanKey    = []byte("clean")
)

const schemaVersion = "1"

// Open opens or creates Dir/history.db and reads what it holds (see
// Rooms). If the last Store on the file was not closed cleanly, each
// room's seq moves CrashGap on, and Room.Lost says which seqs may have
// been lost. If another Store holds the file, Open fails within about a
// second with an error that wraps ErrLocked.
func Open(cfg Config, log *zap.Logger, opts ...Option) (*Store, error) {
	cfg = cfg.withDefaults()
	if cfg.Dir == "" {
		return nil, errors.New("history: no directory")
	}
	if log == nil {
		log = zap.NewNop()
	}
	o := options{now: time.Now, lockTimeout: time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	db, path, created, err := boltfile.Open(cfg.Dir, FileName, o.lockTimeout)
	var locked *boltfile.LockError
	switch {
	case errors.As(err, &locked):
		return nil, fmt.Errorf("%w: %v", ErrLocked, locked)
	case err != nil:
		return nil, fmt.Errorf("history: %w", err)
	}
	s := &Store{db: db, cfg: cfg, log: log, path: path, pending: map[string]*change{},
		quit: make(chan struct{}), stopped: make(chan struct{})}
	rooms, clean, err := s.load(o.now())
	if err == nil && created {
		err = syncDir(cfg.Dir)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("history: %s: %w", path, err)
	}
	s.loaded.Store(&rooms)
	log.Info("history store opened", zap.String("path", path), zap.Bool("created", created),
		zap.Bool("clean", clean), zap.Int("rooms", len(rooms)), zap.Duration("flush_interval", cfg.FlushInterval))
	if !clean {
		log.Warn("history store was not closed cleanly: the messages of its last flush interval are lost, and each room's seq skips on",
			zap.Int("rooms", len(rooms)), zap.Int("gap", CrashGap))
	}
	go s.run()
	return s, nil
}

// load sets up the buckets, reads every room within the bounds, applies
// the crash gap if the file was not closed cleanly, and marks it open.
func (s *Store) load(now time.Time) (rooms []Room, clean bool, err error) {
	cutoff := now.UnixMilli() - s.cfg.MaxAge.Milliseconds()
	err = s.db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(metaBucket)
		if err != nil {
			return err
		}
		switch v := meta.Get(versionKey); {
		case v == nil:
			if err := meta.Put(versionKey, []byte(schemaVersion)); err != nil {
				return err
			}
			clean = true // a new file lost nothing
		case string(v) != schemaVersion:
			return fmt.Errorf("schema version %q, this chatd reads %q", v, schemaVersion)
		default:
			clean = string(meta.Get(cleanKey)) == "1"
		}
		for _, name := range [][]byte{seqBucket, lostBucket, roomsBucket} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		seqs, lost, all := tx.Bucket(seqBucket), tx.Bucket(lostBucket), tx.Bucket(roomsBucket)
		err = seqs.ForEach(func(k, v []byte) error {
			r := Room{Name: string(k), Seq: binary.BigEndian.Uint64(v)}
			if l := lost.Get(k); len(l) == 16 {
				r.Lost = [2]uint64{binary.BigEndian.Uint64(l), binary.BigEndian.Uint64(l[8:])}
			}
			if b := all.Bucket(k); b != nil {
				r.Entries = s.newest(b, cutoff)
			}
			rooms = append(rooms, r)
			return nil
		})
		if err != nil {
			return err
		}
		if !clean {
			for i := range rooms {
				r := &rooms[i]
				r.Lost = [2]uint64{r.Seq, r.Seq + CrashGap}
				r.Seq += CrashGap
				if err := seqs.Put([]byte(r.Name), be64(r.Seq)); err != nil {
					return err
				}
				if err := lost.Put([]byte(r.Name), append(be64(r.Lost[0]), be64(r.Lost[1])...)); err != nil {
					return err
				}
			}
		}
		return meta.Put(cleanKey, []byte("0"))
	})
	return rooms, clean, err
}

// newest reads a room's newest entries within the bounds, oldest first.
func (s *Store) newest(b *bolt.Bucket, cutoff int64) []Entry {
	var out []Entry
	size := 0
	c := b.Cursor()
	for k, v := c.Last(); k != nil && len(out) < s.cfg.Messages; k, v = c.Prev() {
		if len(k) != 8 || len(v) < 8 {
			continue
		}
		e := Entry{Seq: binary.BigEndian.Uint64(k), TS: int64(binary.BigEndian.Uint64(v)), Data: bytes.Clone(v[8:])}
		if e.TS < cutoff || size+len(e.Data) > s.cfg.MaxBytes {
			break
		}
		size += len(e.Data)
		out = append(out, e)
	}
	slices.Reverse(out)
	return out
}

// Rooms returns the rooms Open read, once; later calls return nil.
func (s *Store) Rooms() []Room {
	if p := s.loaded.Swap(nil); p != nil {
		return *p
	}
	return nil
}

// Append records e, room's newest message; the room keeps no message
// before first. It does not block on disk.
func (s *Store) Append(room string, e Entry, first uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	c := s.changeLocked(room)
	c.entries = append(c.entries, e)
	c.seq = e.Seq
	c.trim(first)
}

// Trim records that room keeps no message before first.
func (s *Store) Trim(room string, first uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.changeLocked(room).trim(first)
}

// Drop forgets room, its seq included.
func (s *Store) Drop(room string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.pending[room] = &change{drop: true}
}

func (s *Store) changeLocked(room string) *change {
	c := s.pending[room]
	if c == nil {
		c = &change{}
		s.pending[room] = c
	}
	return c
}

// trim drops the entries before first: they need not be written. The
// room's own bounds thus bound what waits, too.
func (c *change) trim(first uint64) {
	c.first = max(c.first, first)
	i := 0
	for i < len(c.entries) && c.entries[i].Seq < c.first {
		i++
	}
	if i > 0 {
		// Slicing off the front (not shifting) keeps this O(1) amortised:
		// append reallocates, copying only what is left.
		clear(c.entries[:i])
		c.entries = c.entries[i:]
	}
}

// run writes what has gathered every FlushInterval, until Close.
func (s *Store) run() {
	defer close(s.stopped)
	t := time.NewTicker(s.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
			s.flush(false)
		}
	}
}

// flush writes the pending changes in one transaction; with clean it also
// marks the file cleanly closed.
func (s *Store) flush(clean bool) error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.mu.Lock()
	pending := s.pending
	s.pending = map[string]*change{}
	s.mu.Unlock()
	if len(pending) == 0 && !clean {
		return nil
	}
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		seqs, lost, all := tx.Bucket(seqBucket), tx.Bucket(lostBucket), tx.Bucket(roomsBucket)
		for name, c := range pending {
			k := []byte(name)
			if c.drop {
				if err := all.DeleteBucket(k); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
					return err
				}
				if err := seqs.Delete(k); err != nil {
					return err
				}
				if err := lost.Delete(k); err != nil {
					return err
				}
			}
			if c.seq > 0 {
				if err := seqs.Put(k, be64(c.seq)); err != nil {
					return err
				}
			}
			b := all.Bucket(k)
			if b == nil && len(c.entries) > 0 {
				var err error
				if b, err = all.CreateBucket(k); err != nil {
					return err
				}
			}
			if b == nil {
				continue
			}
			for _, e := range c.entries {
				v := make([]byte, 8+len(e.Data))
				binary.BigEndian.PutUint64(v, uint64(e.TS))
				copy(v[8:], e.Data)
				if err := b.Put(be64(e.Seq), v); err != nil {
					return err
				}
				n++
			}
			if err := deleteBefore(b, c.first); err != nil {
				return err
			}
		}
		if clean {
			return tx.Bucket(metaBucket).Put(cleanKey, []byte("1"))
		}
		return nil
	})
	if err != nil {
		s.errs.Add(1)
		s.log.Error("history write failed: these messages will be missing after a restart",
			zap.Int("rooms", len(pending)), zap.Error(err))
		return fmt.Errorf("history: write: %w", err)
	}
	s.commits.Add(1)
	s.appended.Add(uint64(n))
	return nil
}

// deleteBefore deletes a room's entries with a seq before first.
func deleteBefore(b *bolt.Bucket, first uint64) error {
	var old [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) < first; k, _ = c.Next() {
		old = append(old, k)
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// Sync writes what is pending now and returns when it is on disk.
func (s *Store) Sync() error { return s.flush(false) }

// Close writes what is pending, marks the file cleanly closed, and closes
// it. Changes recorded after Close are ignored. Close is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.quit)
		<-s.stopped
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.closeErr = errors.Join(s.flush(true), s.db.Close())
		s.log.Info("history store closed", zap.String("path", s.path))
	})
	return s.closeErr
}

// Path is the store's file.
func (s *Store) Path() string { return s.path }

// Stats returns the counters since Open.
func (s *Store) Stats() Stats {
	return Stats{Commits: s.commits.Load(), Appended: s.appended.Load(), Errors: s.errs.Load()}
}

func be64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
