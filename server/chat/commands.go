package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/server/mailbox"
	"github.com/chatd/chatd/server/wire"
)

// Lobby is the room plain-text messages go to.
const Lobby = "lobby"

// CloseRateLimit: the connection kept sending over its rate limit.
const CloseRateLimit ws.StatusCode = 4029

func (s *session) chatMessage(op ws.OpCode, payload []byte) {
	if !s.allow() {
		return
	}
	if op != ws.OpText {
		s.sendError("binary messages are not supported: send text or JSON", nil)
		return
	}
	t := bytes.TrimSpace(payload)
	if len(t) == 0 || t[0] != '{' {
		data, _ := json.Marshal(string(payload))
		s.roomMessage(Lobby, data, nil)
		return
	}
	var req wire.Request
	if err := json.Unmarshal(t, &req); err != nil {
		s.sendError("invalid JSON: "+err.Error(), nil)
		return
	}
	s.request(&req)
}

// allow applies the per-connection rate limit. Messages over it get an
// error; too many in one window close the connection.
func (s *session) allow() bool {
	if s.limiter.Allow() {
		return true
	}
	now := time.Now().UnixNano()
	rc := s.svc.cfg.Rate
	if now-s.window > int64(rc.Window) {
		s.window, s.rejected = now, 0
	}
	s.rejected++
	if s.rejected > rc.MaxRejected {
		s.conn.Close(CloseRateLimit, "rate limit exceeded repeatedly")
		return false
	}
	s.sendError(fmt.Sprintf("rate limit: at most %g messages per second", rc.MessagesPerSecond), nil)
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
	now := time.Now()
	id := s.svc.ids.next(now)
	frame := s.svc.encode(wire.Message{Type: wire.TypeMessage, ID: id, Sender: s.name, Room: name, Data: data, TS: now.UnixMilli()})
	rm.broadcast(frame, s)
	if ref != nil {
		s.send(wire.Sent{Type: wire.TypeSent, ID: id, Status: wire.StatusDelivered, Ref: ref})
	}
}

func (s *session) private(receiver string, data, ref json.RawMessage) {
	if err := auth.CheckName(receiver); err != nil {
		reason, _ := auth.IsRejection(err)
		s.sendError("invalid receiver: "+reason, ref)
		return
	}
	if dir := s.svc.dir; dir != nil {
		ok, err := dir.Exists(s.svc.baseCtx, receiver)
		if err == nil && !ok {
			s.sendError("unknown receiver "+receiver, ref)
			return
		}
	}
	now := time.Now()
	msg := wire.Message{Type: wire.TypeMessage, ID: s.svc.ids.next(now), Sender: s.name, Receiver: receiver, Data: data, TS: now.UnixMilli()}
	store := &storeJob{msg: msg, stored: now, from: s, ref: ref}

	to, echo, isStored, queued := s.svc.users.route(s, receiver, store, nil, nil)
	if isStored {
		if !queued {
			s.sendError(reasonBusy, ref)
		}
		return // storeDone answers
	}
	frame := s.svc.encode(msg)
	taken := 0
	for _, t := range to {
		if t.deliver(frame) {
			taken++
		}
	}
	if taken == 0 {
		// Every session of the receiver refused it (each is being closed
		// as a slow consumer, or just closed): keep it for the next login
		// rather than report a delivery that did not happen.
		if !s.svc.offline.enqueue(receiver, store) {
			s.sendError(reasonBusy, ref)
		}
		return // storeDone answers
	}
	for _, t := range echo {
		if t.name != receiver {
			t.deliver(frame)
		}
	}
	s.send(wire.Sent{Type: wire.TypeSent, ID: msg.ID, Status: wire.StatusDelivered, Ref: ref})
}

func (s *session) storeDone(r stored) {
	switch {
	case r.err == nil:
		s.send(wire.Sent{Type: wire.TypeSent, ID: r.id, Status: wire.StatusStored, Ref: r.ref})
	case errors.Is(r.err, mailbox.ErrFull):
		s.sendError("the receiver's mailbox is full", r.ref)
	default:
		s.sendError("could not store the message, try again", r.ref)
	}
}

// mailboxLoaded writes the stored messages, then the live ones that came
// meanwhile. Without acks the messages leave the mailbox once the socket
// has taken them.
func (s *session) mailboxLoaded(l loaded) {
	for _, e := range l.entries {
		s.conn.WritePrepared(s.svc.frame(e.Data))
	}
	if n := len(l.entries); n > 0 && !s.ackMode {
		last, name, q := l.entries[n-1].ID, s.name, s.svc.offline
		s.conn.AfterFlush(func() { q.enqueue(name, ackJob{upTo: last}) })
	}
	s.draining = false
	for _, f := range s.pending {
		s.conn.WritePrepared(f)
	}
	s.pending = nil
}

func (s *session) ack(req *wire.Request) {
	id, err := strconv.ParseUint(string(req.ID), 10, 64)
	if err != nil {
		s.sendError(`ack needs the numeric "id" of the last message received`, nil)
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
	online, last := s.svc.users.seen(req.User)
	s.send(wire.Seen{Type: wire.TypeSeen, User: req.User, Online: online, LastSeen: last, Ref: req.ID})
}
