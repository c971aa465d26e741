package chat

import (
	"cmp"
	"container/list"
	"errors"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/cluster"
	"github.com/chatd/chatd/server/history"
	"github.com/chatd/chatd/server/wire"
)

// errTooManyRooms refuses a join that would create a room past
// chat.rooms.max_rooms.
var errTooManyRooms = errors.New("too many rooms on this server")

// rooms is the registry of rooms with members. A room exists while it has
// members; its history outlives it, idle, for a while (history.go).
//
// mu guards byName, sorted, idle, idleOrder, the idle histories and every
// room's membership changes, so a room is never deleted while a join is
// adding to it. Fan-out takes only the room's own lock; replies to rooms
// and who copy a page under the locks and are built outside them.
type rooms struct {
	mu     sync.Mutex
	byName map[string]*room
	sorted []*room // the rooms of byName by name, for paging
	// The histories of rooms without members, by name and in the order
	// they emptied (oldest first). With history off, none.
	idle      map[string]*roomHistory
	idleOrder list.List

	// trimming is held by the one evict that trims rooms with members
	// (it takes their locks one at a time, holding no other lock).
	trimming sync.Mutex

	// Set at construction, read-only after.
	max      int             // rooms beyond which only autoJoin ones are created
	autoJoin map[string]bool // never refused; presence per presenceAutoJoin
	presence bool            // ordinary rooms announce presence
	lobby    bool            // autoJoin rooms announce presence
	pres     presenceConfig
	hist     historyConfig

	// With a cluster (cluster.go), set before the first session: a room
	// with members here follows its stream, whose messages
	// remoteMessage posts.
	cluster       Cluster
	remoteMessage func(rm *room, m cluster.RoomMessage)
}

// room is one room. mu guards members, index, users, pres and hist;
// membership changes also hold rooms.mu. Publishing a message takes mu for
// writing (publish), so members get the room's messages in seq order.
type room struct {
	name     string
	presence bool

	mu sync.RWMutex
	// groups holds the members by event loop (see publish); index is each
	// member's place in its group. count and text count the members, and
	// those in text mode.
	groups []*memberGroup
	index  map[*session]int
	count  int
	text   int
	users  map[string]int // sessions per user name
	// remote: with a cluster, the users in the room on other nodes, and
	// their nodes, as the room changes told (cluster.go): for presence.
	remote  map[string]map[string]bool
	cluster Cluster // nil on one node
	// With a cluster, the room's stream (cluster.go): follower delivers
	// its messages; subscribed is closed once it caught up (a join waits
	// for it, to answer with the room's real seq and history). Messages
	// up to liveFrom were the stream's before this node followed it: they
	// go into the history, not to members. epoch counts the times the
	// stream was made anew (seqs start over; members' seqs too).
	follower   *cluster.Follower
	subscribed chan struct{}
	liveFrom   uint64
	epoch      uint32
	pres       roomPresence // presence changes not yet announced (presence.go)
	hist       *roomHistory // the seq and kept messages (history.go); nil once deleted
}

// newRooms returns an empty registry configured by cfg and hcfg, holding
// as idle histories what opts' history store kept. autoJoin names the rooms
// every session joins; encode turns a wire message into a frame.
func newRooms(cfg RoomsConfig, hcfg HistoryConfig, autoJoin map[string]bool, encode func(any) []byte, opts ...Option) *rooms {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	r := &rooms{
		byName:   map[string]*room{},
		idle:     map[string]*roomHistory{},
		max:      cfg.MaxRooms,
		autoJoin: autoJoin,
		presence: cfg.Presence,
		lobby:    cfg.PresenceAutoJoin,
		pres:     presenceConfig{interval: cfg.PresenceInterval, maxPending: cfg.PresenceMaxPending, encode: encode},
		hist:     newHistoryConfig(hcfg, o),
	}
	if o.store != nil {
		r.loadIdle(o.store.Rooms())
	}
	return r
}

// snapshot is a room as a join found it: its last seq and, for a join with
// since, what to replay (history.go, snapshotLocked).
type snapshot struct {
	seq       uint64
	epoch     uint32
	replay    []histEntry
	recovered bool
	missed    uint64
}

