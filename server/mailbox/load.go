package mailbox

import (
	"math"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
)

// Load returns every unexpired entry of user's mailbox in ID order; an
// unknown user has none. Entries stay stored until acked. Expired entries
// are never returned; if Load meets any, it deletes them (a write, counted
// and logged). The result holds the mailbox in memory, up to MaxMessages
// entries: use LoadAfter to page through large mailboxes.
func (s *Store) Load(user string, now time.Time) ([]Entry, error) {
	return s.load(user, 0, 0, now)
}

// LoadAfter is Load restricted to entries with ID > after, at most limit of
// them (limit <= 0 means no limit). Calling it again with the last ID
// returned pages through the mailbox in ID order.
func (s *Store) LoadAfter(user string, after uint64, limit int, now time.Time) ([]Entry, error) {
	if after == math.MaxUint64 {
		return nil, checkUser(user)
	}
	return s.load(user, after+1, limit, now)
}

func (s *Store) load(user string, from uint64, limit int, now time.Time) ([]Entry, error) {
	if err := checkUser(user); err != nil {
		return nil, err
	}
	cutoff := s.cutoff(now)
	var out []Entry
	sawExpired := false
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(usersBucket).Bucket([]byte(user))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(idKey(from)); k != nil; k, v = c.Next() {
			if storedNanos(v) < cutoff {
				sawExpired = true
				continue
			}
			out = append(out, decodeEntry(k, v))
			if limit > 0 && len(out) == limit {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrap("load", err)
	}
	if sawExpired {
		// The entries read are valid whatever happens here: a failed
		// cleanup only leaves expired entries for Prune.
		if err := s.dropExpired(user, cutoff); err != nil {
			s.log.Warn("dropping expired entries failed", zap.String("user", user), zap.Error(err))
		}
	}
	return out, nil
}

// dropExpired deletes every expired entry of one mailbox, wherever it is.
func (s *Store) dropExpired(user string, cutoff int64) error {
	name := []byte(user)
	var n int
	err := s.write(func(tx *bolt.Tx) error {
		n = 0
		users := tx.Bucket(usersBucket)
		b := users.Bucket(name)
		if b == nil {
			return nil
		}
		var keys [][]byte
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if storedNanos(v) < cutoff {
				keys = append(keys, append([]byte(nil), k...))
			}
		}
		n = len(keys)
		if n == 0 {
			return nil
		}
		return deleteKeys(users, name, b, keys)
	})
	if err != nil {
		return wrap("drop expired", err)
	}
	s.noteExpired(user, n, "load")
	return nil
}

// Prune drops expired entries from every mailbox and returns how many it
// dropped. A periodic janitor calls it; Load and full Puts also drop what
// they meet, so Prune only bounds how long expired entries use disk.
//
// Prune looks at the head of each mailbox (lowest IDs) and stops at the
// first unexpired entry: IDs increase with time, so that is where expired
// entries are. An entry stored out of step with its ID (a clock stepped
// back) may outlive MaxAge on disk, never in a Load result. Prune reads
// in one read transaction and deletes in write transactions of a few
// hundred mailboxes each, so Puts are never held up for long.
func (s *Store) Prune(now time.Time) (removed int, err error) {
	cutoff := s.cutoff(now)
	var stale [][]byte
	err = s.db.View(func(tx *bolt.Tx) error {
		users := tx.Bucket(usersBucket)
		return users.ForEachBucket(func(name []byte) error {
			if b := users.Bucket(name); b != nil {
				if _, v := b.Cursor().First(); v != nil && storedNanos(v) < cutoff {
					stale = append(stale, append([]byte(nil), name...))
				}
			}
			return nil
		})
	})
	if err != nil {
		return 0, wrap("prune", err)
	}
	for len(stale) > 0 {
		chunk := stale[:min(len(stale), pruneChunk)]
		stale = stale[len(chunk):]
		n := 0
		err := s.db.Update(func(tx *bolt.Tx) error {
			n = 0
			users := tx.Bucket(usersBucket)
			for _, name := range chunk {
				b := users.Bucket(name)
				if b == nil {
					continue
				}
				k, err := expireHead(b, cutoff)
				if err != nil {
					return err
				}
				n += k
				if first, _ := b.Cursor().First(); first == nil {
					if err := users.DeleteBucket(name); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return removed, wrap("prune", err)
		}
		removed += n
		s.expired.Add(uint64(n))
	}
	if removed > 0 {
		s.log.Info("expired messages dropped undelivered", zap.Int("count", removed),
			zap.Duration("max_age", s.cfg.MaxAge), zap.String("during", "prune"))
	}
	return removed, nil
}

// expireHead deletes the leading run of expired entries of b, fixes its
// count and returns how many it deleted. The caller deletes b if it is
// left empty (Put never leaves it empty: it adds an entry next).
func expireHead(b *bolt.Bucket, cutoff int64) (int, error) {
	var keys [][]byte
	c := b.Cursor()
	for k, v := c.First(); k != nil && storedNanos(v) < cutoff; k, v = c.Next() {
		keys = append(keys, append([]byte(nil), k...))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	n := b.Sequence()
	return len(keys), b.SetSequence(n - min(n, uint64(len(keys))))
}
