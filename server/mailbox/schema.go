package mailbox

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
	"go.uber.org/zap"
)

// Rebuilding the counters. Open rebuilds them by reading every mailbox
// when a file lacks them: a schema 1 file (which also needs its values
// rewritten, to carry a sender), or a file whose usage bucket or
// meta/bytes is missing. The rebuild runs in write transactions of a few
// hundred mailboxes (or a few MiB of values) each, so it never holds a
// whole large file in memory, and it survives being interrupted:
//
//   - The first transaction sets meta/version to "2", so an older chatd
//     refuses the half-migrated file instead of misreading it. It empties
//     the usage bucket, sets meta/bytes to 0 and writes meta/rebuild: a
//     mode byte ('r' rewrite values and count, 'c' count only) and then
//     the last user done (none yet).
//   - Each further transaction takes the next users in key order, rewrites
//     their values (mode 'r'), counts them, writes their counters, adds
//     their bytes to meta/bytes and moves meta/rebuild past them. A user is
//     done entirely in one transaction.
//   - The last one deletes meta/rebuild. Open after a crash finds
//     meta/rebuild and carries on after the last user done.
const (
	rebuildRewrite = 'r'
	rebuildCount   = 'c'
	// rebuildChunkBytes ends a rebuild transaction once it has read this
	// many bytes of values (a single mailbox may exceed it).
	rebuildChunkBytes = 8 << 20
)

// initSchema creates or checks the buckets, rebuilds the counters if the
// file lacks them, and returns the store's total bytes.
func initSchema(db *bolt.DB, log *zap.Logger) (total uint64, err error) {
	var mode byte
	err = db.Update(func(tx *bolt.Tx) error {
		mode = 0
		meta, err := tx.CreateBucketIfNotExists(metaBucket)
		if err != nil {
			return err
		}
		for _, name := range [][]byte{usersBucket, seenBucket} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		switch v := meta.Get(versionKey); {
		case v == nil: // a new file
			if err := meta.Put(versionKey, []byte(schemaVersion)); err != nil {
				return err
			}
			if _, err := tx.CreateBucketIfNotExists(usageBucket); err != nil {
				return err
			}
			return meta.Put(bytesKey, putUint(0))
		case string(v) == "1":
			mode = rebuildRewrite
		case string(v) != schemaVersion:
			return fmt.Errorf("schema version %q, this chatd reads %q (and migrates \"1\")", v, schemaVersion)
		case meta.Get(rebuildKey) != nil:
			mode = meta.Get(rebuildKey)[0]
			return nil // resume where the interrupted rebuild stopped
		case tx.Bucket(usageBucket) == nil || meta.Get(bytesKey) == nil:
			mode = rebuildCount
		default:
			return nil
		}
		return startRebuild(tx, meta, mode)
	})
	if err != nil {
		return 0, err
	}
	if mode != 0 {
		if err := rebuild(db, log); err != nil {
			return 0, fmt.Errorf("rebuild counters: %w", err)
		}
	}
	err = db.View(func(tx *bolt.Tx) error {
		total = getUint(tx.Bucket(metaBucket).Get(bytesKey))
		return nil
	})
	return total, err
}

// startRebuild is the first transaction of a rebuild.
func startRebuild(tx *bolt.Tx, meta *bolt.Bucket, mode byte) error {
	if err := meta.Put(versionKey, []byte(schemaVersion)); err != nil {
		return err
	}
	if err := tx.DeleteBucket(usageBucket); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
		return err
	}
	if _, err := tx.CreateBucket(usageBucket); err != nil {
		return err
	}
	if err := meta.Put(bytesKey, putUint(0)); err != nil {
		return err
	}
	return meta.Put(rebuildKey, []byte{mode})
}

// rebuild runs the rebuild's transactions until meta/rebuild is gone.
func rebuild(db *bolt.DB, log *zap.Logger) error {
	start := time.Now()
	var users, bytes int
	var mode byte
	for done := false; !done; {
		err := db.Update(func(tx *bolt.Tx) error {
			var err error
			var u, b int
			mode, u, b, done, err = rebuildChunk(tx)
			users, bytes = users+u, bytes+b
			return err
		})
		if err != nil {
			return err
		}
	}
	log.Info("store counters rebuilt", zap.Bool("values_rewritten", mode == rebuildRewrite),
		zap.Int("mailboxes", users), zap.Int("bytes_read", bytes), zap.Duration("took", time.Since(start)))
	return nil
}

