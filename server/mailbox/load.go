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
// entries and MaxBytes of Data: use LoadPage to page through it in
// smaller pieces.
func (s *Store) Load(user string, now time.Time) ([]Entry, error) {
	return s.load(user, 0, 0, 0, now)
}

// LoadAfter is Load restricted to entries with ID > after, at most limit of
// them (limit <= 0 means no limit). Calling it again with the last ID
// returned pages through the mailbox in ID order.
func (s *Store) LoadAfter(user string, after uint64, limit int, now time.Time) ([]Entry, error) {
	return s.LoadPage(user, after, limit, 0, now)
}

// LoadPage is LoadAfter with a bound on bytes too: it returns the entries
// with ID > after, in ID order, at most maxEntries of them and at most
// maxBytes of Data in all, except that it returns at least one entry if
// there is one, however large, so paging always makes progress. A bound
// <= 0 means no bound. Calling it again with the last ID returned pages
// through the mailbox; an empty page means the end.
func (s *Store) LoadPage(user string, after uint64, maxEntries, maxBytes int, now time.Time) ([]Entry, error) {
	if after == math.MaxUint64 {
		return nil, checkUser(user)
	}
	return s.load(user, after+1, maxEntries, maxBytes, now)
}

func (s *Store) load(user string, from uint64, maxEntries, maxBytes int, now time.Time) ([]Entry, error) {
	if err := checkUser(user); err != nil {
		return nil, err
	}
	cutoff := s.cutoff(now)
	var out []Entry
	sawExpired := false
	err := s.db.View(func(tx *bolt.Tx) error {
		out, sawExpired = nil, false
		b := tx.Bucket(usersBucket).Bucket([]byte(user))
		if b == nil {
			return nil
		}
		size := 0
		c := b.Cursor()
		for k, v := c.Seek(idKey(from)); k != nil; k, v = c.Next() {
			val, _ := decodeValue(v)
			if val.stored < cutoff {
				sawExpired = true
				continue
			}
			if maxBytes > 0 && len(out) > 0 && size+len(val.data) > maxBytes {
				break
			}
			out = append(out, entry(k, val))
			size += len(val.data)
			if maxEntries > 0 && len(out) == maxEntries {
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
	var freed int64
	err := s.write(func(tx *bolt.Tx) error {
		m := openBox(tx, name)
		r := m.expired(cutoff)
		n, freed = len(r.keys), r.bytes
		return m.remove(r)
	})
	if err != nil {
		return wrap("drop expired", err)
	}
	s.bytes.Add(-freed)
	s.noteExpired(user, n, "load")
	return nil
}

// Prune drops expired entries from every mailbox and returns how many it
// dropped; then it deletes the last-seen records older than SeenMaxAge
// (counted in Stats.SeenPruned). A periodic janitor calls it; Load and
// full Puts also drop what they meet, so Prune only bounds how long
// expired entries use disk, and room in the store (MaxTotalBytes) that
// expired entries of other mailboxes hold is freed only by Prune.
//
// Prune looks at the head of each mailbox (lowest IDs) and stops at the
// first unexpired entry: IDs increase with time, so that is where expired
// entries are. An entry stored out of step with its ID (a clock stepped
// back) may outlive MaxAge on disk, never in a Load result. Prune reads
// in one read transaction and deletes in write transactions of a few
// hundred mailboxes each, so Puts are never held up for long.
func (s *Store) Prune(now time.Time) (removed int, err error) {
	if removed, err = s.pruneEntries(now); err != nil {
		return removed, err
	}
	return removed, s.pruneSeen(now)
}

func (s *Store) pruneEntries(now time.Time) (removed int, err error) {
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
		var freed int64
		err := s.db.Update(func(tx *bolt.Tx) error {
			n, freed = 0, 0
			for _, name := range chunk {
				m := openBox(tx, name)
				r := m.expiredHead(cutoff)
				if err := m.remove(r); err != nil {
					return err
				}
				n += len(r.keys)
				freed += r.bytes
			}
			return nil
		})
		if err != nil {
			return removed, wrap("prune", err)
		}
		removed += n
		s.bytes.Add(-freed)
		s.expired.Add(uint64(n))
	}
	if removed > 0 {
		s.log.Info("expired messages dropped undelivered", zap.Int("count", removed),
			zap.Duration("max_age", s.cfg.MaxAge), zap.String("during", "prune"))
	}
	return removed, nil
}
