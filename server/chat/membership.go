package chat

import (
	"encoding/json"
	"slices"

	"github.com/chatd/chatd/server/wire"
)

func (s *session) join(req *wire.Request) {
	name := req.Room
	since, sinceErr := parseSince(req.Since)
	switch {
	case sinceErr != nil:
		s.sendError(sinceErr.Error(), req.ID)
		return
	case !s.svc.roomName.MatchString(name):
		s.sendError("invalid room name "+quote(name)+": must match "+s.svc.cfg.Rooms.NamePattern, req.ID)
		return
	case s.room(name) != nil:
		s.sendError("already in room "+name, req.ID)
		return
	case s.extraRooms() >= s.svc.live().rooms.MaxPerSession && !s.svc.autoJoin[name]:
		s.sendError("too many rooms: leave one first", req.ID)
		return
	}
	r, err := s.enterRoomAt(name, since)
	if err != nil {
		s.sendError(err.Error(), req.ID)
		return
	}
	if rm := s.room(name); rm != nil && rm.subscribed != nil {
		select {
		case <-rm.subscribed:
		default:
			// The first member here: answer once this node follows the
			// room's stream and has its history (cluster.go), with the
			// seq and replay as they are then; live deliveries and the
			// client's next requests (a leave) wait meanwhile.
			s.joining++
			s.waiting = &waitQueue{why: "too many requests while a join is answered: read its answer first"}
			go func() {
				<-rm.subscribed
				s.notify(joinReady(func() { s.answerJoin(name, s.caughtUp(rm, r, since), req.ID) }))
			}()
			return
		}
	}
	s.answerJoin(name, r, req.ID)
}

// caughtUp is a join's answer r made again once the room's follower
// caught up (cluster.go): s was added before the node had the room's
// history, with the seq the room had then (r.seq); messages up to the
// room's liveFrom are history, not posted to s, and later ones are. So
// the join's seq is the larger of the two, and the replay after since
// ends there: the messages after it are those posted to s.
func (s *session) caughtUp(rm *room, r joinResult, since *uint64) joinResult {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	h := rm.hist
	if h == nil || s.membershipOf(rm) == nil {
		return r // left meanwhile: the answer says what the join saw
	}
	h.expireLocked(&s.svc.rooms.hist)
	r.seq = max(r.seq, rm.liveFrom)
	if since != nil {
		replay, recovered, missed := h.snapshotUpToLocked(*since, r.seq)
		r.recovered, r.missed = &recovered, missed
		r.replay = make([][]byte, len(replay))
		for i, e := range replay {
			r.replay[i] = s.svc.replayFrame(e, s.format, s.name)
		}
	}
	return r
}

// joinReady is a join's answer whose room subscription is now confirmed.
type joinReady func()

// answerJoin writes the joined reply and its replay.
func (s *session) answerJoin(name string, r joinResult, ref json.RawMessage) {
	if len(r.replay) == 0 {
		s.sendJoined(name, r, ref)
		return
	}
	s.paced(func() { s.sendJoined(name, r, ref) })
}

// extraRooms counts the joined rooms that are not auto-joined.
func (s *session) extraRooms() int {
	n := 0
	for _, m := range s.joined {
		if !s.svc.autoJoin[m.rm.name] {
			n++
		}
	}
	return n
}

// joinResult is what entering a room returns: the member count, the room's
// last seq, and for a join with since, the replay.
type joinResult struct {
	members int
	seq     uint64   // the room's last seq when s joined; 0: no message yet
	replay  [][]byte // with since: the kept messages after it, as frames in s's format
	// With since: whether replay is every message after it, and how many
	// of those are no longer kept.
	recovered *bool
	missed    uint64
}

// enterRoomAt is enterRoom, plus the room's snapshot: its seq and, unless
// since is nil, the kept messages after *since, to write with sendJoined
// before s handles anything else. Every message of the room after the
// snapshot is posted to s (handled after the caller returns), so replay
// then live has no gap and no duplicate. It must run on s's actor.
func (s *session) enterRoomAt(name string, since *uint64) (joinResult, error) {
	rm, members, snap, flush, err := s.svc.rooms.join(s, name, since)
	if err != nil {
		return joinResult{}, err
	}
	s.joined = append(s.joined, membership{rm: rm, seq: snap.seq, epoch: snap.epoch})
	s.event(wire.EventJoin, name)
	if flush {
		rm.flushPresence(false)
	}
	r := joinResult{members: members, seq: snap.seq}
	if since != nil {
		r.recovered, r.missed = &snap.recovered, snap.missed
		r.replay = make([][]byte, len(snap.replay))
		for i, e := range snap.replay {
			r.replay[i] = s.svc.replayFrame(e, s.format, s.name)
		}
	}
	return r, nil
}

