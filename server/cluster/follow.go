package cluster

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// RoomMessage is one message of a room's stream, as a follower delivers
// it.
type RoomMessage struct {
	Seq  uint64 // the room's seq: the stream sequence
	Data []byte // what PublishRoom was given
	// Conn is the connection of this node that published it, 0 when
	// another node did (or the API, which has no connection).
	Conn uint64
}

// RoomStart tells a follower's owner where its deliveries begin: the next
// message delivered has a seq after Last; those up to Target were in the
// stream before the follower started. Reset says the stream is not the
// one followed before (NATS lost it and it was made again): the seqs start
// over and what the owner kept of the room is gone.
type RoomStart struct {
	Last   uint64
	Target uint64 // the stream's last seq now: later ones are news
	Reset  bool
	// Early says Ready was closed before this start (NATS did not answer
	// within Config.JoinWait): members may have been answered with what
	// the node had then, nothing, so every message delivered is news.
	Early bool
}

// Follower delivers a room stream's messages to this node, in seq order,
// each once, from the first message the stream keeps when it starts, until
// Stop. It attaches again by itself after NATS comes back, going on after
// the last message it delivered.
type Follower struct {
	r     *roomStreams
	room  string
	start func(RoomStart)
	h     func(RoomMessage)

	ready     chan struct{}
	readyOnce sync.Once
	stop      chan struct{}
	stopOnce  sync.Once
	trouble   chan struct{} // a consumer error or NATS came back: check the stream

	cursor  atomic.Uint64 // the last seq delivered
	dseq    atomic.Uint64 // the consumer's last delivery sequence
	target  atomic.Uint64 // caught up once cursor reaches it
	created time.Time     // of the stream followed; owned by run
	// phase is followWaiting until the first start, then followStarted,
	// or followEarly if Config.JoinWait passed first (Ready closed then).
	phase atomic.Int32
}

const (
	followWaiting int32 = iota
	followStarted
	followEarly
)

// defaultJoinWait bounds how long Ready waits for the stream
// (Config.JoinWait): a node cut off from NATS answers joins with what it
// has rather than holding them.
const defaultJoinWait = 3 * time.Second

// FollowRoom follows room's stream, making it first if it does not exist.
// start is called before each run of deliveries begins (see RoomStart),
// then h with each message; both run on one goroutine at a time and must
// not block. FollowRoom does not block: the stream is found or made in
// the background, and Ready is closed once the follower has delivered
// every message the stream had when it started (see Ready).
func (n *Node) FollowRoom(room string, start func(RoomStart), h func(RoomMessage)) *Follower {
	f := &Follower{r: n.streams, room: room, start: start, h: h,
		ready: make(chan struct{}), stop: make(chan struct{}), trouble: make(chan struct{}, 1)}
	n.streams.mu.Lock()
	n.streams.followers[f] = true
	n.streams.rooms[room]++
	n.streams.mu.Unlock()
	n.wg.Go(f.run)
	return f
}

// Ready is closed once the follower caught up with the stream as it was
// when the follower started, or after Config.JoinWait if it has not
// started by then (NATS does not answer), or by Stop.
func (f *Follower) Ready() <-chan struct{} { return f.ready }

// Stop ends the deliveries; h is not called once Stop returned, except by
// a call already under way.
func (f *Follower) Stop() {
	f.stopOnce.Do(func() {
		close(f.stop)
		f.markReady() // nobody waits for a follower that stopped
		f.r.mu.Lock()
		delete(f.r.followers, f)
		if f.r.rooms[f.room]--; f.r.rooms[f.room] <= 0 {
			delete(f.r.rooms, f.room)
		}
		f.r.mu.Unlock()
	})
}

func (f *Follower) markReady() { f.readyOnce.Do(func() { close(f.ready) }) }

// check asks the follower to look at its stream again.
func (f *Follower) check() {
	select {
	case f.trouble <- struct{}{}:
	default:
	}
}