// rebuildChunk rebuilds the next users after meta/rebuild's and reports
// how many users and value bytes it did and whether it reached the end.
func rebuildChunk(tx *bolt.Tx) (mode byte, users, read int, done bool, err error) {
	meta, all, usage := tx.Bucket(metaBucket), tx.Bucket(usersBucket), tx.Bucket(usageBucket)
	state := meta.Get(rebuildKey)
	if len(state) == 0 || (state[0] != rebuildRewrite && state[0] != rebuildCount) {
		return 0, 0, 0, false, fmt.Errorf("bad rebuild state %q", state)
	}
	mode = state[0]
	last := bytes.Clone(state[1:]) // the last user done; empty before the first
	c := all.Cursor()
	// next positions c after the user named after, afresh each time:
	// changing a user's bucket may invalidate the cursor.
	next := func(after []byte) ([]byte, []byte) {
		if len(after) == 0 {
			return c.First()
		}
		k, v := c.Seek(after)
		if k != nil && bytes.Equal(k, after) {
			k, v = c.Next()
		}
		return k, v
	}
	var total uint64
	k, v := next(last)
	for ; k != nil && users < pruneChunk && read < rebuildChunkBytes; k, v = next(last) {
		if v != nil {
			return mode, users, read, false, fmt.Errorf("users: key %q is not a mailbox", k)
		}
		name := bytes.Clone(k)
		b := all.Bucket(name)
		if mode == rebuildRewrite {
			n, err := rewriteV1(b)
			if err != nil {
				return mode, users, read, false, fmt.Errorf("user %q: %w", name, err)
			}
			read += n
		}
		u, err := scanUsage(b)
		if err != nil {
			return mode, users, read, false, fmt.Errorf("user %q: %w", name, err)
		}
		if mode == rebuildCount {
			read += int(u.bytes)
		}
		if err := writeUsage(all, usage, name, b, u); err != nil {
			return mode, users, read, false, fmt.Errorf("user %q: %w", name, err)
		}
		total += u.bytes
		users++
		last = name
	}
	if err := addTotal(meta, int64(total)); err != nil {
		return mode, users, read, false, err
	}
	if k == nil {
		return mode, users, read, true, meta.Delete(rebuildKey)
	}
	return mode, users, read, false, meta.Put(rebuildKey, append([]byte{mode}, last...))
}

// rewriteV1 rewrites every value of b from schema 1 to schema 2, with no
// sender, and returns the bytes of values it read.
func rewriteV1(b *bolt.Bucket) (read int, err error) {
	c := b.Cursor()
	for k, v := c.First(); k != nil; {
		if v == nil {
			return read, fmt.Errorf("nested bucket %q among the entries", k)
		}
		read += len(v)
		stored, data := decodeV1(v)
		key := bytes.Clone(k)
		if err := b.Put(key, appendValue(nil, stored, "", data)); err != nil {
			return read, err
		}
		if k, v = c.Seek(key); k != nil {
			k, v = c.Next()
		}
	}
	return read, nil
}

// writeUsage sets one mailbox's counters to u, deleting the mailbox if it
// is empty.
func writeUsage(all, usage *bolt.Bucket, name []byte, b *bolt.Bucket, u usageOf) error {
	if usage.Bucket(name) != nil {
		if err := usage.DeleteBucket(name); err != nil {
			return err
		}
	}
	if u.count == 0 {
		return all.DeleteBucket(name)
	}
	if err := b.SetSequence(u.count); err != nil {
		return err
	}
	use, err := usage.CreateBucket(name)
	if err != nil {
		return err
	}
	if err := use.SetSequence(u.bytes); err != nil {
		return err
	}
	for sender, n := range u.senders {
		if err := use.Put(senderKey([]byte(sender)), putUint(n)); err != nil {
			return err
		}
	}
	return nil
}
