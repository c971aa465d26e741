package chat

import (
	"encoding/json"
	"errors"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/chatd/chatd/server/mailbox"
	"github.com/chatd/chatd/server/wire"
)

// Mailbox is the durable offline store the service needs. Its methods block
// on disk; they run only on the offline queue's goroutines.
type Mailbox interface {
	Put(user string, e mailbox.Entry) error
	LoadPage(user string, after uint64, maxEntries, maxBytes int, now time.Time) ([]mailbox.Entry, error)
	Ack(user string, upTo uint64) (int, error)
	SetSeen(user string, at time.Time) error
	Seen(user string) (at time.Time, ok bool, err error)
}

// offlineJob is one mailbox operation for one user.
type offlineJob interface {
	run(q *offlineQueue, user string)
}

// sizedJob is a job that holds message bytes while it waits; the queue
// bounds the total.
type sizedJob interface {
	size() int
}

// offlineQueue runs mailbox operations on a fixed set of goroutines. All
// operations for one user go to the same goroutine, in the order they were
// enqueued, so a load at login sees every store queued before it.
//
// Bounds: each shard queues at most depth jobs, and the messages waiting
// to be stored hold at most maxBytes in all; past either, enqueue refuses
// and the caller answers "server busy".
type offlineQueue struct {
	box    Mailbox
	events EventSink // stored events (events.go)
	// stored, with a cluster, is told of each message stored (cluster.go
	// mailStored); nil on one node.
	stored   func(user string)
	log      *zap.Logger
	seed     maphash.Seed
	shards   []chan queued
	maxBytes int64
	bytes    atomic.Int64  // bytes of sized jobs queued or running
	storedOK atomic.Uint64 // messages stored (stats.go)
	page     pageLimits
	// closeMu orders enqueue with close: a job queued late (an ack
	// retried after a delay) is dropped once the queue is closed, never
	// sent on a closed channel.
	closeMu sync.RWMutex
	closed  bool
}

type pageLimits struct{ messages, bytes int }

type queued struct {
	user string
	job  offlineJob
}

func newOfflineQueue(box Mailbox, shards, depth int, maxBytes int, page pageLimits, log *zap.Logger) *offlineQueue {
	q := &offlineQueue{box: box, log: log, seed: maphash.MakeSeed(), shards: make([]chan queued, shards), maxBytes: int64(maxBytes), page: page}
	for i := range q.shards {
		q.shards[i] = make(chan queued, depth)
	}
	return q
}

// run is one shard's loop; it returns when the shard is closed.
func (q *offlineQueue) run(i int) {
	for it := range q.shards[i] {
		it.job.run(q, it.user)
		if sj, ok := it.job.(sizedJob); ok {
			q.bytes.Add(-int64(sj.size()))
		}
	}
}

func (q *offlineQueue) close() {
	q.closeMu.Lock()
	defer q.closeMu.Unlock()
	q.closed = true
	for _, ch := range q.shards {
		close(ch)
	}
}

// enqueue queues job for user without blocking; false means the queue is
// full.
func (q *offlineQueue) enqueue(user string, job offlineJob) bool {
	q.closeMu.RLock()
	defer q.closeMu.RUnlock()
	if q.closed {
		return false
	}
	n := int64(0)
	if sj, ok := job.(sizedJob); ok {
		n = int64(sj.size())
		if q.bytes.Add(n) > q.maxBytes {
			q.bytes.Add(-n)
			return false
		}
	}
	ch := q.shards[maphash.String(q.seed, user)%uint64(len(q.shards))]
	select {
	case ch <- queued{user: user, job: job}:
		return true
	default:
		q.bytes.Add(-n)
		return false
	}
}

// storeJob stores a private message for an offline user, then tells the
// sender.
type storeJob struct {
	msg    wire.Message // encoded only here, when it is actually stored
	stored time.Time
	from   origin
	ref    []byte
}

// stored is what a storeJob reports to the sender's session.
type stored struct {
	id  uint64
	ref []byte
	err error
}

func (j *storeJob) size() int { return len(j.msg.Data) + len(j.msg.Sender) + len(j.ref) + 128 }

func (j *storeJob) run(q *offlineQueue, user string) {
	m := j.msg
	m.Offline = true
	data, err := json.Marshal(m)
	if err == nil {
		err = q.box.Put(user, mailbox.Entry{ID: m.ID, Stored: j.stored, Sender: m.Sender, Data: data})
	}
	if err != nil && !isQuota(err) {
		q.log.Error("mailbox store", zap.String("user", user), zap.Error(err))
	}
	q.storedEvent(user, m, err)
	if err == nil && q.stored != nil {
		q.stored(user)
	}
	j.from.notify(stored{id: j.msg.ID, ref: j.ref, err: err})
}

func isQuota(err error) bool {
	return errors.Is(err, mailbox.ErrFull) || errors.Is(err, mailbox.ErrSenderQuota) || errors.Is(err, mailbox.ErrStoreFull)
}

// pageJob reads the next page of a user's mailbox, after the id after,
// for a session that is draining it.
type pageJob struct {
	s     *session
	after uint64
}

// page is what a pageJob reports.
type page struct {
	entries []mailbox.Entry
	err     error
}

func (j pageJob) run(q *offlineQueue, user string) {
	if j.s.gone.Load() {
		return
	}
	entries, err := q.box.LoadPage(user, j.after, q.page.messages, q.page.bytes, time.Now())
	if err != nil {
		q.log.Error("mailbox load", zap.String("user", user), zap.Error(err))
	}
	j.s.notify(page{entries: entries, err: err})
}

// ackJob removes delivered or acknowledged messages.
type ackJob struct {
	upTo  uint64
	tries int
}

// ackRetries and ackRetryDelay: a removal that failed (a JetStream
// mailbox electing a new leader) is tried again, later, behind what was
// queued meanwhile, rather than leaving delivered messages to come again
// at every login.
const (
	ackRetries    = 5
	ackRetryDelay = 2 * time.Second
)

func (j ackJob) run(q *offlineQueue, user string) {
	_, err := q.box.Ack(user, j.upTo)
	if err == nil {
		return
	}
	if j.tries < ackRetries {
		q.log.Warn("mailbox ack failed; trying again", zap.String("user", user), zap.Error(err))
		j.tries++
		time.AfterFunc(ackRetryDelay, func() { q.enqueue(user, j) })
		return
	}
	q.log.Error("mailbox ack", zap.String("user", user), zap.Error(err))
}

// seenJob records when a user's last session ended.
type seenJob struct{ at time.Time }

func (j seenJob) run(q *offlineQueue, user string) {
	if err := q.box.SetSeen(user, j.at); err != nil {
		q.log.Warn("mailbox last seen", zap.String("user", user), zap.Error(err))
	}
}

// seenLookup answers a seen request for a user who is not online.
type seenLookup struct {
	s   *session
	ref json.RawMessage
}

// seenAnswer is what a seenLookup reports.
type seenAnswer struct {
	user     string
	lastSeen int64 // unix ms, 0 = unknown
	ref      json.RawMessage
}

func (j seenLookup) run(q *offlineQueue, user string) {
	at, ok, err := q.box.Seen(user)
	if err != nil {
		q.log.Warn("mailbox last seen", zap.String("user", user), zap.Error(err))
	}
	a := seenAnswer{user: user, ref: j.ref}
	if ok {
		a.lastSeen = at.UnixMilli()
	}
	j.s.notify(a)
}
