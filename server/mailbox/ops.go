package mailbox

import (
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
)

// Entry is one stored message.
type Entry struct {
	// ID is chosen by the caller (chatd's message id, globally increasing).
	// A mailbox is ordered by ID, and an ID is unique within a mailbox:
	// putting an ID that is already there replaces that entry.
	ID uint64
	// Stored is when the message was stored; expiry counts from it. A zero
	// Stored is set to the Store's clock by Put.
	Stored time.Time
	// Data is the encoded message, opaque to the store.
	Data []byte
}

// putResult is what one Put's transaction function decided. The function
// may run more than once (a failed batch is retried call by call), so it
// resets the result on every run.
type putResult struct {
	full     bool
	replaced bool
	expired  int
}

// Put stores e in user's mailbox. When Put returns nil the entry is on
// disk (the commit was fsynced) and survives a crash or kill -9. Concurrent
// Puts share commits (group commit, see write), so one fsync covers many.
//
// If the mailbox already holds MaxMessages entries, Put first drops the
// expired ones; if it is still full, it returns ErrFull and writes nothing.
// Put is O(log n) except on that full path, which scans the expired head of
// the mailbox.
func (s *Store) Put(user string, e Entry) error {
	if err := checkUser(user); err != nil {
		return err
	}
	now := s.now()
	if e.Stored.IsZero() {
		e.Stored = now
	}
	name, key, val := []byte(user), idKey(e.ID), encodeValue(e.Stored, e.Data)
	cutoff := s.cutoff(now)
	limit := uint64(s.cfg.MaxMessages)

	var r putResult
	err := s.write(func(tx *bolt.Tx) error {
		r = putResult{}
		b, err := tx.Bucket(usersBucket).CreateBucketIfNotExists(name)
		if err != nil {
			return err
		}
		n := b.Sequence()
		if b.Get(key) != nil {
			r.replaced = true
			return b.Put(key, val)
		}
		if n >= limit {
			if r.expired, err = expireHead(b, cutoff); err != nil {
				return err
			}
			n = b.Sequence()
			if n >= limit {
				r.full = true
				return nil
			}
		}
		if err := b.Put(key, val); err != nil {
			return err
		}
		return b.SetSequence(n + 1)
	})
	if err != nil {
		return wrap("put", err)
	}
	s.noteExpired(user, r.expired, "put")
	if r.full {
		s.rejected.Add(1)
		return ErrFull
	}
	s.stored.Add(1)
	return nil
}

// Ack removes every entry of user's mailbox with ID <= upTo (acks are
// cumulative) and returns how many it removed. Acking an empty or unknown
// mailbox removes nothing. The removal is durable when Ack returns; if
// chatd crashes first, the entries are delivered again (at least once).
func (s *Store) Ack(user string, upTo uint64) (removed int, err error) {
	if err := checkUser(user); err != nil {
		return 0, err
	}
	name := []byte(user)
	err = s.write(func(tx *bolt.Tx) error {
		removed = 0
		users := tx.Bucket(usersBucket)
		b := users.Bucket(name)
		if b == nil {
			return nil
		}
		var keys [][]byte
		c := b.Cursor()
		for k, _ := c.First(); k != nil && keyID(k) <= upTo; k, _ = c.Next() {
			keys = append(keys, append([]byte(nil), k...))
		}
		if len(keys) == 0 {
			return nil
		}
		removed = len(keys)
		return deleteKeys(users, name, b, keys)
	})
	if err != nil {
		return 0, wrap("ack", err)
	}
	s.acked.Add(uint64(removed))
	return removed, nil
}

// Count returns how many entries user's mailbox holds, in O(1). It includes
// expired entries that no Load, Prune or full Put has dropped yet.
func (s *Store) Count(user string) (int, error) {
	if err := checkUser(user); err != nil {
		return 0, err
	}
	var n uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(usersBucket).Bucket([]byte(user)); b != nil {
			n = b.Sequence()
		}
		return nil
	})
	return int(n), wrap("count", err)
}

// deleteKeys removes keys from user bucket b (named name inside users),
// keeps its count in step, and deletes the bucket once it is empty.
func deleteKeys(users *bolt.Bucket, name []byte, b *bolt.Bucket, keys [][]byte) error {
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	if k, _ := b.Cursor().First(); k == nil {
		return users.DeleteBucket(name)
	}
	n := b.Sequence()
	if uint64(len(keys)) > n {
		n = uint64(len(keys)) // never underflow, even if the count drifted
	}
	return b.SetSequence(n - uint64(len(keys)))
}

// cutoff is the Stored time (Unix nanoseconds) below which an entry has
// expired at now.
func (s *Store) cutoff(now time.Time) int64 {
	return now.Add(-s.cfg.MaxAge).UnixNano()
}

// noteExpired counts and logs entries dropped for age.
func (s *Store) noteExpired(user string, n int, during string) {
	if n == 0 {
		return
	}
	s.expired.Add(uint64(n))
	s.log.Info("expired messages dropped undelivered", zap.String("user", user),
		zap.Int("count", n), zap.Duration("max_age", s.cfg.MaxAge), zap.String("during", during))
}