// join adds s to the room name, creating it unless that would pass the cap
// on rooms. It returns the room, its member count, the room's snapshot
// (with the replay after *since, unless since is nil), and whether the
// caller must flush the room's presence (flushPresence) once it holds no
// lock. The member is added and the snapshot taken under the room's lock,
// so the messages posted to s are exactly those after the snapshot.
func (r *rooms) join(s *session, name string, since *uint64) (rm *room, members int, snap snapshot, flush bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rm = r.byName[name]
	if rm == nil {
		if len(r.byName) >= r.max && !r.autoJoin[name] {
			return nil, 0, snapshot{}, false, errTooManyRooms
		}
		rm = r.createLocked(name)
	}
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if _, ok := rm.index[s]; !ok {
		rm.addLocked(s)
		rm.users[s.name]++
		if rm.users[s.name] == 1 {
			if r.cluster != nil {
				_ = r.cluster.SetMember(name, s.name, true)
			}
			if rm.presence && len(rm.remote[s.name]) == 0 {
				flush = rm.changedLocked(s.name, change{in: true})
			}
		}
	}
	rm.hist.expireLocked(&r.hist)
	snap.seq = rm.hist.seq
	snap.epoch = rm.epoch
	if since != nil {
		snap.replay, snap.recovered, snap.missed = rm.hist.snapshotLocked(*since)
	}
	return rm, rm.count, snap, flush, nil
}

// createLocked adds an empty room name, with its idle history if it has
// one, dropping idle histories past their age or the cap on rooms.
func (r *rooms) createLocked(name string) *room {
	present := r.presence
	if r.autoJoin[name] {
		present = r.lobby
	}
	h := r.idle[name]
	if h != nil {
		r.unidleLocked(h)
	} else {
		h = &roomHistory{name: name}
	}
	r.sweepLocked()
	for r.idleOrder.Len() > 0 && len(r.byName)+r.idleOrder.Len() >= r.max {
		r.dropIdleLocked(r.idleOrder.Front().Value.(*roomHistory))
	}
	rm := &room{name: name, presence: present, index: map[*session]int{}, users: map[string]int{}, hist: h}
	rm.pres.cfg = &r.pres
	rm.remote = r.remoteMembersOf(name)
	rm.cluster = r.cluster
	if r.cluster != nil {
		r.follow(rm)
	}
	r.byName[name] = rm
	i, _ := slices.BinarySearchFunc(r.sorted, name, byName)
	r.sorted = slices.Insert(r.sorted, i, rm)
	return rm
}

// idleLocked keeps h, the history of a room that has just emptied, if it
// is worth keeping: history is on and the room had messages.
func (r *rooms) idleLocked(h *roomHistory) {
	r.sweepLocked()
	if r.hist.messages == 0 || h.seq == 0 {
		return
	}
	h.emptied = r.hist.now().UnixMilli()
	h.elem = r.idleOrder.PushBack(h)
	r.idle[h.name] = h
	for len(r.byName)+r.idleOrder.Len() > r.max {
		r.dropIdleLocked(r.idleOrder.Front().Value.(*roomHistory))
	}
}

// unidleLocked takes h out of the idle histories, for its room again.
func (r *rooms) unidleLocked(h *roomHistory) {
	r.idleOrder.Remove(h.elem)
	h.elem = nil
	delete(r.idle, h.name)
}

// dropIdleLocked forgets an idle history, seq included.
func (r *rooms) dropIdleLocked(h *roomHistory) {
	r.unidleLocked(h)
	h.addBytes(-h.bytes, &r.hist)
	if r.hist.store != nil {
		r.hist.store.Drop(h.name)
	}
}

// dropIdleOverLocked drops idle histories, the one emptied longest ago
// first, while all histories keep more than chat.history.max_total_bytes.
func (r *rooms) dropIdleOverLocked() {
	for r.hist.total.Load() > r.hist.maxTotal && r.idleOrder.Len() > 0 {
		r.dropIdleLocked(r.idleOrder.Front().Value.(*roomHistory))
	}
}