func (f *Follower) stopped() bool {
	select {
	case <-f.stop:
		return true
	default:
		return false
	}
}

// run attaches to the stream and watches it until Stop, attaching again
// when the stream went away or was made anew.
func (f *Follower) run() {
	// The bound applies only until the follower starts: once it reads the
	// stream, Ready waits for the catch-up (a few hundred messages from
	// a NATS that answers).
	bound := time.AfterFunc(f.r.n.joinWait, func() {
		if f.phase.CompareAndSwap(followWaiting, followEarly) {
			f.markReady()
		}
	})
	defer bound.Stop()
	var cc jetstream.ConsumeContext
	var cons jetstream.Consumer
	defer func() {
		if cc != nil {
			cc.Stop()
			f.deleteConsumer(cons)
		}
	}()
	wait := 250 * time.Millisecond
	for !f.stopped() {
		if cc == nil {
			var err error
			if cons, cc, err = f.attach(); err != nil {
				if !f.stopped() {
					f.r.logRoom("follow", f.room, err)
				}
				select {
				case <-f.stop:
				case <-time.After(wait):
				}
				wait = min(2*wait, 5*time.Second)
				continue
			}
			wait = 250 * time.Millisecond
		}
		select {
		case <-f.stop:
			return
		case <-f.trouble:
		}
		// A consumer error (NATS restarted, the consumer or the stream
		// deleted, a heartbeat missed): a new consumer after the last
		// message delivered, or, if the stream is another one now, from
		// its start (attach sees it).
		cc.Stop()
		f.deleteConsumer(cons)
		cc = nil
	}
}

// attach makes sure the stream exists and starts a consumer after the
// last message delivered (or, for a new follower or a stream made anew,
// at the first message the node keeps). The consumer is the follower's
// own, not nats.go's ordered consumer, which recreates itself after the
// last sequence it saw even when the stream is another one by then: it
// would skip the new stream's first messages.
func (f *Follower) attach() (jetstream.Consumer, jetstream.ConsumeContext, error) {
	ctx, cancel := context.WithTimeout(context.Background(), setupAttemptTimeout)
	defer cancel()
	info, err := f.r.ensure(ctx, f.room)
	if err != nil {
		return nil, nil, err
	}
	f.r.order.markSeen(f.room) // publishes to the room need not ensure it
	if hook := f.r.afterEnsure.Load(); hook != nil {
		(*hook)(f.room)
	}
	st := info.State
	cursor := f.cursor.Load()
	fresh := f.created.IsZero()
	reset := !fresh && (!info.Created.Equal(f.created) || st.LastSeq < cursor)
	from := cursor
	early := false
	if fresh || reset {
		// From the oldest message the node keeps (history.messages),
		// not the stream's oldest: that one goes first, and the stream's
		// slack is for a follower behind.
		from = st.LastSeq
		if st.Msgs > 0 {
			from = max(st.FirstSeq, st.LastSeq-min(st.LastSeq, f.r.keep())+1) - 1
		}
		// NATS answered: the follower has started, so Ready waits for
		// the catch-up from here on, not Config.JoinWait (the two
		// requests below are part of reading the stream).
		early = !f.phase.CompareAndSwap(followWaiting, followStarted) && f.phase.Load() == followEarly
	}
	name := roomStreamName(f.room)
	cons, err := f.r.n.js.CreateConsumer(ctx, name, jetstream.ConsumerConfig{
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       from + 1,
		AckPolicy:         jetstream.AckNonePolicy,
		InactiveThreshold: consumerInactive,
		MemoryStorage:     true,
		Replicas:          1,
	})
	if err != nil {
		return nil, nil, err
	}
	// The consumer is on the stream that has the room's name now, which
	// need not be the one ensure described: NATS restarted between the
	// two requests (ensure answered by the old server, the consumer made
	// on the new one, where another node's publish had made the stream
	// anew), or the stream was deleted and made again meanwhile. Going on
	// after the cursor in another stream would skip its first messages,
	// as if they were the old stream's. If the stream is still the one
	// described now that the consumer exists, the consumer is on it (a
	// stream made anew has another Created); else look again.
	if s, err := f.r.n.js.Stream(ctx, name); err != nil || !s.CachedInfo().Created.Equal(info.Created) {
		f.deleteConsumer(cons)
		if err == nil {
			err = errStreamReplaced
		}
		return nil, nil, err
	}
	if fresh || reset {
		f.start(RoomStart{Last: from, Target: st.LastSeq, Reset: reset, Early: early})
		f.cursor.Store(from)
	}
	f.created = info.Created
	f.target.Store(st.LastSeq)
	f.dseq.Store(0)
	cc, err := cons.Consume(f.deliver, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		f.r.n.log.Debug("cluster: room stream consumer", zap.String("room", f.room), zap.Error(err))
		f.check()
	}))
	if err != nil {
		return nil, nil, err
	}
	// Only now is every message stored from here on delivered: ready,
	// unless the stream's earlier messages are still to come.
	if from >= st.LastSeq {
		f.markReady()
	}
	return cons, cc, nil
}

