package chat

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chatd/chatd/server/wire"
)

// Presence is coalesced per room. A user coming into or leaving a room is
// recorded as a change of that user, the latest state winning, and the
// room's members are told in rounds at least presence_interval apart:
//
//   - A change in a quiet room is announced at once. A round that tells
//     anyone anything starts an interval; changes during it wait for its
//     end, are announced together and, if that round tells anyone
//     anything, start the next interval. Otherwise the room is quiet again.
//   - A round announces a user only if their state differs from the one
//     last announced: joining and leaving within one interval is not
//     announced at all.
//   - At most presence_max_pending users wait per room. Past that the
//     changes are dropped and the round is one reset hint, after which
//     members ask who again.
//
// A member therefore receives at most one round per interval, each of at
// most presence_max_pending frames, however fast others join and leave.
// (A round that reaches nobody, such as the first member coming into an
// empty room, starts no interval, so the next arrival is told at once.)
//
// Each room has at most one timer (time.AfterFunc: no goroutine until it
// fires), running only while an interval is; it is stopped when the room
// is deleted. A round takes the changes under the room's lock, encodes
// outside it and posts to the members under the room's read lock; the
// registry's lock is never held.

// presenceConfig is the registry-wide presence setting. Read-only.
type presenceConfig struct {
	interval   time.Duration
	maxPending int
	encode     func(any) []byte
}

// roomPresence is a room's presence changes not yet announced. Its fields
// other than cfg and flushMu are guarded by the room's mu. flushMu is held
// across a whole round, so rounds reach each member in the order they took
// their changes; it is taken before the room's mu, never after.
type roomPresence struct {
	cfg     *presenceConfig
	flushMu sync.Mutex

	pending map[string]change // by user; nil when none
	reset   bool              // more than maxPending users changed: send a reset
	armed   bool              // an interval is running: changes wait for its end
	timer   *time.Timer       // ends the interval; nil until the first one
	dead    bool              // the room was deleted
}

// change is a user's latest state in a room, and the state last announced.
type change struct {
	was      bool  // in the room as last announced
	in       bool  // in the room now
	gone     bool  // not in: the user has no session left at all
	lastSeen int64 // with gone, Unix ms
}

// announcement is a user whose state differs from the one last announced.
type announcement struct {
	user string
	change
}

// changedLocked records that user came in or left (c.in) and reports
// whether the caller must run a round (flushPresence) once it has released
// its locks: no interval is running. The room's mu is held.
func (rm *room) changedLocked(user string, c change) (flushNow bool) {
	p := &rm.pres
	if !p.reset {
		old, ok := p.pending[user]
		switch {
		case ok:
			c.was = old.was
			p.pending[user] = c
		case len(p.pending) >= p.cfg.maxPending:
			p.pending, p.reset = nil, true
		default:
			// Only arrivals and departures are recorded, so the state
			// before a user's first change since the last round is the
			// opposite one, and it is what that round left announced.
			c.was = !c.in
			if p.pending == nil {
				p.pending = map[string]change{}
			}
			p.pending[user] = c
		}
	}
	return !p.armed
}

// stopLocked drops what is waiting and stops the timer: the room is being
// deleted. The room's mu is held.
func (p *roomPresence) stopLocked() {
	p.dead = true
	p.pending, p.reset = nil, false
	if p.timer != nil {
		p.timer.Stop()
	}
}

// flushPresence runs a round: it announces the changes waiting. Called by
// a session whose change found no interval running (tick false), it does
// nothing if another round has started one meanwhile. At an interval's end
// (tick) it starts the next interval if it tells anyone anything, and
// otherwise lets the room go quiet. It must be called without locks held.
func (rm *room) flushPresence(tick bool) {
	p := &rm.pres
	p.flushMu.Lock()
	defer p.flushMu.Unlock()

	rm.mu.Lock()
	if p.dead || !tick && p.armed {
		rm.mu.Unlock()
		return
	}
	reset := p.reset
	var news []announcement
	for u, c := range p.pending {
		if c.in != c.was {
			news = append(news, announcement{u, c})
		}
	}
	p.pending, p.reset = nil, false
	switch {
	case reset || rm.tellsLocked(news):
		p.armed = true
		if p.timer == nil {
			p.timer = time.AfterFunc(p.cfg.interval, func() { rm.flushPresence(true) })
		} else {
			p.timer.Reset(p.cfg.interval)
		}
	case tick:
		p.armed = false
	}
	rm.mu.Unlock()

	if reset {
		ev := wire.Presence{Type: wire.TypePresence, Room: rm.name, Reset: true}
		frame := p.cfg.encode(ev)
		text := lazyText{render: func() string { return presenceLine(&ev) }}
		rm.mu.RLock()
		defer rm.mu.RUnlock()
		rm.eachLocked(func(m *session) { m.deliverFor(frame, &text) })
		return
	}
	if len(news) == 0 {
		return
	}
	slices.SortFunc(news, func(a, b announcement) int { return strings.Compare(a.user, b.user) })
	jsonRound := rm.round(news, appendPresenceFrame)
	var textRound *round // built for the first text-mode member
	rm.mu.RLock()
	defer rm.mu.RUnlock()
	rm.eachLocked(func(m *session) {
		r := &jsonRound
		if m.format == formatText {
			if textRound == nil {
				tr := rm.round(news, appendPresenceText)
				textRound = &tr
			}
			r = textRound
		}
		seg, own := r.self[m.name]
		if !own {
			m.deliver(r.frames)
			return
		}
		// The user's own sessions are not told they came in.
		if seg[0] > 0 {
			m.deliver(r.frames[:seg[0]])
		}
		if seg[1] < len(r.frames) {
			m.deliver(r.frames[seg[1]:])
		}
	})
}

// tellsLocked reports whether announcing news reaches any member: each
// member is told of everyone's changes but its own user's coming in. The
// room's mu is held, and the room has members.
func (rm *room) tellsLocked(news []announcement) bool {
	switch len(news) {
	case 0:
		return false
	case 1:
		return !news[0].in || len(rm.users) > 1
	}
	return true
}

// round is one round's announcements, encoded once for every member.
type round struct {
	frames []byte            // every announcement, one frame each, by user name
	self   map[string][2]int // a user announced online: their frame's bounds
}

// round encodes news (sorted by user name), each as one frame appended
// by appendFrame.
func (rm *room) round(news []announcement, appendFrame func([]byte, *wire.Presence) []byte) round {
	var r round
	for _, a := range news {
		ev := wire.Presence{Type: wire.TypePresence, User: a.user, Status: wire.StatusOnline, Room: rm.name}
		switch {
		case a.in:
		case a.gone:
			ev.Status, ev.LastSeen = wire.StatusOffline, a.lastSeen
		default:
			ev.Status = wire.StatusLeft
		}
		start := len(r.frames)
		r.frames = appendFrame(r.frames, &ev)
		if a.in {
			if r.self == nil {
				r.self = map[string][2]int{}
			}
			r.self[a.user] = [2]int{start, len(r.frames)}
		}
	}
	return r
}

// appendPresenceText is appendPresenceFrame for text-mode members.
func appendPresenceText(dst []byte, p *wire.Presence) []byte {
	return append(dst, textFrame(presenceLine(p))...)
}