// sendJoined writes the joined reply for r, then its replay. Call it on
// s's actor in the same handler as enterRoomAt, so both come before any
// live message of the room.
func (s *session) sendJoined(name string, r joinResult, ref json.RawMessage) {
	s.send(wire.Membership{Type: wire.TypeJoined, Room: name, Members: r.members, Seq: r.seq,
		Recovered: r.recovered, Missed: r.missed, Ref: ref})
	for _, f := range r.replay {
		if s.conn.SendFrame(f) != nil {
			return // closing
		}
	}
}

func (s *session) leave(req *wire.Request) {
	rm := s.room(req.Room)
	if rm == nil {
		s.sendError("not in room "+quote(req.Room), req.ID)
		return
	}
	members := s.leaveRoom(rm, false, 0)
	s.send(wire.Membership{Type: wire.TypeLeft, Room: rm.name, Members: members, Ref: req.ID})
}

// leaveRoom removes s from rm and announces it if the room has presence:
// as offline if gone (the user has no session left; lastSeen in Unix ms),
// else as left.
func (s *session) leaveRoom(rm *room, gone bool, lastSeen int64) int {
	if i := slices.IndexFunc(s.joined, func(m membership) bool { return m.rm == rm }); i >= 0 {
		s.joined = slices.Delete(s.joined, i, i+1)
	}
	s.dropHeld(rm)
	members, flush := s.svc.rooms.leave(s, rm, gone, lastSeen)
	s.event(wire.EventLeave, rm.name)
	if flush {
		rm.flushPresence(false)
	}
	return members
}

// who answers a page of the users in a room: names after req.After, at
// most req.Limit (default and cap chat.rooms.who_limit).
func (s *session) who(req *wire.Request) {
	if !s.svc.roomName.MatchString(req.Room) {
		s.sendError("invalid room name "+quote(req.Room), req.ID)
		return
	}
	reply := wire.Who{Type: wire.TypeWho, Room: req.Room, Users: []string{}, Ref: req.ID}
	limit := pageLimit(req.Limit, s.svc.live().rooms.WhoLimit)
	if rm := s.svc.rooms.get(req.Room); rm != nil {
		reply.Users, reply.More = rm.who(string(req.After), limit)
	} else if c := s.svc.cluster; c != nil {
		// No member here: the other nodes' members, as the cluster knows them.
		remote := c.RoomMembers(req.Room)
		users := make(map[string]int, len(remote))
		for u := range remote {
			users[u] = 1
		}
		reply.Users, reply.More = firstPage(namesAfter(users, string(req.After), limit), limit)
	}
	if reply.More {
		reply.Next = reply.Users[len(reply.Users)-1]
	}
	s.send(reply)
}

// listRooms answers a page of the rooms: names after req.After, at most
// req.Limit (default and cap chat.rooms.list_limit).
func (s *session) listRooms(req *wire.Request) {
	if c := s.svc.cluster; c != nil {
		// The whole cluster's rooms; Members counts users, not sessions.
		names, users, more := c.Rooms(string(req.After), pageLimit(req.Limit, s.svc.live().rooms.ListLimit))
		reply := wire.Rooms{Type: wire.TypeRooms, Rooms: make([]wire.RoomInfo, len(names)), More: more, Ref: req.ID}
		for i, n := range names {
			reply.Rooms[i] = wire.RoomInfo{Name: n, Members: users[i], Joined: s.room(n) != nil}
		}
		if more {
			reply.Next = names[len(names)-1]
		}
		s.send(reply)
		return
	}
	page, more := s.svc.rooms.page(string(req.After), pageLimit(req.Limit, s.svc.live().rooms.ListLimit))
	reply := wire.Rooms{Type: wire.TypeRooms, Rooms: make([]wire.RoomInfo, 0, len(page)), More: more, Ref: req.ID}
	for _, rm := range page {
		// A room deleted since the page was taken has no members: skip it.
		if n := rm.size(); n > 0 {
			reply.Rooms = append(reply.Rooms, wire.RoomInfo{Name: rm.name, Members: n, Joined: s.room(rm.name) == rm})
		}
	}
	if more {
		reply.Next = page[len(page)-1].name
	}
	s.send(reply)
}

// pageLimit is the page size asked for, or max when none or more is asked.
func pageLimit(asked, max int) int {
	if asked <= 0 || asked > max {
		return max
	}
	return asked
}

func quote(s string) string {
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return "\"" + s + "\""
}