// errStreamReplaced: the room's stream was made anew while a follower
// attached to it; it attaches again.
var errStreamReplaced = errors.New("the room's stream was made anew while the follower attached")

// consumerInactive is how long NATS keeps a follower's consumer that no
// longer asks for messages: its node died, or could not delete it.
const consumerInactive = time.Minute

// deleteConsumer deletes the consumer a follower stopped using (NATS
// would keep it for consumerInactive).
func (f *Follower) deleteConsumer(cons jetstream.Consumer) {
	if cons == nil {
		return
	}
	info := cons.CachedInfo()
	if info == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupAttemptTimeout)
	defer cancel()
	_ = f.r.n.js.DeleteConsumer(ctx, info.Stream, info.Name)
}

// deliver hands one stream message to the owner.
func (f *Follower) deliver(msg jetstream.Msg) {
	md, err := msg.Metadata()
	if err != nil || f.stopped() {
		return
	}
	if md.Sequence.Consumer != f.dseq.Load()+1 {
		f.check() // the consumer lost one: a new consumer after the cursor
		return
	}
	f.dseq.Store(md.Sequence.Consumer)
	seq := md.Sequence.Stream
	last := f.cursor.Load()
	if seq <= last {
		return // delivered before a consumer reset
	}
	if seq > last+1 {
		// The stream dropped them before this follower had them: more
		// than streamSlack behind, or past max_age.
		f.r.n.log.Warn("cluster: room messages skipped: the node's follower fell behind the room's stream",
			zap.String("room", f.room), zap.Uint64("from", last+1), zap.Uint64("to", seq-1))
	}
	f.cursor.Store(seq)
	rm := RoomMessage{Seq: seq, Data: msg.Data()}
	if h := msg.Headers(); h.Get(hdrNode) == f.r.n.name {
		rm.Conn, _ = strconv.ParseUint(h.Get(hdrConn), 10, 64)
	}
	f.h(rm)
	if seq >= f.target.Load() {
		f.markReady()
	}
}

// stopAll stops every follower (the node closes).
func (r *roomStreams) stopAll() {
	r.mu.Lock()
	all := make([]*Follower, 0, len(r.followers))
	for f := range r.followers {
		all = append(all, f)
	}
	r.mu.Unlock()
	for _, f := range all {
		f.Stop()
	}
}

// checkFollowers asks every follower to look at its stream: NATS came
// back, and may have lost memory streams meanwhile.
func (r *roomStreams) checkFollowers() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for f := range r.followers {
		f.check()
	}
}

// following reports whether this node follows room.
func (r *roomStreams) following(room string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rooms[room] > 0
}
