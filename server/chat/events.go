package chat

import (
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/wire"
)

// EventSink receives the service's chat events: login, logout, join,
// leave, stored (wire.Event*). Emit is called on session actors and the
// offline queue's goroutines, so it must be safe for concurrent use and
// must not block; it may drop. *webhook.Sink implements it.
type EventSink interface {
	Emit(wire.Event)
}

// WithEvents sends the service's events to sink (webhooks.url).
func WithEvents(sink EventSink) Option { return func(o *options) { o.events = sink } }

// noEvents is the sink of a service without WithEvents.
type noEvents struct{}

func (noEvents) Emit(wire.Event) {}

// eventSink returns the sink opts name, or noEvents.
func eventSink(opts []Option) EventSink {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.events == nil {
		return noEvents{}
	}
	return o.events
}

// event emits an event of s's user and connection: login, join or leave
// (with the room). Only real changes are emitted: a join that entered the
// room, a leave that left it.
func (s *session) event(typ, room string) {
	s.svc.events.Emit(wire.Event{Type: typ, User: s.name, Conn: s.conn.ID(), Room: room})
}

// logoutEvent emits the end of s's logged-in session, with its close code;
// last says the user has no session left.
func (s *session) logoutEvent(code server.StatusCode, last bool) {
	s.svc.events.Emit(wire.Event{Type: wire.EventLogout, User: s.name, Conn: s.conn.ID(), Code: int(code), Offline: last})
}

// storedEvent emits, when err is nil, that m was stored for the offline
// user (a push notification's cue): its sender and id, not its data.
func (q *offlineQueue) storedEvent(user string, m wire.Message, err error) {
	if err == nil {
		q.storedOK.Add(1)
		q.events.Emit(wire.Event{Type: wire.EventStored, User: user, Sender: m.Sender, Message: m.ID})
	}
}
