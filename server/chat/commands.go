package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/wire"
)

// Lobby is the room plain-text messages go to.
const Lobby = "lobby"

// CloseRateLimit: the connection kept sending over its rate limit.
const CloseRateLimit server.StatusCode = 4029

func (s *session) chatMessage(op server.MessageType, payload []byte) {
	if !s.allow() {
		return
	}
	if op != server.Text {
		s.sendError("binary messages are not supported: send text or JSON", nil)
		return
	}
	t := bytes.TrimSpace(payload)
	if len(t) == 0 || t[0] != '{' {
		s.roomMessage(Lobby, wire.AppendString(nil, payload), nil)
		return
	}
	var req wire.Request
	if err := wire.DecodeRequest(t, &req); err != nil {
		// A field of the wrong type still leaves the rest decoded, id
		// included: the error carries the request's ref so the client can
		// match it.
		var ref json.RawMessage
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			ref = req.ID
		}
		s.sendError("invalid JSON: "+err.Error(), ref)
		return
	}
	if string(req.ID) == "null" {
		req.ID = nil // an id of null is no id: no "sent"
	}
	if req.Room == "" && req.Receiver == "" {
		if field := emptyTarget(t); field != "" {
			s.sendError(field+" is empty: name a "+field+", or leave the field out to write to the lobby", req.ID)
			return
		}
	}
	s.request(&req)
}

// allow applies the per-connection rate limit. Messages over it get an
// error; too many in one window close the connection.
func (s *session) allow() bool {
	if s.limiter == nil {
		// Made at the first message, not at login: an idle session does
		// not carry one (a full bucket is what a new limiter is anyway).
		s.limiter = s.svc.newLimiter()
	}
	if s.limiter.Allow() {
		return true
	}
	now := time.Now().UnixNano()
	rc := s.svc.live().rate
	if now-s.window > int64(rc.Window) {
		s.window, s.rejected = now, 0
	}
	s.rejected++
	if int(s.rejected) > rc.MaxRejected {
		s.conn.Close(CloseRateLimit, "rate limit exceeded repeatedly")
		return false
	}
	s.sendError(fmt.Sprintf("rate limit: at most %g messages per second", float64(s.limiter.Limit())), nil) // this session's, not a rate reconfigured since
	return false
}

func (s *session) request(req *wire.Request) {
	switch req.Type {
	case "", wire.TypeMessage:
		s.message(req)
	case wire.TypeJoin:
		s.join(req)
	case wire.TypeLeave:
		s.leave(req)
	case wire.TypeWho:
		s.who(req)
	case wire.TypeRooms:
		s.listRooms(req)
	case wire.TypeHistory:
		s.history(req)
	case wire.TypeAck:
		s.ack(req)
	case wire.TypeSeen:
		s.seen(req)
	case wire.TypeLogin:
		s.sendError("already logged in as "+s.name, req.ID)
	default:
		s.sendError(fmt.Sprintf("unknown type %q", req.Type), req.ID)
	}
}

func (s *session) message(req *wire.Request) {
	switch {
	case req.Sender != "" && req.Sender != s.name:
		s.sendError("sender must be your own name, "+s.name, req.ID)
	case req.Data == nil:
		s.sendError("a message needs data", req.ID)
	case req.Receiver != "" && req.Room != "":
		s.sendError("a message goes to a room or a receiver, not both", req.ID)
	case req.Receiver != "":
		s.private(req.Receiver, req.Data, req.ID)
	case req.Room != "":
		s.roomMessage(req.Room, req.Data, req.ID)
	default:
		s.roomMessage(Lobby, req.Data, req.ID)
	}
}

func (s *session) roomMessage(name string, data json.RawMessage, ref json.RawMessage) {
	rm := s.room(name)
	if rm == nil {
		s.sendError("not a member of room "+name+": join it first", ref)
		return
	}
	s.svc.st.msgsIn[roomKind(name)].Add(1)
	now := s.svc.rooms.hist.now()
	id := s.svc.ids.next(now)
	m := &wire.Message{Type: wire.TypeMessage, ID: id, Sender: s.name, Room: name, Data: data, TS: now.UnixMilli()}
	if s.svc.cluster != nil {
		s.streamRoomMessage(m, ref) // cluster_rooms.go
		return
	}
	rm.publish(s.svc, m, s)
	if ref != nil {
		s.sendSent(id, wire.StatusDelivered, ref)
	}
}

func (s *session) ack(req *wire.Request) {
	id, err := strconv.ParseUint(string(req.ID), 10, 64)
	if err != nil {
		s.sendError(`ack needs the numeric "id" of the last message received`, nil)
		return
	}
	// Only what this session was written: an ack of a live message's id
	// must not remove a stored message it has not seen (one stored after
	// its mailbox was read, in a cluster).
	if id > s.mailWritten {
		id = s.mailWritten
	}
	if id == 0 {
		return
	}
	if !s.svc.offline.enqueue(s.name, ackJob{upTo: id}) {
		s.sendError(reasonBusy, nil)
	}
}

func (s *session) seen(req *wire.Request) {
	if req.User == "" {
		s.sendError(`seen needs a "user"`, req.ID)
		return
	}
	name, err := auth.CanonicalName(req.User)
	if err != nil {
		reason, _ := auth.IsRejection(err)
		s.sendError("invalid user: "+reason, req.ID)
		return
	}
	if s.svc.users.isOnline(name) || (s.svc.cluster != nil && s.svc.cluster.Online(name)) {
		s.send(wire.Seen{Type: wire.TypeSeen, User: name, Online: true, Ref: req.ID})
		return
	}
	if !s.svc.offline.enqueue(name, seenLookup{s: s, ref: req.ID}) {
		s.sendError(reasonBusy, req.ID)
	}
}

// emptyTarget reports which of "room" and "receiver" a message names
// without a name (an empty string or null; "" when neither field is there),
// so that a client bug is an error instead of a message to the lobby. Only
// messages without a non-empty target are decoded a second time.
func emptyTarget(t []byte) string {
	if !mayName(t, "room") && !mayName(t, "receiver") {
		return "" // the usual lobby message: no second decoding
	}
	var p struct {
		Room     json.RawMessage `json:"room"`
		Receiver json.RawMessage `json:"receiver"`
	}
	if json.Unmarshal(t, &p) != nil {
		return ""
	}
	switch {
	case len(p.Receiver) > 0:
		return "receiver"
	case len(p.Room) > 0:
		return "room"
	}
	return ""
}

// mayName reports whether the JSON object t may have the key key, a lower
// case ASCII name without 'k' or 's' (which Unicode folds from other
// letters): encoding/json matches keys ignoring case, so the key is there
// as such, in any case, unless it is written with escapes.
func mayName(t []byte, key string) bool {
	if bytes.IndexByte(t, '\\') >= 0 {
		return true
	}
	for i := 0; i+len(key) <= len(t); i++ {
		if t[i]|0x20 == key[0] && asciiFold(t[i+1:i+len(key)], key[1:]) {
			return true
		}
	}
	return false
}

// asciiFold reports whether b equals the lower case ASCII s, ignoring
// ASCII case.
func asciiFold(b []byte, s string) bool {
	for i := range len(s) {
		if b[i]|0x20 != s[i] {
			return false
		}
	}
	return true
}
