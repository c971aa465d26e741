package chat

import (
	"context"
	"encoding/json"
	"fmt"

	"go.uber.org/zap"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/api"
	"github.com/chatd/chatd/server/cluster"
	"github.com/chatd/chatd/server/wire"
)

// Rooms in a cluster. A room's messages are not numbered by the node a
// member sent them on: they go to the room's JetStream stream
// (cluster.Node.PublishRoom), whose sequence is the room's seq on every
// node. A node with members of the room follows the stream
// (cluster.Node.FollowRoom), from the first message the stream keeps:
// those it finds there when it starts following (up to room.liveFrom) go
// into the room's history only; the later ones are posted to the members
// (room.post, under the room's lock as on one node), the sender's own
// node included, except to the connection that sent it. So every member
// on every node gets a room's messages in seq order, history and join
// with since answer the same on every node, and a node that joins a room
// late has the history the others have.
//
// The room's first join on a node waits for the follower to catch up
// (room.subscribed, session.caughtUp). When the room's last member here
// leaves, the follower stops and the node forgets the history: the stream
// keeps it. When NATS lost the stream (a restarted NATS server without
// file storage) and it is made again, the room's seqs start over (its
// epoch changes): the history is dropped and members take seq 1 as the
// next message, as after a restart of a single node.

// follow starts rm's follower; rm was just created. rooms.mu is held.
func (r *rooms) follow(rm *room) {
	rm.subscribed = make(chan struct{})
	rm.follower = r.cluster.FollowRoom(rm.name, rm.followFrom(&r.hist), func(m cluster.RoomMessage) {
		r.remoteMessage(rm, m)
	})
	go func(f *cluster.Follower, done chan struct{}) {
		<-f.Ready()
		close(done)
	}(rm.follower, rm.subscribed)
}

// followFrom returns what rm does when its follower starts delivering:
// the room's seq is the stream's, and the messages the stream has now
// are history (liveFrom).
func (rm *room) followFrom(c *historyConfig) func(cluster.RoomStart) {
	return func(st cluster.RoomStart) {
		rm.mu.Lock()
		defer rm.mu.Unlock()
		h := rm.hist
		if h == nil {
			return
		}
		if st.Reset {
			rm.epoch++
			h.entries = nil
			h.addBytes(-h.bytes, c)
			h.seq = st.Last
		} else if len(h.entries) == 0 && h.seq < st.Last {
			h.seq = st.Last
		}
		rm.liveFrom = st.Target
		if st.Reset || st.Early {
			// Nobody here has seen these: a new stream's messages, or
			// a room whose joins were answered (with nothing) before
			// the follower could start.
			rm.liveFrom = st.Last
		}
	}
}

// streamMessage posts a message of rm's stream to rm.
func (s *Service) streamMessage(rm *room, sm cluster.RoomMessage) {
	var m wire.Message
	if err := json.Unmarshal(sm.Data, &m); err != nil || m.Room != rm.name {
		s.log.Warn("cluster: a room stream message does not decode", zap.String("room", rm.name), zap.Error(err))
		return
	}
	m.Seq = sm.Seq
	rm.post(s, &m, nil, sm.Conn)
}

// roomSent is a room message's outcome in a cluster, for its sender.
type roomSent struct {
	room string
	id   uint64
	ref  json.RawMessage
	err  error
}

// errClusterRoom is what the sender hears of a room message not sent: the
// node was cut off from NATS when it came.
func errClusterRoom(room string, err error) string {
	return "the chat cluster is unavailable: the message to room " + room + " was not sent, try again (" + err.Error() + ")"
}

// errClusterRoomUnknown is what the sender hears of a room message whose
// outcome is not known: the stream's answer did not come (a timeout, or
// NATS went away after the message left, and the NATS client may still
// deliver it once it is back).
func errClusterRoomUnknown(room string, err error) string {
	return "the chat cluster is unavailable: the message to room " + room + " may not have been sent (" + err.Error() + ")"
}

