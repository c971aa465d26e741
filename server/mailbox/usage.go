package mailbox

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// The usage counters, kept exact in the same transaction as every change
// to the entries (see the layout on Store):
//
//	users/<user>.Sequence        entries in the mailbox
//	usage/<user>.Sequence        bytes of Data in the mailbox
//	usage/<user>/'s'+<sender>    bytes of Data from sender in it (8 bytes,
//	                             big-endian; absent when 0)
//	meta/bytes                   bytes of Data in the whole store
//
// users/<user> and usage/<user> exist together, only while the mailbox has
// an entry. Every write goes through box, which keeps them in step.

// box is one user's mailbox inside a write transaction: its entries and
// its usage record. It is used by one transaction function at a time.
type box struct {
	users, usage, meta *bolt.Bucket // the top-level buckets
	name               []byte
	entries            *bolt.Bucket // users/<name>; nil while the mailbox is empty
	use                *bolt.Bucket // usage/<name>; nil while the mailbox is empty
}

func openBox(tx *bolt.Tx, name []byte) *box {
	m := &box{
		users: tx.Bucket(usersBucket), usage: tx.Bucket(usageBucket), meta: tx.Bucket(metaBucket),
		name: name,
	}
	m.entries = m.users.Bucket(name)
	m.use = m.usage.Bucket(name)
	return m
}

func (m *box) count() uint64 {
	if m.entries == nil {
		return 0
	}
	return m.entries.Sequence()
}

func (m *box) bytes() uint64 {
	if m.use == nil {
		return 0
	}
	return m.use.Sequence()
}

func senderKey(sender []byte) []byte { return append([]byte{'s'}, sender...) }

func (m *box) senderBytes(sender []byte) uint64 {
	if m.use == nil {
		return 0
	}
	return getUint(m.use.Get(senderKey(sender)))
}

func (m *box) get(key []byte) (value, bool) {
	if m.entries == nil {
		return value{}, false
	}
	v := m.entries.Get(key)
	if v == nil {
		return value{}, false
	}
	val, _ := decodeValue(v)
	return val, true
}

// put stores val under key, replacing an entry with that key, creates the
// mailbox if needed, and updates every counter. It returns the change of
// the store's total bytes.
func (m *box) put(key, val []byte) (delta int64, err error) {
	if m.entries == nil {
		if m.entries, err = m.users.CreateBucket(m.name); err != nil {
			return 0, err
		}
		if m.use, err = m.usage.CreateBucketIfNotExists(m.name); err != nil {
			return 0, err
		}
	}
	if old, ok := m.get(key); ok {
		// Copy what old refers to: the Put below may reuse its memory.
		sender, n := bytes.Clone(old.sender), int64(len(old.data))
		if err := m.adjust(sender, -n); err != nil {
			return 0, err
		}
		delta -= n
	} else if err := m.entries.SetSequence(m.entries.Sequence() + 1); err != nil {
		return 0, err
	}
	if err := m.entries.Put(key, val); err != nil {
		return 0, err
	}
	nv, _ := decodeValue(val)
	n := int64(len(nv.data))
	if err := m.adjust(nv.sender, n); err != nil {
		return 0, err
	}
	delta += n
	return delta, addTotal(m.meta, delta)
}

// adjust adds d to the mailbox's bytes and to sender's bytes in it.
func (m *box) adjust(sender []byte, d int64) error {
	if d == 0 {
		return nil
	}
	if err := m.use.SetSequence(addClamped(m.use.Sequence(), d)); err != nil {
		return err
	}
	k := senderKey(sender)
	n := addClamped(getUint(m.use.Get(k)), d)
	if n == 0 {
		return m.use.Delete(k)
	}
	return m.use.Put(k, putUint(n))
}

// removal collects entries to delete from one mailbox, with what they
// free per sender.
type removal struct {
	keys    [][]byte
	bytes   int64
	senders map[string]int64
}

// add records the entry k, v (read from a cursor; both are copied).
func (r *removal) add(k, v []byte) {
	r.keys = append(r.keys, bytes.Clone(k))
	val, _ := decodeValue(v)
	if len(val.data) == 0 {
		return
	}
	if r.senders == nil {
		r.senders = make(map[string]int64)
	}
	r.senders[string(val.sender)] += int64(len(val.data))
	r.bytes += int64(len(val.data))
}