// evict brings the bytes all histories keep back within
// chat.history.max_total_bytes (history.go): idle histories first, then,
// when the rooms with members alone keep more, it trims them (trimActive).
// It is called by publish after it released the room's lock, and takes
// rooms.mu, then the rooms' locks one at a time: never two rooms' locks,
// never rooms.mu under a room's lock. When it is under the cap it costs
// one atomic load.
func (r *rooms) evict() {
	c := &r.hist
	if c.total.Load() <= c.maxTotal {
		return
	}
	r.mu.Lock()
	r.dropIdleOverLocked()
	// Another publish may already be trimming: this one's bytes then
	// count in what that one frees, or in the next publish's evict.
	if c.total.Load() <= c.maxTotal || !r.trimming.TryLock() {
		r.mu.Unlock()
		return
	}
	withMembers := slices.Clone(r.sorted)
	r.mu.Unlock()
	defer r.trimming.Unlock()
	r.trimActive(withMembers)
}

// trimActive drops the oldest messages of the rooms in rms (rooms with
// members) that keep the most bytes, cutting all of those down to one
// level, so that the histories keep 7/8 of chat.history.max_total_bytes
// again. Each room's lock is taken alone, twice: to read its size, and to
// trim it. A room that emptied in between is skipped (its history is idle
// then, and the next evict drops it first).
func (r *rooms) trimActive(rms []*room) {
	c := &r.hist
	sizes := make([]int, len(rms))
	for i, rm := range rms {
		rm.mu.RLock()
		if rm.hist != nil {
			sizes[i] = rm.hist.bytes
		}
		rm.mu.RUnlock()
	}
	excess := c.total.Load() - (c.maxTotal - c.maxTotal/8)
	if excess <= 0 {
		return
	}
	level := trimLevel(sizes, excess)
	for i, rm := range rms {
		if sizes[i] <= level {
			continue
		}
		rm.mu.Lock()
		if h := rm.hist; h != nil && h.dropLocked(math.MinInt64, level, c) && c.store != nil {
			c.store.Trim(h.name, h.first())
		}
		rm.mu.Unlock()
	}
}

// trimLevel returns the largest level such that cutting every size above
// it down to it frees at least excess (0 when even all of them do not).
func trimLevel(sizes []int, excess int64) int {
	desc := slices.Clone(sizes)
	slices.SortFunc(desc, func(a, b int) int { return cmp.Compare(b, a) })
	var sum int64 // of desc[:k]
	for k := 1; k <= len(desc); k++ {
		sum += int64(desc[k-1])
		next := int64(0) // the size below the k biggest
		if k < len(desc) {
			next = int64(desc[k])
		}
		// Cutting the k biggest to level frees sum - k*level.
		if level := (sum - excess) / int64(k); level >= next {
			return int(level)
		}
	}
	return 0
}

// sweepLocked drops the idle histories whose room emptied max_age ago or
// more: every message they hold is that old.
func (r *rooms) sweepLocked() {
	cutoff := r.hist.now().UnixMilli() - r.hist.maxAge
	for r.idleOrder.Len() > 0 {
		h := r.idleOrder.Front().Value.(*roomHistory)
		if h.emptied > cutoff {
			return
		}
		r.dropIdleLocked(h)
	}
}

// loadIdle takes the histories a store kept as idle ones, as if each room
// emptied at its last message. Run by newRooms, before any join.
func (r *rooms) loadIdle(kept []history.Room) {
	r.mu.Lock()
	defer r.mu.Unlock()
	slices.SortFunc(kept, func(a, b history.Room) int { return cmp.Compare(a.LastTS(), b.LastTS()) })
	for _, k := range kept {
		h := &roomHistory{name: k.Name, seq: k.Seq, lost: k.Lost}
		for _, e := range k.Entries {
			h.entries = append(h.entries, histEntry{seq: e.Seq, ts: e.TS, frame: server.AppendTextFrame(nil, e.Data)})
			h.addBytes(len(e.Data), &r.hist)
		}
		h.dropLocked(r.hist.now().UnixMilli()-r.hist.maxAge, r.hist.maxBytes, &r.hist)
		h.emptied = k.LastTS()
		h.elem = r.idleOrder.PushBack(h)
		r.idle[h.name] = h
	}
	r.sweepLocked()
	for r.idleOrder.Len() > r.max {
		r.dropIdleLocked(r.idleOrder.Front().Value.(*roomHistory))
	}
	r.dropIdleOverLocked()
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
	if !rm.removeLocked(s) {
		return rm.count, false
	}
	rm.users[s.name]--
	if rm.users[s.name] == 0 {
		delete(rm.users, s.name)
		if r.cluster != nil {
			_ = r.cluster.SetMember(rm.name, s.name, false)
		}
		if rm.presence && len(rm.remote[s.name]) == 0 {
			c := change{gone: gone}
			if gone {
				c.lastSeen = lastSeen
			}
			flush = rm.changedLocked(s.name, c)
		}
	}
	if rm.count == 0 {
		delete(r.byName, rm.name)
		if i, found := slices.BinarySearchFunc(r.sorted, rm.name, byName); found {
			r.sorted = slices.Delete(r.sorted, i, i+1)
		}
		rm.pres.stopLocked() // nobody is left to tell
		if r.cluster != nil {
			// The stream keeps the history: joined again, the room
			// reads it from there.
			rm.follower.Stop()
			rm.hist.addBytes(-rm.hist.bytes, &r.hist)
		} else {
			r.idleLocked(rm.hist)
		}
		rm.hist = nil
		return 0, false
	}
	return rm.count, flush
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
	return rm.count
}

