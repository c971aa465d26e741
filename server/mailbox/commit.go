package mailbox

import (
	"runtime"
	"time"

	bolt "go.etcd.io/bbolt"
)

const (
	// maxBatch caps how many writes share one transaction.
	maxBatch = 1000
	// boltBatchDelay is bbolt's MaxBatchDelay, used only by the db.Batch
	// baseline (withBoltBatch). bbolt's default of 10 ms measured worse.
	boltBatchDelay = time.Millisecond
)

// request is one write waiting for a durable commit.
type request struct {
	// fn applies the write. It may run twice (see commit), so it must
	// reset whatever result it records at the start of every run.
	fn   func(*bolt.Tx) error
	done chan error // buffered 1; receives the commit's outcome
}

// write runs fn in a transaction shared with the writes queued alongside
// it, and returns once that transaction is committed and fsynced, or failed.
//
// This is group commit. One goroutine (run) commits; while its commit is on
// disk, new writes queue up, and its next transaction takes all of them. A
// lone write is committed at once, and under load one fsync covers every
// write that arrived during the previous one. bbolt's db.Batch also shares
// fsyncs, but it holds every batch open for a fixed delay first: on this
// class of disk, where a commit costs ~0.5 ms, that made a lone writer about
// five times slower (BenchmarkPut compares the two; see withBoltBatch).
func (s *Store) write(fn func(*bolt.Tx) error) error {
	if s.boltBatch {
		return s.db.Batch(fn)
	}
	r := &request{fn: fn, done: make(chan error, 1)}
	select {
	case s.reqs <- r: // unbuffered: only run receives, and it always answers
	case <-s.quit:
		return ErrClosed
	}
	return <-r.done
}

// run is the Store's one goroutine, started by Open. It commits batches of
// queued writes until Close closes s.quit, then closes s.stopped. Every
// request it receives is answered.
func (s *Store) run() {
	defer close(s.stopped)
	batch := make([]*request, 0, 64)
	for {
		select { // after a commit, stop before taking more work
		case <-s.quit:
			return
		default:
		}
		select {
		case <-s.quit:
			return
		case r := <-s.reqs:
			batch = append(batch[:0], r)
		}
		// Writers just answered are runnable but may not have queued their
		// next write yet; on few cores, letting them run first roughly
		// doubles the writes per commit under load, and costs nothing when
		// no one else is runnable.
		runtime.Gosched()
	gather:
		for len(batch) < maxBatch {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		s.commit(batch)
		clear(batch) // drop references to answered requests
	}
}

// commit applies batch in one transaction and answers every request. If a
// write fails, the transaction is rolled back and each write is retried in
// a transaction of its own, so only the failing one reports an error.
func (s *Store) commit(batch []*request) {
	s.commits.Add(1)
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, r := range batch {
			if err := r.fn(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && len(batch) > 1 {
		for _, r := range batch {
			s.commits.Add(1)
			r.done <- s.db.Update(r.fn)
		}
		return
	}
	for _, r := range batch {
		r.done <- err
	}
}
