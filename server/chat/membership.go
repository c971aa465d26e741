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
	members, err := s.enterRoom(name)
	if err != nil {
		s.sendError(err.Error(), req.ID)
		return
	}
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

// joinRoom adds s to an auto-joined room, which is never refused, and
// returns its member count.
func (s *session) joinRoom(name string) int {
	members, _ := s.enterRoom(name)
	return members
}

// enterRoom adds s to the room, announcing it if the room has presence, and
// returns its member count. It fails with errTooManyRooms when the room
// would be created past chat.rooms.max_rooms.
func (s *session) enterRoom(name string) (int, error) {
	rm, members, flush, err := s.svc.rooms.join(s, name)
	if err != nil {
		return 0, err
	}
	s.joined = append(s.joined, rm)
	if flush {
		rm.flushPresence(false)
	}
	return members, nil
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
	if i := slices.Index(s.joined, rm); i >= 0 {
		s.joined = slices.Delete(s.joined, i, i+1)
	}
	members, flush := s.svc.rooms.leave(s, rm, gone, lastSeen)
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
	if rm := s.svc.rooms.get(req.Room); rm != nil {
		reply.Users, reply.More = rm.who(string(req.After), pageLimit(req.Limit, s.svc.cfg.Rooms.WhoLimit))
		if reply.More {
			reply.Next = reply.Users[len(reply.Users)-1]
		}
	}
	s.send(reply)
}

// listRooms answers a page of the rooms: names after req.After, at most
// req.Limit (default and cap chat.rooms.list_limit).
func (s *session) listRooms(req *wire.Request) {
	page, more := s.svc.rooms.page(string(req.After), pageLimit(req.Limit, s.svc.cfg.Rooms.ListLimit))
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
