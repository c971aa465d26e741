package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/api"
	"github.com/chatd/chatd/server/mailbox"
	"github.com/chatd/chatd/server/wire"
)

// CloseDisconnected: the server API disconnected the user
// (POST /api/disconnect).
const CloseDisconnected server.StatusCode = 4010

// reasonReserved refuses a login with the server API's sender name.
const reasonReserved = "name is reserved"

// The server API (package api) on the chat service. Its methods run on
// the API's request goroutines: they may block (a send waits for its
// outcome), and they reach sessions only by posting to their actors, as
// other sessions do.
var _ api.Chat = (*Service)(nil)

// Reserve refuses name, and any name that looks the same, to every login
// from now on, and closes the sessions that have it (CloseDisconnected).
// chatd reserves the API's sender before it serves.
func (s *Service) Reserve(name string) {
	for _, sess := range s.users.reserve(name) {
		sess.leaving.Store(true)
		sess.conn.Kick(CloseDisconnected, "name reserved by the server")
	}
}

// Publish posts data to the room's members as a room message from sender:
// it gets the room's next seq and goes into its history like any member's
// message. A room exists while it has members: else api.ErrNotFound.
func (s *Service) Publish(ctx context.Context, sender, room string, data json.RawMessage) (api.Published, error) {
	if !s.roomName.MatchString(room) {
		return api.Published{}, fmt.Errorf("%w: invalid room name %s", api.ErrInvalid, quote(room))
	}
	rm := s.rooms.get(room)
	now := s.rooms.hist.now()
	if s.cluster != nil {
		id := s.ids.next(now)
		return s.publishStream(ctx, &wire.Message{Type: wire.TypeMessage, ID: id, Sender: sender, Room: room, Data: data, TS: now.UnixMilli()})
	}
	if rm == nil {
		return api.Published{}, fmt.Errorf("%w: no room %s (a room exists while it has members)", api.ErrNotFound, quote(room))
	}
	id := s.ids.next(now)
	m := &wire.Message{Type: wire.TypeMessage, ID: id, Sender: sender, Room: room, Data: data, TS: now.UnixMilli()}
	seq := rm.publish(s, m, nil)
	if seq == 0 {
		return api.Published{}, fmt.Errorf("%w: no room %s (its last member left)", api.ErrNotFound, quote(room))
	}
	return api.Published{ID: id, Room: room, Seq: seq}, nil
}

// Send delivers data from sender to every session of receiver, or stores
// it when receiver has none, as a user's private message is (private.go),
// and waits for the outcome: "delivered" once some session's socket took
// the frame, "stored" once the mailbox synced it.
func (s *Service) Send(ctx context.Context, sender, receiver string, data json.RawMessage) (api.Sent, error) {
	name, err := auth.CanonicalName(receiver)
	if err != nil {
		reason, _ := auth.IsRejection(err)
		return api.Sent{}, fmt.Errorf("%w: invalid receiver: %s", api.ErrInvalid, reason)
	}
	if auth.NameKey(name) == auth.NameKey(sender) {
		return api.Sent{}, fmt.Errorf("%w: invalid receiver: %s is the API's own name", api.ErrInvalid, name)
	}
	if dir := s.dir; dir != nil {
		ok, err := dir.Exists(ctx, name)
		switch {
		case err != nil:
			return api.Sent{}, fmt.Errorf("%w: could not check the receiver, try again", api.ErrUnavailable)
		case !ok:
			return api.Sent{}, fmt.Errorf("%w: unknown receiver %s", api.ErrNotFound, name)
		}
	}
	o := &apiOrigin{outcome: make(chan any, 1)}
	now := time.Now()
	p := &privateSend{
		svc:  s,
		from: o,
		msg:  wire.Message{Type: wire.TypeMessage, ID: s.ids.next(now), Sender: sender, Receiver: name, Data: data, TS: now.UnixMilli()},
	}
	p.route()
	select {
	case out := <-o.outcome:
		return apiOutcome(p.msg.ID, out)
	case <-ctx.Done():
		return api.Sent{}, fmt.Errorf("%w: no answer within api.send_timeout; message %d may still be delivered or stored", api.ErrTimeout, p.msg.ID)
	}
}

// apiOrigin is the API caller of a Send: it takes the one outcome.
type apiOrigin struct {
	outcome chan any // buffered 1: exactly one outcome is sent
}

func (o *apiOrigin) notify(msg any) bool {
	select {
	case o.outcome <- msg:
	default: // never: one outcome per message
	}
	return true
}