// remove deletes r's entries, updates every counter, and deletes the
// mailbox once it is empty.
func (m *box) remove(r *removal) error {
	if len(r.keys) == 0 {
		return nil
	}
	for _, k := range r.keys {
		if err := m.entries.Delete(k); err != nil {
			return err
		}
	}
	if k, _ := m.entries.Cursor().First(); k == nil {
		if err := m.users.DeleteBucket(m.name); err != nil {
			return err
		}
		m.entries = nil
		if m.use != nil {
			if err := m.usage.DeleteBucket(m.name); err != nil {
				return err
			}
			m.use = nil
		}
		return addTotal(m.meta, -r.bytes)
	}
	n := m.entries.Sequence()
	if err := m.entries.SetSequence(n - min(n, uint64(len(r.keys)))); err != nil {
		return err
	}
	for sender, n := range r.senders {
		if err := m.adjust([]byte(sender), -n); err != nil {
			return err
		}
	}
	return addTotal(m.meta, -r.bytes)
}

// expiredHead collects the leading run of expired entries (lowest IDs).
func (m *box) expiredHead(cutoff int64) *removal {
	r := &removal{}
	if m.entries == nil {
		return r
	}
	c := m.entries.Cursor()
	for k, v := c.First(); k != nil && storedNanos(v) < cutoff; k, v = c.Next() {
		r.add(k, v)
	}
	return r
}

// expired collects every expired entry, wherever it is.
func (m *box) expired(cutoff int64) *removal {
	r := &removal{}
	if m.entries == nil {
		return r
	}
	c := m.entries.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if storedNanos(v) < cutoff {
			r.add(k, v)
		}
	}
	return r
}

// rejection is the bound a Put would break.
type rejection int

const (
	accepted rejection = iota
	overMessages
	overSender
	overBytes
	overStore
)

func (r rejection) err() error {
	switch r {
	case overMessages, overBytes:
		return ErrFull
	case overSender:
		return ErrSenderQuota
	case overStore:
		return ErrStoreFull
	}
	return nil
}

// check decides whether storing size bytes from sender under key in m
// keeps every bound. A bound is checked only when the Put would raise its
// counter, so replacing an entry with one no larger always succeeds, even
// if the bounds were lowered since. The narrowest bound is reported first:
// the sender's, then the mailbox's, then the store's.
func (s *Store) check(m *box, key []byte, sender string, size int64) rejection {
	old, replace := m.get(key)
	if !replace && m.count() >= uint64(s.cfg.MaxMessages) {
		return overMessages
	}
	var oldSize, oldSame int64
	if replace {
		oldSize = int64(len(old.data))
		if string(old.sender) == sender {
			oldSame = oldSize
		}
	}
	over := func(cur uint64, freed, limit int64) bool {
		next := int64(cur) - freed + size
		return next > int64(cur) && next > limit
	}
	switch {
	case over(m.senderBytes([]byte(sender)), oldSame, s.cfg.MaxBytesPerSender):
		return overSender
	case over(m.bytes(), oldSize, s.cfg.MaxBytes):
		return overBytes
	case over(getUint(m.meta.Get(bytesKey)), oldSize, s.cfg.MaxTotalBytes):
		return overStore
	}
	return accepted
}

// addTotal adds d to the store's total bytes, meta/bytes.
func addTotal(meta *bolt.Bucket, d int64) error {
	if d == 0 {
		return nil
	}
	return meta.Put(bytesKey, putUint(addClamped(getUint(meta.Get(bytesKey)), d)))
}

// addClamped adds d to n, stopping at 0 rather than wrapping if a counter
// ever drifted below what is removed.
func addClamped(n uint64, d int64) uint64 {
	if d < 0 && uint64(-d) > n {
		return 0
	}
	return n + uint64(d)
}

func putUint(n uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), n) }

// getUint reads an 8-byte counter; a missing or malformed one reads 0.
func getUint(v []byte) uint64 {
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// usageOf is what a scan of the entries finds; rebuild writes it and the
// tests compare it with the counters.
type usageOf struct {
	count   uint64
	bytes   uint64
	senders map[string]uint64
}

// scanUsage counts one mailbox's entries by reading them.
func scanUsage(entries *bolt.Bucket) (usageOf, error) {
	u := usageOf{senders: map[string]uint64{}}
	err := entries.ForEach(func(k, v []byte) error {
		if v == nil {
			return fmt.Errorf("nested bucket %q among the entries", k)
		}
		u.count++
		val, _ := decodeValue(v)
		if n := uint64(len(val.data)); n > 0 {
			u.bytes += n
			u.senders[string(val.sender)] += n
		}
		return nil
	})
	return u, err
}
