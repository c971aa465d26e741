package cluster

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// Room history across nodes. Every room has a JetStream stream,
// chatd_room_<room> (the name in unpadded base64url), capturing the room's
// subject chatd.room.<room>. A room message is published to that subject
// (PublishRoom) and the stream numbers it: its stream sequence is the
// room's seq, the same on every node. Each node with members of the room
// follows the stream (FollowRoom, an ordered consumer starting at the
// first message the stream keeps) and fans each message out to its
// members from there, its own members' messages included: so every member
// on every node gets a room's messages in one order, seq order, and each
// node's copy of the history is the stream's.
//
// The stream keeps the room's newest history.messages messages (plus
// streamSlack for followers behind), none older than history.max_age, in memory or
// on disk (history.durable), with the cluster's replicas. Streams of rooms
// without members anywhere are deleted by the sweeper (sweepRooms): once
// they keep no message (the room then starts again at seq 1, as a kept
// room on one node does after max_age), and beyond max_rooms of them, the
// ones whose last message is oldest first.

// RoomStreamsConfig is how the room streams keep history; chat's
// history settings.
type RoomStreamsConfig struct {
	Messages int           // kept per room; at least 1 is kept (the seq)
	MaxAge   time.Duration // messages older are dropped
	Durable  bool          // file storage (else memory)
	MaxIdle  int           // streams of rooms without members kept at most
}

// Headers of a room message: the node and connection that published it,
// so that node does not send it back to the sending connection.
const (
	hdrNode = "Chatd-Node"
	hdrConn = "Chatd-Conn"
)

// streamSlack is how many messages a room's stream keeps beyond
// history.messages: a follower that falls that far behind (its node busy)
// still gets every message. A node's copy of the history keeps
// history.messages.
const streamSlack = 4096

// roomStreamPrefix begins every room stream's name.
const roomStreamPrefix = "chatd_room_"

// roomStreamName is room's stream: base64url of the name, or, for names
// too long for a stream name, a hash of it.
func roomStreamName(room string) string {
	b := base64.RawURLEncoding.EncodeToString([]byte(room))
	if len(b) <= 200 {
		return roomStreamPrefix + b
	}
	sum := sha256.Sum256([]byte(room))
	return roomStreamPrefix + "h" + hex.EncodeToString(sum[:])
}

// roomFromSubject is the room of a room subject, or "" if it is none.
func roomFromSubject(subject string) string {
	const p = "chatd.room."
	if len(subject) <= len(p) || subject[:len(p)] != p {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(subject[len(p):])
	if err != nil {
		return ""
	}
	return string(b)
}

// roomStreams publishes to and follows the room streams.
type roomStreams struct {
	n *Node
	// js publishes room messages; its ack and error handlers settle
	// pending (one JetStream context with its own reply subscription).
	js      jetstream.JetStream
	pending sync.Map // *nats.Msg → func(seq uint64, err error)

	slack        int           // streamSlack; tests change it
	sweepConfirm time.Duration // sweepConfirm; tests change it
	// afterEnsure, if set (tests), runs in a follower's attach between
	// its look at the stream and the making of its consumer.
	afterEnsure atomic.Pointer[func(room string)]

	mu        sync.Mutex
	cfg       RoomStreamsConfig
	followers map[*Follower]bool
	rooms     map[string]int // followers by room

	order publishOrder // keeps a room's publishes in order while its stream is made
}

// publishStallWait bounds how long a room publish waits when
// publishMaxPending messages are already waiting for JetStream: past it
// the sender gets an error rather than the event loop blocking.
const (
	publishMaxPending = 1 << 16
	publishStallWait  = 5 * time.Millisecond
	publishAckTimeout = 10 * time.Second
)

func newRoomStreams(n *Node) (*roomStreams, error) {
	r := &roomStreams{n: n, followers: map[*Follower]bool{}, rooms: map[string]int{}, slack: cmp.Or(n.streamSlack, streamSlack), sweepConfirm: sweepConfirm,
		cfg: RoomStreamsConfig{Messages: 100, MaxAge: 24 * time.Hour, MaxIdle: 10000}}
	js, err := jetstream.New(n.nc,
		jetstream.WithPublishAsyncMaxPending(publishMaxPending),
		jetstream.WithPublishAsyncTimeout(publishAckTimeout),
		jetstream.WithPublishAsyncAckHandler(func(_ jetstream.JetStream, m *nats.Msg, ack *jetstream.PubAck) {
			r.settle(m, ack.Sequence, nil)
		}),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, m *nats.Msg, err error) {
			r.settle(m, 0, err)
		}))
	if err != nil {
		return nil, err
	}
	r.js = js
	return r, nil
}