// publish gives m the room's next seq, records it in the history and posts
// it to every member except skip, in each member's format, all under the
// room's lock: members receive the room's messages in seq order, and a
// join's snapshot (rooms.join) holds exactly the messages not posted to
// the new member. Each format is encoded at most once. It returns m's seq,
// or 0 when the room was deleted.
//
// Past chat.history.max_total_bytes it then evicts, once the room's lock
// is released (the deferred calls run in reverse order).
func (rm *room) publish(svc *Service, m *wire.Message, skip *session) uint64 {
	return rm.post(svc, m, skip, 0)
}

// post is publish, for a message whose seq may be given: in a cluster the
// room's stream numbers it (m.Seq), and one already posted (a seq not
// after the room's) is dropped. skipConn, if not 0, is the ID of the
// sending connection, which does not get it either.
func (rm *room) post(svc *Service, m *wire.Message, skip *session, skipConn uint64) uint64 {
	start := time.Now()
	c := &svc.rooms.hist
	defer svc.rooms.evict()
	var behind []*session
	defer func() { kickBehind(behind) }()
	rm.mu.Lock()
	defer rm.mu.Unlock()
	h := rm.hist
	switch {
	case h == nil:
		// Deleted: only the server API (api.go), which is no member,
		// can publish to a room after its last member left.
		return 0
	case m.Seq == 0:
		m.Seq = h.seq + 1
	case m.Seq <= h.seq:
		return 0
	case m.Seq > h.seq+1 && m.Seq-1 > rm.liveFrom:
		// The room's stream dropped messages this node's follower had
		// not read yet (cluster_rooms.go), news among them (after
		// liveFrom): every member here missed them. They are closed as slow consumers, as a member too far
		// behind is on one node, rather than seeing a silent gap.
		rm.eachLocked(func(s *session) { behind = append(behind, s) })
	}
	// One value for every member. Each format's frame (JSON for formatAuto
	// and formatJSON, or a text line; neither depends on the member) is
	// made once, here, if a member needs it, and only read after.
	rf := &roomFrame{rm: rm, seq: m.Seq, epoch: rm.epoch, skipConn: skipConn, start: start}
	e := histEntry{seq: m.Seq, ts: m.TS}
	if c.messages > 0 {
		rf.json = svc.encodeMessage(m)
		e.frame = rf.json
	}
	h.appendLocked(e, c, c.now().UnixMilli())
	if c.store != nil && c.messages > 0 {
		c.store.Append(rm.name, history.Entry{Seq: e.seq, TS: e.ts, Data: e.body()}, h.first())
	}
	if m.Seq <= rm.liveFrom || behind != nil {
		// History the node catches up with, not news; or the members
		// are being closed for the gap before it: none gets it.
		return m.Seq
	}
	if rm.text > 0 {
		rf.text = textFrame(textLine(m, ""))
	}
	if rf.json == nil && rm.count > rm.text {
		rf.json = svc.encodeMessage(m)
	}
	rf.prepare()
	for _, g := range rm.groups {
		if g.loop != (server.Loop{}) { // members without a connection (unit tests) get nothing
			g.loop.Run(func() { rm.deliver(svc, g, rf, skip) })
		}
	}
	svc.st.fanoutSize.Observe(int64(rm.count))
	svc.st.fanoutTime.ObserveSince(start)
	return m.Seq
}