// streamRoomMessage sends s's room message m to the room's stream; the
// sender hears "sent" (with an id) once the stream has it, or an error.
func (s *session) streamRoomMessage(m *wire.Message, ref json.RawMessage) {
	c := s.svc.cluster
	if bad, why := c.Degraded(); bad {
		s.sendError(errClusterRoom(m.Room, fmt.Errorf("%s", why)), ref)
		return
	}
	data, err := wire.AppendMessage(nil, m) // no seq: the stream gives it
	if err != nil {
		s.sendError("the message cannot be encoded: "+err.Error(), ref) // data is parsed JSON: does not happen
		return
	}
	room, id := m.Room, m.ID
	c.PublishRoom(room, s.conn.ID(), data, func(_ uint64, err error) {
		if err != nil || ref != nil {
			s.notify(roomSent{room: room, id: id, ref: ref, err: err})
		}
	})
}

// roomSentDone tells the sender a room message's outcome.
func (s *session) roomSentDone(r roomSent) {
	switch {
	case s.closed:
	case r.err != nil:
		s.sendError(errClusterRoomUnknown(r.room, r.err), r.ref)
	case r.ref != nil:
		s.sendSent(r.id, wire.StatusDelivered, r.ref)
	}
}

// publishStream is the server API's Publish in a cluster: the room's
// stream numbers the message. The room must have members on some node.
func (s *Service) publishStream(ctx context.Context, m *wire.Message) (api.Published, error) {
	if s.rooms.get(m.Room) == nil && len(s.cluster.RoomMembers(m.Room)) == 0 {
		return api.Published{}, fmt.Errorf("%w: no room %s (a room exists while it has members)", api.ErrNotFound, quote(m.Room))
	}
	if bad, why := s.cluster.Degraded(); bad {
		return api.Published{}, fmt.Errorf("%w: the chat cluster is unavailable: %s", api.ErrUnavailable, why)
	}
	data, err := wire.AppendMessage(nil, m)
	if err != nil {
		return api.Published{}, fmt.Errorf("%w: %v", api.ErrInvalid, err)
	}
	type outcome struct {
		seq uint64
		err error
	}
	done := make(chan outcome, 1)
	s.cluster.PublishRoom(m.Room, 0, data, func(seq uint64, err error) { done <- outcome{seq, err} })
	// No answer from the stream (an error after the message left, or
	// ctx's end) leaves the outcome unknown, as the sessions are told
	// (errClusterRoomUnknown): 504, not "not sent".
	select {
	case o := <-done:
		if o.err != nil {
			return api.Published{}, fmt.Errorf("%w: the room's stream did not answer (%v); message %d may still reach room %s",
				api.ErrTimeout, o.err, m.ID, quote(m.Room))
		}
		return api.Published{ID: m.ID, Room: m.Room, Seq: o.seq}, nil
	case <-ctx.Done():
		return api.Published{}, fmt.Errorf("%w: no answer from the room's stream in time; message %d may still reach room %s",
			api.ErrTimeout, m.ID, quote(m.Room))
	}
}

// recoveryReady runs a login's replays once the rooms' followers caught
// up.
type recoveryReady func()

// replayCaughtUp writes a login's replays (replayFrom), in a cluster once
// every room among rs whose follower had not caught up when the login
// joined it has: each replay is then made again as a join's is
// (caughtUp), so it holds the room's history, not what this node had at
// that instant. Live deliveries are held meanwhile (s.replaying).
func (s *session) replayCaughtUp(rs []recovery, since map[string]uint64) {
	var waits []chan struct{}
	for _, r := range rs {
		if rm := s.room(r.room); rm != nil && rm.subscribed != nil {
			select {
			case <-rm.subscribed:
			default:
				waits = append(waits, rm.subscribed)
			}
		}
	}
	if len(waits) == 0 {
		s.replayFrom(rs)
		return
	}
	go func() {
		for _, w := range waits {
			<-w
		}
		s.notify(recoveryReady(func() {
			for i, r := range rs {
				if rm := s.room(r.room); rm != nil {
					seq := since[r.room]
					rs[i].joinResult = s.caughtUp(rm, r.joinResult, &seq)
				}
			}
			s.replayFrom(rs)
		}))
	}()
}

// kickBehind closes the members of a room whose node fell behind the
// room's stream (room.post); they may join again with since.
func kickBehind(members []*session) {
	for _, s := range members {
		if s.conn == nil {
			continue // unit tests' members
		}
		s.leaving.Store(true)
		s.conn.Kick(server.CloseSlowConsumer, "slow consumer: this server fell behind the room; join again with since")
	}
}
