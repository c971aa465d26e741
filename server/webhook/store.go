package webhook

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/chatd/chatd/server/internal/boltfile"
	"github.com/chatd/chatd/server/wire"
)

// bucketEvents holds the undelivered events, keyed by 8-byte big-endian id,
// valued by their JSON.
var bucketEvents = []byte("events")

// store is the durable file of a Sink with Config.Durable. It is used by
// New, then the Sink's persist goroutine, then Close, never concurrently.
type store struct {
	db *bolt.DB
}

func openStore(dir string) (*store, error) {
	if dir == "" {
		return nil, fmt.Errorf("webhooks.durable: no directory for %s", FileName)
	}
	db, path, _, err := boltfile.Open(dir, FileName, time.Second)
	if err != nil {
		return nil, fmt.Errorf("webhooks store: %w", err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketEvents)
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("webhooks store %s: %w", path, err)
	}
	return &store{db: db}, nil
}

// load returns the stored events in id order. It leaves them in the file:
// they stay there until save replaces them, so a crash before then sends
// them again after the next start (at least once).
func (st *store) load() ([]wire.Event, error) {
	var out []wire.Event
	err := st.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketEvents).ForEach(func(_, v []byte) error {
			var e wire.Event
			if err := json.Unmarshal(v, &e); err != nil {
				return nil // not ours to judge: skip a damaged value
			}
			out = append(out, e)
			return nil
		})
	})
	return out, err
}

// save replaces the file's events with evs, in one fsynced transaction.
func (st *store) save(evs []wire.Event) error {
	return st.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketEvents); err != nil {
			return err
		}
		b, err := tx.CreateBucket(bucketEvents)
		if err != nil {
			return err
		}
		var key [8]byte
		for _, e := range evs {
			v, err := json.Marshal(e)
			if err != nil {
				return err
			}
			binary.BigEndian.PutUint64(key[:], e.ID)
			if err := b.Put(key[:], v); err != nil {
				return err
			}
		}
		return nil
	})
}

// sync adds evs and deletes every event with an id up to delivered, in one
// fsynced transaction.
func (st *store) sync(evs []wire.Event, delivered uint64) error {
	return st.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEvents)
		var key [8]byte
		for _, e := range evs {
			if e.ID <= delivered {
				continue
			}
			v, err := json.Marshal(e)
			if err != nil {
				return err
			}
			binary.BigEndian.PutUint64(key[:], e.ID)
			if err := b.Put(key[:], v); err != nil {
				return err
			}
		}
		var done [][]byte
		c := b.Cursor()
		for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) <= delivered; k, _ = c.Next() {
			done = append(done, k) // valid for the transaction's life
		}
		for _, k := range done {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

func (st *store) close() error { return st.db.Close() }