// deliver runs on g's event loop: it hands rf to each member of g but
// skip. One function per loop and message, not a post per member: the
// members' sessions run on that loop, so it may call them directly, and
// their writes go out together at the end of the loop's wake. Members
// that joined after the message was posted have it already (a member's
// seq is the room's at its join) and drop it, like those that left.
func (rm *room) deliver(svc *Service, g *memberGroup, rf *roomFrame, skip *session) {
	rm.mu.RLock()
	defer rm.mu.RUnlock()
	n := 0
	for _, mem := range g.members {
		if mem != skip && (rf.skipConn == 0 || mem.conn == nil || mem.conn.ID() != rf.skipConn) {
			mem.takeRoomFrame(rf)
			n++
		}
	}
	svc.st.msgsOut[roomKind(rm.name)].Add(uint64(n))
	svc.st.roomDelay.ObserveSince(rf.start)
}

// memberGroup is a room's members on one event loop.
type memberGroup struct {
	loop    server.Loop
	members []*session
}

// addLocked adds s to its loop's group. rm.mu must be held.
func (rm *room) addLocked(s *session) {
	loop := s.loop()
	var g *memberGroup
	for _, x := range rm.groups {
		if x.loop == loop {
			g = x
			break
		}
	}
	if g == nil {
		g = &memberGroup{loop: loop}
		rm.groups = append(rm.groups, g)
	}
	rm.index[s] = len(g.members)
	g.members = append(g.members, s)
	rm.count++
	if s.format == formatText {
		rm.text++
	}
}

// removeLocked removes s, reporting whether it was a member. rm.mu must be
// held.
func (rm *room) removeLocked(s *session) bool {
	i, ok := rm.index[s]
	if !ok {
		return false
	}
	loop := s.loop()
	for gi, g := range rm.groups {
		if g.loop != loop {
			continue
		}
		last := len(g.members) - 1
		moved := g.members[last]
		g.members[i] = moved
		rm.index[moved] = i
		g.members[last] = nil
		g.members = g.members[:last]
		if last == 0 {
			rm.groups = slices.Delete(rm.groups, gi, gi+1)
		}
		break
	}
	delete(rm.index, s)
	rm.count--
	if s.format == formatText {
		rm.text--
	}
	return true
}

// loop is the event loop of s's connection (the zero Loop for a session
// without one, in unit tests).
func (s *session) loop() server.Loop {
	if s.conn == nil {
		return server.Loop{}
	}
	return s.conn.Loop()
}

// eachLocked calls fn for every member. rm.mu must be held.
func (rm *room) eachLocked(fn func(*session)) {
	for _, g := range rm.groups {
		for _, s := range g.members {
			fn(s)
		}
	}
}

// roomFrame is a room message on its way to the members, in each format a
// member needs; the session drops it if it is stale (takeRoomFrame).
// Each format is also Prepared, so that members whose connections
// negotiated permessage-deflate share one compressed frame.
type roomFrame struct {
	rm           *room
	seq          uint64
	epoch        uint32 // the room's epoch (cluster.go): a new one starts the seqs over
	skipConn     uint64 // the sending connection's ID, which does not get it; 0: none
	json, text   []byte
	pjson, ptext server.Prepared
	start        time.Time // when its publish began (stats.go)
}

// prepare makes the Prepared of each format rf has (part of rf: no
// allocation of their own).
func (rf *roomFrame) prepare() {
	rf.pjson.Init(rf.json)
	rf.ptext.Init(rf.text)
}

// who returns up to limit names of the room's users after after, sorted,
// and whether more follow. Only the names are copied under the room's
// lock; sorting happens outside it.
func (rm *room) who(after string, limit int) (names []string, more bool) {
	rm.mu.RLock()
	users := rm.users
	if rm.cluster != nil {
		// The cluster's view of the other nodes' members (not rm.remote,
		// which lags when room changes come faster than they are handled).
		users = maps.Clone(rm.users)
		for u := range rm.cluster.RoomMembers(rm.name) {
			users[u]++
		}
	}
	names = namesAfter(users, after, limit)
	rm.mu.RUnlock()
	return firstPage(names, limit)
}
