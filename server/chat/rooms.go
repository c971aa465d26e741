package chat

import (
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/chatd/chatd/server/config"
)

// errTooManyRooms refuses a join that would create a room past
// chat.rooms.max_rooms.
var errTooManyRooms = errors.New("too many rooms on this server")

// rooms is the registry of rooms with members. A room exists while it has
// members.
//
// mu guards byName, sorted and every room's membership changes, so a room
// is never deleted while a join is adding to it. Fan-out takes only the
// room's own read lock; replies to rooms and who copy a page under the
// locks and are built outside them.
type rooms struct {
	mu     sync.Mutex
	byName map[string]*room
	sorted []*room // the rooms of byName by name, for paging

	// Set at construction, read-only after.
	max      int             // rooms beyond which only autoJoin ones are created
	autoJoin map[string]bool // never refused; presence per presenceAutoJoin
	presence bool            // ordinary rooms announce presence
	lobby    bool            // autoJoin rooms announce presence
	pres     presenceConfig
}

// room is one room. mu guards members, index, users and pres; membership
// changes also hold rooms.mu.
type room struct {
	name     string
	presence bool

	mu      sync.RWMutex
	members []*session
	index   map[*session]int
	users   map[string]int // sessions per user name
	pres    roomPresence   // presence changes not yet announced (presence.go)
}

// newRooms returns an empty registry configured by cfg. autoJoin names the
// rooms every session joins; encode turns a wire message into a frame.
func newRooms(cfg config.ChatRooms, autoJoin map[string]bool, encode func(any) []byte) *rooms {
	return &rooms{
		byName:   map[string]*room{},
		max:      cfg.MaxRooms,
		autoJoin: autoJoin,
		presence: cfg.Presence,
		lobby:    cfg.PresenceAutoJoin,
		pres:     presenceConfig{interval: cfg.PresenceInterval, maxPending: cfg.PresenceMaxPending, encode: encode},
	}
}

// join adds s to the room name, creating it unless that would pass the cap
// on rooms. It returns the room, its member count, and whether the caller
// must flush the room's presence (flushPresence) once it holds no lock.
func (r *rooms) join(s *session, name string) (rm *room, members int, flush bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rm = r.byName[name]
	if rm == nil {
		if len(r.byName) >= r.max && !r.autoJoin[name] {
			return nil, 0, false, errTooManyRooms
		}
		rm = r.createLocked(name)
	}
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if _, ok := rm.index[s]; !ok {
		rm.index[s] = len(rm.members)
		rm.members = append(rm.members, s)
		rm.users[s.name]++
		if rm.users[s.name] == 1 && rm.presence {
			flush = rm.changedLocked(s.name, change{in: true})
		}
	}
	return rm, len(rm.members), flush, nil
}

// createLocked adds an empty room name.
func (r *rooms) createLocked(name string) *room {
	present := r.presence
	if r.autoJoin[name] {
		present = r.lobby
	}
	rm := &room{name: name, presence: present, index: map[*session]int{}, users: map[string]int{}}
	rm.pres.cfg = &r.pres
	r.byName[name] = rm
	i, _ := slices.BinarySearchFunc(r.sorted, name, byName)
	r.sorted = slices.Insert(r.sorted, i, rm)
	return rm
}

// leave removes s from rm, deleting the room when it empties. gone and
// lastSeen (Unix ms) describe a user who has no session left. It returns
// the member count left and whether the caller must flush the room's
// presence once it holds no lock.
func (r *rooms) leave(s *session, rm *room, gone bool, lastSeen int64) (members int, flush bool) {
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
		if rm.presence {
			c := change{gone: gone}
			if gone {
				c.lastSeen = lastSeen
			}
			flush = rm.changedLocked(s.name, c)
		}
	}
	if len(rm.members) == 0 {
		delete(r.byName, rm.name)
		if i, found := slices.BinarySearchFunc(r.sorted, rm.name, byName); found {
			r.sorted = slices.Delete(r.sorted, i, i+1)
		}
		rm.pres.stopLocked() // nobody is left to tell
		return 0, false
	}
	return len(rm.members), flush
}

func byName(rm *room, name string) int { return strings.Compare(rm.name, name) }

// get returns the room name, or nil.
func (r *rooms) get(name string) *room {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byName[name]
}

// page returns up to limit rooms named after after, in name order, and
// whether more follow. Only the page is copied under the lock.
func (r *rooms) page(after string, limit int) (page []*room, more bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i, found := slices.BinarySearchFunc(r.sorted, after, byName)
	if found {
		i++
	}
	end := min(i+limit, len(r.sorted))
	return slices.Clone(r.sorted[i:end]), end < len(r.sorted)
}

// size returns the room's member count; 0 once it has been deleted.
func (rm *room) size() int {
	rm.mu.RLock()
	defer rm.mu.RUnlock()
	return len(rm.members)
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

// who returns up to limit names of the room's users after after, sorted,
// and whether more follow. Only the names are copied under the room's
// lock; sorting happens outside it.
func (rm *room) who(after string, limit int) (names []string, more bool) {
	rm.mu.RLock()
	names = make([]string, 0, min(len(rm.users), limit+1))
	for n := range rm.users {
		if n > after {
			names = append(names, n)
		}
	}
	rm.mu.RUnlock()
	slices.Sort(names)
	if len(names) > limit {
		return names[:limit], true
	}
	return names, false
}
