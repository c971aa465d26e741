package chat

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/gobwas/ws"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/chatd/chatd/actor"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/internal/wsframe"
	"github.com/chatd/chatd/server/wire"
)

// session is one /ws connection. Its fields are used only on the
// connection's actor, except name, which is set once at login before the
// session is published to the registries and never changes.
type session struct {
	svc  *Service
	conn *server.Conn

	login *loginState // nil once logged in

	// chat phase
	name     string
	loggedIn bool
	ackMode  bool
	draining bool // mailbox not yet written: live deliveries wait
	closed   bool
	joined   []*room // few per session: a slice is smaller than a map
	limiter  *rate.Limiter
	rejected int      // messages over the rate in the current window
	window   int64    // start of that window, unix nanoseconds
	pending  [][]byte // live deliveries waiting for the mailbox
}

// loginState is the session's state until it logs in; it is dropped then,
// so a logged-in session does not carry it.
type loginState struct {
	attempts   int
	inFlight   bool      // an attempt is being checked
	notBefore  time.Time // the next attempt waits until then
	queued     []string  // attempts received while one was in flight or delayed
	retryArmed bool
	timer      *time.Timer // the login deadline
}

// room returns the joined room name, or nil.
func (s *session) room(name string) *room {
	for _, rm := range s.joined {
		if rm.name == name {
			return rm
		}
	}
	return nil
}

// Values posted to a session with Conn.Notify.
type (
	delivery     []byte // an encoded frame to write
	loginExpired struct{}
	loginRetry   struct{}
)

func (s *session) Message(op ws.OpCode, payload []byte) {
	if !s.loggedIn {
		s.loginMessage(op, payload)
		return
	}
	s.chatMessage(op, payload)
}

func (s *session) Notify(msg any) {
	switch m := msg.(type) {
	case delivery:
		if s.draining {
			s.pending = append(s.pending, m)
			return
		}
		s.conn.WritePrepared(m)
	case authResult:
		s.authDone(m)
	case loginRetry:
		if s.login != nil {
			s.login.retryArmed = false
			s.nextQueued()
		}
	case loginExpired:
		if !s.loggedIn {
			s.conn.Close(CloseLoginTimeout, "login timeout")
		}
	case loaded:
		s.mailboxLoaded(m)
	case stored:
		s.storeDone(m)
	}
}

func (s *session) Closed(ws.StatusCode, string) {
	s.closed = true
	if s.login != nil {
		s.login.timer.Stop()
	}
	if !s.loggedIn {
		return
	}
	last, seen := s.svc.users.detach(s, time.Now())
	for len(s.joined) > 0 {
		s.leaveRoom(s.joined[len(s.joined)-1], last, seen)
	}
}

// notify posts msg to s from another goroutine and reports whether s took
// it. A session too far behind to take it is closed as a slow consumer.
func (s *session) notify(msg any) bool {
	err := s.conn.Notify(msg)
	if errors.Is(err, actor.ErrMailboxFull) {
		s.conn.Kick(server.CloseSlowConsumer, "slow consumer: too many pending deliveries")
	}
	return err == nil
}

// deliver posts an encoded frame to s from any goroutine and reports
// whether s took it.
func (s *session) deliver(frame []byte) bool { return s.notify(delivery(frame)) }

// send encodes v as a text frame and writes it.
func (s *session) send(v any) { s.conn.WritePrepared(s.svc.encode(v)) }

// sendError reports a refused request.
func (s *session) sendError(msg string, ref json.RawMessage) {
	s.send(wire.Error{Type: wire.TypeError, Error: msg, Ref: ref})
}

// encode returns v as one text frame.
func (svc *Service) encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own wire types are encoded; they always marshal.
		svc.log.DPanic("encode", zap.Error(err))
	}
	return wsframe.AppendFrame(make([]byte, 0, len(b)+10), ws.OpText, b)
}
