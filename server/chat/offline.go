package chat

import (
	"encoding/json"
	"errors"
	"hash/maphash"
	"time"

	"go.uber.org/zap"

	"github.com/chatd/chatd/server/mailbox"
	"github.com/chatd/chatd/server/wire"
)

// Mailbox is the durable offline store the service needs. Its methods block
// on disk; they run only on the offline queue's goroutines.
type Mailbox interface {
	Put(user string, e mailbox.Entry) error
	Load(user string, now time.Time) ([]mailbox.Entry, error)
	Ack(user string, upTo uint64) (int, error)
}

// offlineJob is one mailbox operation for one user.
type offlineJob interface {
	run(q *offlineQueue, user string)
}

// offlineQueue runs mailbox operations on a fixed set of goroutines. All
// operations for one user go to the same goroutine, in the order they were
// enqueued, so a load at login sees every store queued before it.
type offlineQueue struct {
	box    Mailbox
	log    *zap.Logger
	seed   maphash.Seed
	shards []chan queued
}

type queued struct {
	user string
	job  offlineJob
}

func newOfflineQueue(box Mailbox, shards, depth int, log *zap.Logger) *offlineQueue {
	q := &offlineQueue{box: box, log: log, seed: maphash.MakeSeed(), shards: make([]chan queued, shards)}
	for i := range q.shards {
		q.shards[i] = make(chan queued, depth)
	}
	return q
}

// run is one shard's loop; it returns when the shard is closed.
func (q *offlineQueue) run(i int) {
	for it := range q.shards[i] {
		it.job.run(q, it.user)
	}
}

func (q *offlineQueue) close() {
	for _, ch := range q.shards {
		close(ch)
	}
}

// enqueue queues job for user without blocking; false means the queue is
// full.
func (q *offlineQueue) enqueue(user string, job offlineJob) bool {
	ch := q.shards[maphash.String(q.seed, user)%uint64(len(q.shards))]
	select {
	case ch <- queued{user: user, job: job}:
		return true
	default:
		return false
	}
}

// storeJob stores a private message for an offline user, then tells the
// sender.
type storeJob struct {
	msg    wire.Message // encoded only here, when it is actually stored
	stored time.Time
	from   *session
	ref    []byte
}

// stored is what a storeJob reports to the sender's session.
type stored struct {
	id  uint64
	ref []byte
	err error
}

func (j *storeJob) run(q *offlineQueue, user string) {
	m := j.msg
	m.Offline = true
	data, err := json.Marshal(m)
	if err == nil {
		err = q.box.Put(user, mailbox.Entry{ID: m.ID, Stored: j.stored, Data: data})
	}
	if err != nil && !errors.Is(err, mailbox.ErrFull) {
		q.log.Error("mailbox store", zap.String("user", user), zap.Error(err))
	}
	j.from.notify(stored{id: j.msg.ID, ref: j.ref, err: err})
}

// loadJob reads a user's mailbox for a session that just logged in.
type loadJob struct{ s *session }

// loaded is what a loadJob reports.
type loaded struct {
	entries []mailbox.Entry
	err     error
}

func (j *loadJob) run(q *offlineQueue, user string) {
	entries, err := q.box.Load(user, time.Now())
	if err != nil {
		q.log.Error("mailbox load", zap.String("user", user), zap.Error(err))
	}
	j.s.notify(loaded{entries: entries, err: err})
}

// ackJob removes delivered or acknowledged messages.
type ackJob struct{ upTo uint64 }

func (j ackJob) run(q *offlineQueue, user string) {
	if _, err := q.box.Ack(user, j.upTo); err != nil {
		q.log.Error("mailbox ack", zap.String("user", user), zap.Error(err))
	}
}
