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
	// Data is the encoded message, opaque to the store. Its length is what
	// the byte bounds count.
	Data []byte
	// Sender is the user who sent the message, at most MaxSenderBytes; the
	// per-sender bound (Config.MaxBytesPerSender) counts by it. Entries
	// stored before senders were recorded load with Sender "", and ""
	// counts as one sender like any other.
	Sender string
}

// putResult is what one Put's transaction function decided. The function
// may run more than once (a failed batch is retried call by call), so it
// resets the result on every run.
type putResult struct {
	rejected rejection
	expired  int
	delta    int64 // change of the store's bytes
}

// Put stores e in user's mailbox. When Put returns nil the entry is on
// disk (the commit was fsynced) and survives a crash or kill -9. Concurrent
// Puts share commits (group commit, see write), so one fsync covers many.
//
// Put enforces every bound in its write transaction, so concurrent Puts
// never exceed one: the mailbox's MaxMessages and MaxBytes (ErrFull), the
// sender's MaxBytesPerSender in it (ErrSenderQuota) and the store's
// MaxTotalBytes (ErrStoreFull); when more than one would be exceeded it
// reports the first of ErrFull for MaxMessages, then ErrSenderQuota,
// ErrFull for MaxBytes, ErrStoreFull. Bytes are len(Data). A bound is only
// checked when the Put raises what it counts, so a retried Put (same ID,
// same Data) always succeeds. If a bound would be exceeded, Put first
// drops the mailbox's expired entries; if it still would be, Put returns
// the error and writes nothing. Put is O(log n) except on that path, which
// scans the expired head of the mailbox.
func (s *Store) Put(user string, e Entry) error {
	if err := checkUser(user); err != nil {
		return err
	}
	if err := checkSender(e.Sender); err != nil {
		return err
	}
	now := s.now()
	if e.Stored.IsZero() {
		e.Stored = now
	}
	name, key, val := []byte(user), idKey(e.ID), encodeValue(e.Stored, e.Sender, e.Data)
	size := int64(len(e.Data))
	cutoff := s.cutoff(now)

	var r putResult
	err := s.write(func(tx *bolt.Tx) error {
		r = putResult{}
		m := openBox(tx, name)
		if r.rejected = s.check(m, key, e.Sender, size); r.rejected != accepted {
			drop := m.expiredHead(cutoff)
			if len(drop.keys) == 0 {
				return nil
			}
			if err := m.remove(drop); err != nil {
				return err
			}
			r.expired, r.delta = len(drop.keys), -drop.bytes
			if r.rejected = s.check(m, key, e.Sender, size); r.rejected != accepted {
				return nil
			}
		}
		d, err := m.put(key, val)
		r.delta += d
		return err
	})
	if err != nil {
		return wrap("put", err)
	}
	s.bytes.Add(r.delta)
	s.noteExpired(user, r.expired, "put")
	if r.rejected != accepted {
		s.rejected[r.rejected].Add(1)
		return r.rejected.err()
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
	var freed int64
	err = s.write(func(tx *bolt.Tx) error {
		removed, freed = 0, 0
		m := openBox(tx, name)
		if m.entries == nil {
			return nil
		}
		r := &removal{}
		c := m.entries.Cursor()
		for k, v := c.First(); k != nil && keyID(k) <= upTo; k, v = c.Next() {
			r.add(k, v)
		}
		removed, freed = len(r.keys), r.bytes
		return m.remove(r)
	})
	if err != nil {
		return 0, wrap("ack", err)
	}
	s.bytes.Add(-freed)
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
