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
	// acks holds, per user, the client's ack queued and not started yet
	// (enqueueAck): a later one takes its place instead of queuing behind
	// it. Guarded by ackMu.
	ackMu sync.Mutex
	acks  map[string]*queuedAck
}

type pageLimits struct{ messages, bytes int }

type queued struct {
	user string
	job  offlineJob
}

func newOfflineQueue(box Mailbox, shards, depth int, maxBytes int, page pageLimits, log *zap.Logger) *offlineQueue {
	q := &offlineQueue{box: box, log: log, seed: maphash.MakeSeed(), shards: make([]chan queued, shards), maxBytes: int64(maxBytes), page: page, acks: map[string]*queuedAck{}}
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
	if a, ok := job.(ackJob); ok {
		return q.enqueueAck(user, a)
	}
	return q.push(user, job)
}

// push queues job on user's shard; the caller holds closeMu and has
// checked closed.
func (q *offlineQueue) push(user string, job offlineJob) bool {
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
	// written marks the removal of a page written to a session without
	// acks (drain.go): that session's next read of the mailbox starts at
	// its head and relies on it, so it is never merged or dropped.
	written bool
}

// A client with acks may ack every message it receives, live ones too
// (commands.go ack), and each Ack costs the store a read of the mailbox
// and a write (with JetStream, a scan and a purge: milliseconds). Queued
// one behind the other, they held up the session's next page read (a
// pageJob on the same serial queue) by their sum: the rest of the
// mailbox, and the live messages held behind it, waited that long, and a
// client that gave up meanwhile (or closed) saw the mail stored during its
// login only at its next one. So a user has at most one client ack
// queued and not started: a later one takes its place (enqueueAck), and
// a page read waits behind at most that ack and the one running.
//
// Taking its place is safe, as acks are cumulative: a session's acks
// follow the order in which it was written its mail, so its latest covers
// the earlier ones, and with either store one ack alone never removes
// more than it would behind the acks it replaced (each removes a head of
// the mailbox, or the ids up to its own), so never mail that was not
// written. Two sessions of one user acking at once may leave written
// mail stored when the behind one's ack comes last: it comes again at a
// later login, never twice in one session (a session with acks reads on
// after what it was written). The merged ack keeps the place of the
// first: earlier than the later ones', which only removes less of what
// was stored meanwhile. A written ack (drain.go) is queued as is, and
// acks after it wait behind it.

// queuedAck is the client ack queued for a user.
type queuedAck struct{ ackJob }

// enqueueAck queues a client's ack, or merges it into the one queued; a
// written ack is queued as is and ends the merging. The caller holds
// closeMu and has checked closed.
func (q *offlineQueue) enqueueAck(user string, j ackJob) bool {
	q.ackMu.Lock()
	defer q.ackMu.Unlock()
	if j.written {
		delete(q.acks, user) // what comes after it stays after it
		return q.push(user, j)
	}
	if a := q.acks[user]; a != nil {
		if j.tries == 0 { // not a retry: the latest ack
			a.ackJob = j
		}
		// A retry of an ack that failed is covered by the newer one
		// queued, which is tried (and retried) in its turn.
		return true
	}
	a := &queuedAck{j}
	if !q.push(user, a) {
		return false
	}
	q.acks[user] = a
	return true
}

func (a *queuedAck) run(q *offlineQueue, user string) {
	q.ackMu.Lock()
	if q.acks[user] == a {
		delete(q.acks, user)
	}
	j := a.ackJob
	q.ackMu.Unlock()
	j.run(q, user)
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
