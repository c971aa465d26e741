package cluster

import (
	"context"
	"strconv"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Publishing in the sender's order. JetStream stores a node's publishes
// to one stream in the order they were sent, but only to a stream that
// exists: a publish that finds no stream fails (after nats.go's retries,
// about 500 ms) and must be sent again once the stream is made, and a
// later publish of the same sender, sent meanwhile to a stream another
// node made, would be stored before it. So a node publishes directly only
// to rooms whose stream it has seen (ensured: by a publish's ensure, or a
// follower's attach); the first publishes to any other room wait, in
// order, behind one ensure, and go out in order after it. A publish that
// still finds no stream (deleted, or lost with a NATS restart) makes the
// room unseen again and is sent again after an ensure, once: messages
// already in flight behind it may then be stored first (the stream is
// made anew then: a new epoch, CLUSTER.md).
//
// Memory: seen holds at most maxSeenRooms room names (then it starts
// again empty: a miss costs one ensure round trip); waiting holds the
// rooms being ensured and their queued publishes.
type publishOrder struct {
	mu      sync.Mutex
	seen    map[string]bool
	waiting map[string][]queuedPublish
}

// queuedPublish is a publish waiting for its room's stream.
type queuedPublish struct {
	send func()
	fail func(error)
}

const maxSeenRooms = 1 << 16

// markSeen records that room's stream exists.
func (o *publishOrder) markSeen(room string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.markSeenLocked(room)
}

func (o *publishOrder) markSeenLocked(room string) {
	if o.seen == nil || len(o.seen) >= maxSeenRooms {
		o.seen = map[string]bool{}
	}
	o.seen[room] = true
}

// forget records that room's stream was found missing.
func (o *publishOrder) forget(room string) {
	o.mu.Lock()
	delete(o.seen, room)
	o.mu.Unlock()
}

// admit reports whether p may be sent now; if not, it is queued, and
// first says the caller must start the room's ensure (ensureThenSend).
func (o *publishOrder) admit(room string, p queuedPublish) (now, first bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if q, ok := o.waiting[room]; ok {
		o.waiting[room] = append(q, p)
		return false, false
	}
	if o.seen[room] {
		return true, false
	}
	if o.waiting == nil {
		o.waiting = map[string][]queuedPublish{}
	}
	o.waiting[room] = []queuedPublish{p}
	return false, true
}

// ensureThenSend makes room's stream, then sends (or fails) its queued
// publishes in order, including those queued while it sends.
func (r *roomStreams) ensureThenSend(room string) {
	ctx, cancel := context.WithTimeout(context.Background(), setupAttemptTimeout)
	_, err := r.ensure(ctx, room)
	cancel()
	o := &r.order
	for {
		o.mu.Lock()
		q := o.waiting[room]
		if len(q) == 0 {
			delete(o.waiting, room)
			if err == nil {
				o.markSeenLocked(room)
			}
			o.mu.Unlock()
			return
		}
		o.waiting[room] = q[:0:0] // still waiting: later publishes queue behind these
		o.mu.Unlock()
		for _, p := range q {
			if err != nil {
				p.fail(err)
			} else {
				p.send()
			}
		}
	}
}

// publish appends data to room's stream; done gets the message's seq once
// JetStream stored it, or the error. Publishes of one node to one room are
// stored in the order publish was called (publishOrder).
func (r *roomStreams) publish(room string, conn uint64, data []byte, done func(uint64, error)) {
	m := nats.NewMsg(roomSubject(room))
	m.Data = data
	m.Header.Set(hdrNode, r.n.name)
	m.Header.Set(hdrConn, strconv.FormatUint(conn, 10))
	retried := false
	var send func()
	settle := func(seq uint64, err error) {
		if err != nil && !retried && noStream(err) {
			retried = true
			r.order.forget(room)
			r.queue(room, queuedPublish{send: send, fail: func(err error) { done(0, err) }})
			return
		}
		done(seq, err)
	}
	send = func() {
		r.pending.Store(m, settle)
		if _, err := r.js.PublishMsgAsync(m, jetstream.WithStallWait(publishStallWait)); err != nil {
			if _, mine := r.pending.LoadAndDelete(m); mine {
				settle(0, err)
			}
		}
	}
	r.queue(room, queuedPublish{send: send, fail: func(err error) { done(0, err) }})
}

// queue sends p now if room's stream is known to exist, else behind the
// room's ensure.
func (r *roomStreams) queue(room string, p queuedPublish) {
	now, first := r.order.admit(room, p)
	switch {
	case now:
		p.send()
	case first:
		go r.ensureThenSend(room)
	}
}