// apiOutcome turns what a privateSend or its store job reported into the
// API's answer.
func apiOutcome(id uint64, out any) (api.Sent, error) {
	switch out := out.(type) {
	case *privateReply:
		switch o := out.outcome; {
		case o.err == reasonBusy:
			return api.Sent{}, fmt.Errorf("%w: %s", api.ErrUnavailable, o.err)
		case o.err != "":
			return api.Sent{}, fmt.Errorf("%w: %s", api.ErrNotKept, o.err)
		}
		return api.Sent{ID: id, Status: out.outcome.status}, nil
	case stored:
		switch {
		case out.err == nil:
			return api.Sent{ID: id, Status: wire.StatusStored}, nil
		case errors.Is(out.err, mailbox.ErrFull):
			return api.Sent{}, fmt.Errorf("%w: the receiver's mailbox is full", api.ErrFull)
		case errors.Is(out.err, mailbox.ErrSenderQuota):
			return api.Sent{}, fmt.Errorf("%w: the API has too much mail waiting for this receiver", api.ErrFull)
		case errors.Is(out.err, mailbox.ErrStoreFull):
			return api.Sent{}, fmt.Errorf("%w: the server's offline store is full", api.ErrFull)
		}
		return api.Sent{}, fmt.Errorf("could not store the message: %w", out.err)
	}
	return api.Sent{}, fmt.Errorf("unexpected outcome %T", out)
}

// Online returns a page of the online users' names.
func (s *Service) Online(after string, limit int) ([]string, bool) {
	if s.cluster != nil {
		return s.cluster.Users(after, limit)
	}
	return s.users.page(after, limit)
}

// Rooms returns a page of the rooms with members.
func (s *Service) Rooms(after string, limit int) ([]api.RoomInfo, bool) {
	if s.cluster != nil {
		names, users, more := s.cluster.Rooms(after, limit)
		out := make([]api.RoomInfo, len(names))
		for i, n := range names {
			out[i] = api.RoomInfo{Name: n, Members: users[i]}
		}
		return out, more
	}
	page, more := s.rooms.page(after, limit)
	out := make([]api.RoomInfo, 0, len(page))
	for _, rm := range page {
		// A room deleted since the page was taken has no members: skip it.
		if n := rm.size(); n > 0 {
			out = append(out, api.RoomInfo{Name: rm.name, Members: n})
		}
	}
	return out, more
}

// Room describes the room name: its seq, its member sessions, and a page
// of its users' names.
func (s *Service) Room(name, after string, limit int) (api.Room, error) {
	if !s.roomName.MatchString(name) {
		return api.Room{}, fmt.Errorf("%w: invalid room name %s", api.ErrInvalid, quote(name))
	}
	rm := s.rooms.get(name)
	if rm == nil {
		return api.Room{}, fmt.Errorf("%w: no room %s", api.ErrNotFound, quote(name))
	}
	rm.mu.RLock()
	live := rm.hist != nil
	r := api.Room{Name: name, Members: rm.count}
	if live {
		r.Seq = rm.hist.seq
	}
	rm.mu.RUnlock()
	if !live {
		return api.Room{}, fmt.Errorf("%w: no room %s", api.ErrNotFound, quote(name))
	}
	r.Users, r.More = rm.who(after, limit)
	return r, nil
}

// Disconnect closes every session of user with CloseDisconnected and
// reason, on every node of a cluster. A user who is not online has 0
// sessions; that is no error.
func (s *Service) Disconnect(user, reason string) (int, error) {
	name, err := auth.CanonicalName(user)
	if err != nil {
		r, _ := auth.IsRejection(err)
		return 0, fmt.Errorf("%w: invalid user: %s", api.ErrInvalid, r)
	}
	n := s.disconnectHere(name, reason)
	if s.cluster == nil {
		return n, nil
	}
	var errs []error
	for _, node := range s.cluster.Nodes(name) {
		ctx, cancel := context.WithTimeout(s.baseCtx, disconnectTimeout)
		k, err := s.cluster.Disconnect(ctx, node, name, reason)
		cancel()
		n += k
		errs = append(errs, err)
	}
	return n, errors.Join(errs...)
}

// disconnectTimeout bounds the wait for another node's Disconnect.
const disconnectTimeout = 5 * time.Second

// disconnectHere closes this node's sessions of name.
func (s *Service) disconnectHere(name, reason string) int {
	ss := s.users.sessions(name)
	for _, sess := range ss {
		// Routing skips it from now on: a private message goes to another
		// session or the mailbox, not to a closing connection.
		sess.leaving.Store(true)
		sess.conn.Kick(CloseDisconnected, reason)
	}
	return len(ss)
}
