package chat

import (
	"slices"

	"github.com/chatd/chatd/server/wire"
)

func (s *session) join(req *wire.Request) {
	name := req.Room
	switch {
	case !s.svc.roomName.MatchString(name):
		s.sendError("invalid room name "+quote(name)+": must match "+s.svc.cfg.Rooms.NamePattern, req.ID)
		return
	case s.room(name) != nil:
		s.sendError("already in room "+name, req.ID)
		return
	case s.extraRooms() >= s.svc.cfg.Rooms.MaxPerSession && !s.svc.autoJoin[name]:
		s.sendError("too many rooms: leave one first", req.ID)
		return
	}
	members := s.joinRoom(name)
	s.send(wire.Membership{Type: wire.TypeJoined, Room: name, Members: members, Ref: req.ID})
}

// extraRooms counts the joined rooms that are not auto-joined.
func (s *session) extraRooms() int {
	n := 0
	for _, rm := range s.joined {
		if !s.svc.autoJoin[rm.name] {
			n++
		}
	}
	return n
}

// joinRoom adds s to the room and announces it if the room has presence.
func (s *session) joinRoom(name string) int {
	rm, members, arrived := s.svc.rooms.join(s, name)
	s.joined = append(s.joined, rm)
	if arrived && rm.presence {
		rm.broadcast(s.svc.encode(wire.Presence{Type: wire.TypePresence, User: s.name, Status: wire.StatusOnline, Room: name}), s)
	}
	return members
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

// leaveRoom removes s from rm and announces it if the room has presence.
// gone and lastSeen describe a user who has no session left.
func (s *session) leaveRoom(rm *room, gone bool, lastSeen int64) int {
	if i := slices.Index(s.joined, rm); i >= 0 {
		s.joined = slices.Delete(s.joined, i, i+1)
	}
	members, departed := s.svc.rooms.leave(s, rm)
	if departed && rm.presence {
		p := wire.Presence{Type: wire.TypePresence, User: s.name, Status: wire.StatusOffline, Room: rm.name}
		if gone {
			p.LastSeen = lastSeen
		}
		rm.broadcast(s.svc.encode(p), s)
	}
	return members
}

func (s *session) who(req *wire.Request) {
	if !s.svc.roomName.MatchString(req.Room) {
		s.sendError("invalid room name "+quote(req.Room), req.ID)
		return
	}
	users := []string{}
	if rm := s.svc.rooms.get(req.Room); rm != nil {
		users = rm.who()
	}
	s.send(wire.Who{Type: wire.TypeWho, Room: req.Room, Users: users, Ref: req.ID})
}

func (s *session) listRooms(req *wire.Request) {
	infos := s.svc.rooms.list(s.room)
	out := make([]wire.RoomInfo, len(infos))
	for i, r := range infos {
		out[i] = wire.RoomInfo{Name: r.name, Members: r.members, Joined: r.joined}
	}
	s.send(wire.Rooms{Type: wire.TypeRooms, Rooms: out, Ref: req.ID})
}

func quote(s string) string {
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return "\"" + s + "\""
}