func (r *roomStreams) settle(m *nats.Msg, seq uint64, err error) {
	if done, ok := r.pending.LoadAndDelete(m); ok {
		done.(func(uint64, error))(seq, err)
	}
}

// keep is how many messages of a room's stream a node keeps: where a new
// follower starts.
func (r *roomStreams) keep() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return uint64(max(r.cfg.Messages, 1))
}

// streamConfig is the stream of room.
func (r *roomStreams) streamConfig(room string) jetstream.StreamConfig {
	r.mu.Lock()
	c := r.cfg
	r.mu.Unlock()
	storage := jetstream.MemoryStorage
	if c.Durable {
		storage = jetstream.FileStorage
	}
	return jetstream.StreamConfig{
		Name:       roomStreamName(room),
		Subjects:   []string{roomSubject(room)},
		MaxMsgs:    int64(max(c.Messages, 1) + r.slack),
		MaxAge:     c.MaxAge,
		Duplicates: min(c.MaxAge, 2*time.Minute),
		Discard:    jetstream.DiscardOld,
		Storage:    storage,
		Replicas:   r.n.replicas,
	}
}

// ensure creates room's stream unless it exists, updating it to this
// node's config, and returns its info. A stream that cannot take this
// config (its storage changed with history.durable: JetStream cannot
// convert it) is used as it is, with a warning.
func (r *roomStreams) ensure(ctx context.Context, room string) (*jetstream.StreamInfo, error) {
	s, err := r.n.js.CreateOrUpdateStream(ctx, r.streamConfig(room))
	if err != nil {
		old, gerr := r.n.js.Stream(ctx, roomStreamName(room))
		if gerr != nil {
			return nil, err
		}
		r.logRoom("kept with its old config", room, err)
		s = old
	}
	return s.CachedInfo(), nil
}

// noStream reports whether err says no stream took a publish (or the
// stream asked for does not exist).
func noStream(err error) bool {
	return errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, jetstream.ErrStreamNotFound) || isNoStream(err)
}

// PublishRoom appends data (a room message without its seq) to room's
// stream for every node with members, the sending connection conn of this
// node excepted. done gets the message's seq once JetStream stored it, or
// the error (then no member got it, as far as this node knows: a timeout
// may still have stored it). done runs on a NATS goroutine and must not
// block. PublishRoom does not block, except for publishStallWait when
// JetStream is that far behind.
func (n *Node) PublishRoom(room string, conn uint64, data []byte, done func(seq uint64, err error)) {
	n.streams.publish(room, conn, data, done)
}

// ConfigureRooms sets how room streams keep history; call it before the
// first FollowRoom.
func (n *Node) ConfigureRooms(c RoomStreamsConfig) {
	n.streams.mu.Lock()
	n.streams.cfg = c
	n.streams.mu.Unlock()
}

// logRoom logs a room stream's trouble.
func (r *roomStreams) logRoom(msg, room string, err error) {
	r.n.log.Warn("cluster: room stream: "+msg, zap.String("room", room), zap.Error(err))
}

// roomSubject is where room's messages are published: its stream's
// subject.
func roomSubject(room string) string {
	return "chatd.room." + base64.RawURLEncoding.EncodeToString([]byte(room))
}
