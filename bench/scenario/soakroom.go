package scenario

import (
	"time"
)

// track is what one user knows of one room it is in: the seq it expects
// next. While it stays a member, every seq must arrive once and in order
// (docs/PROTOCOL.md, Room history and recovery), except its own live
// messages, which chatd does not send back to their sender.
type track struct {
	known   bool    // next is set (by joined, or by the first message)
	next    uint64  // next seq expected
	joinSeq uint64  // the room's seq at the join: up to it is replay
	since   *uint64 // the since the join or login asked for
	leaving bool
	from    map[int32]uint32 // per sender: highest payload seq read + 1
}

func newTrack() *track { return &track{from: map[int32]uint32{}} }

// roomLog is what this worker's members saw of one room: who sent each
// seq. A gap in one member's seqs is its own message when the log says so.
type roomLog struct {
	owner map[uint64]int32
	max   uint64
}

// gapKey is one seq one member did not get when it should have.
type gapKey struct {
	user int32
	room string
	seq  uint64
}

func (s *soak) logOf(room string) *roomLog {
	l := s.logs[room]
	if l == nil {
		l = &roomLog{owner: map[uint64]int32{}}
		s.logs[room] = l
	}
	return l
}

// onRoomLocked handles room message seq of room, from sender from (payload
// seq fseq), read by u. It reports whether it is a live message (not a
// replay), whose latency counts. Locked: s.mu.
func (s *soak) onRoomLocked(u *soakUser, room string, seq uint64, from int32, fseq uint32, now time.Time) bool {
	l := s.logOf(room)
	if o, ok := l.owner[seq]; !ok {
		l.owner[seq] = from
		l.max = max(l.max, seq)
		if snd := s.user(from); snd != nil {
			snd.ownIn(room).seen++
		}
	} else if o != from {
		s.violateLocked("room_seq", "%s seq %d came from user %d and from user %d", room, seq, o, from)
	}
	t := u.tracks[room]
	if t == nil {
		s.violateLocked("nonmember", "%s got %s seq %d while not a member", u.name, room, seq)
		return false
	}
	if !t.known {
		t.known, t.next = true, seq
	}
	fresh := true // first time u reads seq
	switch {
	case seq == t.next:
		t.next++
	case seq > t.next:
		due := now.Add(s.cfg.Deadline.D())
		for g := t.next; g < seq; g++ {
			s.gaps[gapKey{u.idx, room, g}] = due
		}
		t.next = seq + 1
	default:
		k := gapKey{u.idx, room, seq}
		if _, ok := s.gaps[k]; ok {
			delete(s.gaps, k)
			s.violateLocked("room_order", "%s got %s seq %d after seq %d", u.name, room, seq, t.next-1)
		} else {
			fresh = false
			s.violateLocked("room_dup", "%s got %s seq %d again (expecting %d)", u.name, room, seq, t.next)
		}
	}
	if fresh && from != u.idx {
		if hi, ok := t.from[from]; ok && fseq < hi {
			s.violateLocked("room_order", "%s got user %d's message %d in %s after its message %d", u.name, from, fseq, room, hi-1)
		}
		t.from[from] = max(t.from[from], fseq+1)
	}
	u.last[room] = max(u.last[room], seq)
	return seq > t.joinSeq
}

// onJoinedLocked sets the base of u's track of room from a joined reply.
// Locked: s.mu.
func (s *soak) onJoinedLocked(u *soakUser, r soakReply) {
	t := u.tracks[r.Room]
	if t == nil {
		t = newTrack()
		u.tracks[r.Room] = t
	}
	t.joinSeq, t.known = r.Seq, true
	t.next = r.Seq + 1
	if t.since == nil {
		return
	}
	since := *t.since
	switch {
	case r.Recovered != nil && *r.Recovered:
		t.next = since + 1
		s.count("recovered", 1)
	case r.Missed > 0:
		t.next = since + r.Missed + 1
		s.count("beyond_history", int64(r.Missed)) // not promised: no longer kept
	case since < r.Seq:
		s.violateLocked("recovery", "%s joined %s since %d (seq %d): recovered false, nothing missed", u.name, r.Room, since, r.Seq)
	}
	if t.next > r.Seq+1 {
		s.violateLocked("recovery", "%s joined %s since %d: replay from %d is past the room's seq %d", u.name, r.Room, since, t.next, r.Seq)
		t.next = r.Seq + 1
	}
}

// judgeGapLocked decides one missing seq once its deadline passed: u's own
// message (the log says so, or no member saw it and u has an own message
// no member saw), else lost. Locked: s.mu.
func (s *soak) judgeGapLocked(k gapKey) {
	u := s.user(k.user)
	o, known := s.logOf(k.room).owner[k.seq]
	switch {
	case known && o == k.user:
		s.count("own_gaps", 1)
	case known:
		s.violateLocked("room_lost", "%s never got %s seq %d (from user %d)", u.name, k.room, k.seq, o)
	default:
		if c := u.ownIn(k.room); c.sent-c.seen-c.used > 0 {
			c.used++
			s.count("own_gaps", 1)
			return
		}
		s.violateLocked("room_lost", "%s never got %s seq %d, which no member of this worker saw", u.name, k.room, k.seq)
	}
}

// judgeGapsLocked judges the gaps due by now (all with final). Locked: s.mu.
func (s *soak) judgeGapsLocked(now time.Time, final bool) {
	for k, due := range s.gaps {
		if final || !now.Before(due) {
			delete(s.gaps, k)
			s.judgeGapLocked(k)
		}
	}
}

// tailGapsLocked adds, for every member still in a room at the end, the
// seqs up to the last one any member saw. Locked: s.mu.
func (s *soak) tailGapsLocked(now time.Time) {
	for _, u := range s.users {
		if u.state != stOnline {
			continue
		}
		for room, t := range u.tracks {
			if !t.known || t.leaving {
				continue
			}
			for g := t.next; g <= s.logOf(room).max; g++ {
				s.gaps[gapKey{u.idx, room, g}] = now
			}
		}
	}
}
