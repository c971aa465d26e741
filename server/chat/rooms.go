package chat

import (
	"slices"
	"sync"
)

// rooms is the registry of rooms with members. A room exists while it has
// members.
//
// mu guards byName and every room's membership changes, so a room is never
// deleted while a join is adding to it. Fan-out takes only the room's own
// read lock.
type rooms struct {
	mu     sync.Mutex
	byName map[string]*room
	// presence reports whether a room announces presence.
	presence func(name string) bool
}

// room is one room. mu guards members, index and users; membership changes
// also hold rooms.mu.
type room struct {
	name     string
	presence bool

	mu      sync.RWMutex
	members []*session
	index   map[*session]int
	users   map[string]int // sessions per user name
}

func newRooms(presence func(string) bool) *rooms {
	return &rooms{byName: map[string]*room{}, presence: presence}
}

// join adds s to the room name, creating it. It returns the room, its
// member count, and whether s's user just came into the room.
func (r *rooms) join(s *session, name string) (rm *room, members int, arrived bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rm = r.byName[name]
	if rm == nil {
		rm = &room{name: name, presence: r.presence(name), index: map[*session]int{}, users: map[string]int{}}
		r.byName[name] = rm
	}
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if _, ok := rm.index[s]; !ok {
		rm.index[s] = len(rm.members)
		rm.members = append(rm.members, s)
		rm.users[s.name]++
		arrived = rm.users[s.name] == 1
	}
	return rm, len(rm.members), arrived
}

// leave removes s from rm, deleting the room when it empties. It returns the
// member count left and whether s's user has left the room altogether.
func (r *rooms) leave(s *session, rm *room) (members int, departed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rm.mu.Lock()
	defer rm.mu.Unlock()
	i, ok := rm.index[s]
	if !ok {
		return len(rm.members), false
	}
	last := len(rm.members) - 1
	moved := rm.members[last]
	rm.members[i] = moved
	rm.index[moved] = i
	rm.members[last] = nil
	rm.members = rm.members[:last]
	delete(rm.index, s)
	rm.users[s.name]--
	if rm.users[s.name] == 0 {
		delete(rm.users, s.name)
		departed = true
	}
	if len(rm.members) == 0 {
		delete(r.byName, rm.name)
	}
	return len(rm.members), departed
}

// get returns the room name, or nil.
func (r *rooms) get(name string) *room {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byName[name]
}

// list describes every room, marking those joined reports.
func (r *rooms) list(joined func(name string) *room) []roomInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]roomInfo, 0, len(r.byName))
	for name, rm := range r.byName {
		rm.mu.RLock()
		n := len(rm.members)
		rm.mu.RUnlock()
		out = append(out, roomInfo{name: name, members: n, joined: joined(name) != nil})
	}
	slices.SortFunc(out, func(a, b roomInfo) int {
		switch {
		case a.name < b.name:
			return -1
		case a.name > b.name:
			return 1
		}
		return 0
	})
	return out
}

type roomInfo struct {
	name    string
	members int
	joined  bool
}

// broadcast posts frame to every member except skip.
func (rm *room) broadcast(frame []byte, skip *session) {
	rm.mu.RLock()
	defer rm.mu.RUnlock()
	for _, m := range rm.members {
		if m != skip {
			m.deliver(frame)
		}
	}
}

// who returns the names of the users in the room, sorted.
func (rm *room) who() []string {
	rm.mu.RLock()
	defer rm.mu.RUnlock()
	names := make([]string, 0, len(rm.users))
	for n := range rm.users {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
