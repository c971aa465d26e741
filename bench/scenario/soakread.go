package scenario

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/chatd/chatd/server/wire"
)

var (
	idKey   = []byte(`"id":`)
	seqKey  = []byte(`"seq":`)
	roomKey = []byte(`"room":"`)
)

// number reads the unsigned integer after the first key in msg.
func number(msg, key []byte) (uint64, bool) {
	i := bytes.Index(msg, key)
	if i < 0 {
		return 0, false
	}
	v := msg[i+len(key):]
	j := 0
	for j < len(v) && v[j] >= '0' && v[j] <= '9' {
		j++
	}
	n, err := strconv.ParseUint(string(v[:j]), 10, 64)
	return n, err == nil
}

// onSoakMessage handles one message read by u.
func (s *soak) onSoakMessage(u *soakUser, msg []byte) {
	now := time.Now()
	m, ok := scanMessage(msg)
	if !ok {
		s.onSoakReply(u, msg)
		return
	}
	st, fseq, at, err := parsePayload(m.data, s.cfg.Size)
	if err != nil || string(m.sender) != userName(s.cfg.Tag, int(st.From)) {
		if bytes.HasPrefix(m.data, []byte(payloadMagic)) {
			s.mu.Lock()
			s.violateLocked("corrupt", "%s read %.120q", u.name, msg)
			s.mu.Unlock()
		} else {
			s.count("foreign", 1)
		}
		return
	}
	live := false
	s.mu.Lock()
	if st.Room {
		room := "lobby"
		if st.To != 0 {
			i := bytes.Index(msg, roomKey)
			j := -1
			if i >= 0 {
				j = bytes.IndexByte(msg[i+len(roomKey):], '"')
			}
			if j < 0 {
				s.violateLocked("corrupt", "%s read a room message without its room: %.120q", u.name, msg)
				s.mu.Unlock()
				return
			}
			room = string(msg[i+len(roomKey) : i+len(roomKey)+j])
		}
		seq, ok := number(msg, seqKey)
		if !ok || s.roomNum[room] != st.To {
			s.violateLocked("corrupt", "%s read a room message of %q with room number %d or no seq: %.120q", u.name, room, st.To, msg)
		} else {
			live = s.onRoomLocked(u, room, seq, st.From, fseq, now) && !m.offline
		}
		s.w.rec.Count(int(u.idx), "delivered_room", 1, time.Time{})
	} else {
		if st.To != u.idx || s.user(st.From) == nil {
			s.violateLocked("nonmember", "%s read a private message from user %d to user %d", u.name, st.From, st.To)
		} else {
			live = s.onPrivateLocked(u, pmKey{st.From, st.To, fseq}, m.offline)
		}
		if m.offline {
			if id, ok := number(msg, idKey); ok {
				u.ackID = max(u.ackID, id)
			}
		}
		s.w.rec.Count(int(u.idx), "delivered_private", 1, time.Time{})
	}
	s.mu.Unlock()
	s.w.live.delivered.Add(1)
	s.w.lastDelivery.Store(now.UnixNano())
	s.w.rec.Count(int(u.idx), "delivered", 1, now)
	if live {
		s.w.rec.Latency(int(u.idx), "latency", now.Sub(at), at, true)
	}
}

// onSoakReply handles a server message that is not a chat message.
func (s *soak) onSoakReply(u *soakUser, msg []byte) {
	var r soakReply
	if json.Unmarshal(msg, &r) != nil {
		s.count("unparsed", 1)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.Type {
	case wire.TypeSent:
		st := pmDelivered
		if r.Status == wire.StatusStored {
			st = pmStored
		}
		if r.Ref != nil {
			s.onSentLocked(u, *r.Ref, st, "")
		}
	case wire.TypeError:
		if r.Ref != nil {
			s.onSentLocked(u, *r.Ref, pmRefused, r.Error)
			return
		}
		s.violateLocked("server_error", "%s: %s", u.name, r.Error)
	case wire.TypeJoined:
		s.onJoinedLocked(u, r)
	case wire.TypeLeft:
		delete(u.tracks, r.Room)
		s.count("leaves", 1)
	default:
		s.count("other_"+r.Type, 1)
	}
}
