package mailbox

import (
	"bytes"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
)

// seenChunk is how many last-seen records Prune reads per read
// transaction, and so at most deletes per write transaction.
const seenChunk = 1024

// SetSeen records at as the time user was last seen, replacing any earlier
// record. It is a durable write: it joins the next group commit (so it
// shares an fsync with the Puts and Acks around it) and returns once that
// commit is on disk. The record lives in its own bucket, apart from the
// mailbox, and is deleted by Prune once it is older than SeenMaxAge.
func (s *Store) SetSeen(user string, at time.Time) error {
	if err := checkUser(user); err != nil {
		return err
	}
	name, val := []byte(user), putUint(uint64(at.UnixNano()))
	err := s.write(func(tx *bolt.Tx) error {
		return tx.Bucket(seenBucket).Put(name, val)
	})
	return wrap("set seen", err)
}

// Seen returns when user was last seen, as recorded by SetSeen. ok is
// false if there is no record, or only one older than SeenMaxAge by the
// Store's clock (Prune deletes those; Seen never reports them).
func (s *Store) Seen(user string) (at time.Time, ok bool, err error) {
	if err := checkUser(user); err != nil {
		return time.Time{}, false, err
	}
	var v []byte
	err = s.db.View(func(tx *bolt.Tx) error {
		v = bytes.Clone(tx.Bucket(seenBucket).Get([]byte(user)))
		return nil
	})
	if err != nil || len(v) != 8 {
		return time.Time{}, false, wrap("seen", err)
	}
	n := int64(getUint(v))
	if n < s.seenCutoff(s.now()) {
		return time.Time{}, false, nil
	}
	return time.Unix(0, n), true, nil
}

// seenCutoff is the last-seen time (Unix nanoseconds) below which a record
// is too old at now.
func (s *Store) seenCutoff(now time.Time) int64 {
	return now.Add(-s.cfg.SeenMaxAge).UnixNano()
}

// pruneSeen deletes the last-seen records older than SeenMaxAge at now.
// Records are keyed by name, not time, so it reads them all, seenChunk at
// a time in short read transactions (a long one would stop the file from
// growing), and deletes each chunk's old records in a write transaction
// that checks them again, so a SetSeen that lands meanwhile is kept.
func (s *Store) pruneSeen(now time.Time) error {
	cutoff := s.seenCutoff(now)
	var after []byte // the last key read; nil before the first
	removed := 0
	for {
		var stale [][]byte
		end := false
		err := s.db.View(func(tx *bolt.Tx) error {
			stale, end = stale[:0], false
			c := tx.Bucket(seenBucket).Cursor()
			var k, v []byte
			if after == nil {
				k, v = c.First()
			} else if k, v = c.Seek(after); k != nil && bytes.Equal(k, after) {
				k, v = c.Next()
			}
			var last []byte
			for read := 0; k != nil && read < seenChunk; read++ {
				if seenStale(v, cutoff) {
					stale = append(stale, bytes.Clone(k))
				}
				last = k
				k, v = c.Next()
			}
			if last != nil {
				after = bytes.Clone(last)
			}
			end = k == nil
			return nil
		})
		if err != nil {
			return wrap("prune seen", err)
		}
		if len(stale) > 0 {
			n := 0
			err := s.db.Update(func(tx *bolt.Tx) error {
				n = 0
				b := tx.Bucket(seenBucket)
				for _, k := range stale {
					if v := b.Get(k); v != nil && seenStale(v, cutoff) {
						if err := b.Delete(k); err != nil {
							return err
						}
						n++
					}
				}
				return nil
			})
			if err != nil {
				return wrap("prune seen", err)
			}
			removed += n
			s.seenPruned.Add(uint64(n))
		}
		if end {
			break
		}
	}
	if removed > 0 {
		s.log.Info("old last-seen records deleted", zap.Int("count", removed),
			zap.Duration("seen_max_age", s.cfg.SeenMaxAge))
	}
	return nil
}

// seenStale reports whether a last-seen record is older than cutoff; a
// malformed one is.
func seenStale(v []byte, cutoff int64) bool {
	return len(v) != 8 || int64(getUint(v)) < cutoff
}
