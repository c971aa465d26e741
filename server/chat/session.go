package chat

import (
	"encoding/json"
	"errors"
	"math/bits"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/cluster"
	"github.com/chatd/chatd/server/wire"
)

// session is one /ws connection. Its fields are used only on the
// connection's actor, except name, which is set once at login before the
// session is published to the registries and never changes, and the
// atomics, which other goroutines read.
type session struct {
	svc  *Service
	conn *server.Conn

	login *loginState // nil once logged in

	// The fields are ordered to leave no padding: every idle connection
	// carries a session.

	// gone is set when the connection has closed: the auth pool and the
	// offline queue skip work for it.
	gone atomic.Bool
	// leaving is set when the session can no longer take deliveries (its
	// connection is closing or closed, or it refused one): routing skips
	// it, so a private message goes to another session or the mailbox.
	leaving atomic.Bool
	// replaced is set when a resumed login took this session's place: its
	// user is not gone when it closes, and it leaves nothing to resume.
	replaced atomic.Bool
	rejected int32 // messages over the rate in the current window

	// chat phase
	name string
	// claim is, with a cluster, this session's slot (cluster.go). Atomic:
	// a resume on another loop takes it over from the session it replaces.
	claim    atomic.Pointer[cluster.Claim]
	loggedIn bool
	ackMode  bool
	draining bool // mailbox not yet written: live deliveries wait
	// mailWritten is the id of the last stored message this session wrote
	// (0: none): an ack never removes more (commands.go ack).
	mailWritten uint64
	// mailAgain: mail was stored while the mailbox was being read, maybe
	// after the page that would have had it: read again at the end.
	mailAgain bool
	replaying bool // login replays (since) not yet written: live deliveries wait
	// joining counts joins whose answer waits for the room's cluster
	// subscription (cluster.go): live deliveries wait meanwhile.
	joining int
	closed  bool
	// format is how this session wants the server's messages written; set
	// at Open from the subprotocol or the query, never changed after, so
	// other goroutines (fan-out) read it without a lock.
	format format
	// inflight counts this session's private messages whose outcome (a
	// privateReply or a stored) has not come back yet (inflightBound).
	inflight     uint16
	joined       []membership // few per session: a slice is smaller than a map
	limiter      *rate.Limiter
	window       int64         // start of that window, unix nanoseconds
	pending      []pendingItem // live deliveries waiting for the mailbox
	pendingBytes int
	// waiting holds the client's requests that came while a large reply
	// (a replay, a history page) was being written; nil otherwise (paced.go).
	waiting *waitQueue
}

// loginState is the session's state until it logs in; it is dropped then,
// so a logged-in session does not carry it.
type loginState struct {
	attempts   int
	messages   int       // messages received before login
	bytes      int       // their bytes
	inFlight   bool      // an attempt is being checked
	notBefore  time.Time // the next attempt waits until then
	queued     []string  // attempts received while one was in flight or delayed
	retryArmed bool
	timer      *time.Timer // the login deadline
}

// membership is a room s is in, and the seq of the last of its messages
// written to s (or, at the join, the room's seq then: what came before is
// not s's, or is in the join's replay).
type membership struct {
	rm    *room
	seq   uint64
	epoch uint32 // the room's epoch at the join or the last message (cluster.go)
}

// room returns the joined room name, or nil.
func (s *session) room(name string) *room {
	for _, m := range s.joined {
		if m.rm.name == name {
			return m.rm
		}
	}
	return nil
}

// membershipOf returns s's membership of rm, or nil.
func (s *session) membershipOf(rm *room) *membership {
	for i := range s.joined {
		if s.joined[i].rm == rm {
			return &s.joined[i]
		}
	}
	return nil
}

// takeRoomFrame writes a room message to s, or holds it while the mailbox
// or the login's replays are written, unless s is no longer in the room or
// already has it: a message posted before s left (and perhaps rejoined),
// or one that the join's replay carried. So a member gets a room's
// messages once each, in seq order, and none after its "left".
func (s *session) takeRoomFrame(f *roomFrame) {
	m := s.membershipOf(f.rm)
	if s.closed || m == nil || s.leaving.Load() {
		return // leaving: kicked (a gap, a lost claim): nothing after it
	}
	if f.epoch > m.epoch { // the room's stream was made anew: seqs start over
		m.epoch, m.seq = f.epoch, 0
	}
	if f.seq <= m.seq {
		return
	}
	m.seq = f.seq
	frame, prepared := f.json, &f.pjson
	if s.format == formatText {
		frame, prepared = f.text, &f.ptext
	}
	if s.holding() {
		s.hold(pendingItem{frame: frame, room: f.rm})
		return
	}
	s.conn.SendPrepared(prepared)
}

// Values posted to a session with Conn.Notify.
type (
	delivery     []byte // an encoded frame to write, untracked (rooms, echoes)
	loginExpired struct{}
	loginRetry   struct{}
)

func (s *session) Message(op server.MessageType, payload []byte) {
	switch {
	case !s.loggedIn:
		s.loginMessage(op, payload)
	case s.waiting != nil:
		s.wait(op, payload)
	default:
		s.chatMessage(op, payload)
	}
}

// Notify handles values posted to the session. It is also called after
// Closed for values that were still queued (server.Session's contract), so
// every case must be safe on a closed session. (Room and private messages
// do not come this way: they are handed to the session on its loop,
// rooms.go deliver and handPrivate.)
func (s *session) Notify(msg any) {
	switch m := msg.(type) {
	case delivery:
		switch {
		case s.closed:
		case s.holding():
			s.hold(pendingItem{frame: m})
		default:
			s.conn.SendFrame(server.Frame(m))
		}
	case *privateReply:
		s.privateDone(m)
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
	case page:
		s.pageLoaded(m)
	case drainRetry:
		if !s.closed && s.draining {
			s.nextPage(m.after)
		}
	case mailWaiting:
		s.drainAgain()
	case roomSent:
		s.roomSentDone(m)
	case recoveryReady:
		if !s.closed {
			m()
		}
	case joinReady:
		s.joining--
		if s.closed {
			return
		}
		q := s.waiting
		s.waiting = nil
		m()
		s.releaseHeld()
		switch {
		case q == nil:
		case s.waiting != nil: // the answer was a large reply: behind it
			s.waiting.msgs = append(s.waiting.msgs, q.msgs...)
		default:
			s.waiting = q
			s.resume()
		}
	case stored:
		s.storeDone(m)
	case seenAnswer:
		s.send(wire.Seen{Type: wire.TypeSeen, User: m.user, LastSeen: m.lastSeen, Ref: m.ref})
	}
}

func (s *session) Closed(code server.StatusCode, _ string) {
	if s.closed {
		return
	}
	s.closed = true
	s.gone.Store(true)
	s.leaving.Store(true)
	if s.login != nil {
		s.login.timer.Stop()
	}
	s.dropPending()
	if !s.loggedIn {
		return
	}
	s.svc.st.sessions.Add(-1)
	now := time.Now()
	if s.svc.resume.enabled() && !s.replaced.Load() {
		rooms := make([]string, len(s.joined))
		for i, m := range s.joined {
			rooms[i] = m.rm.name
		}
		s.svc.resume.closedAt(s.conn.ID(), s.name, rooms, now)
	}
	last := s.svc.users.detach(s)
	s.svc.releaseClaim(s.claim.Swap(nil))
	var seen int64
	if last {
		seen = now.UnixMilli()
		s.svc.offline.enqueue(s.name, seenJob{at: now})
	}
	for len(s.joined) > 0 {
		s.leaveRoom(s.joined[len(s.joined)-1].rm, last, seen)
	}
	s.logoutEvent(code, last)
}

// notify posts msg to s from another goroutine and reports whether s took
// it. A session too far behind to take it is closed as a slow consumer.
func (s *session) notify(msg any) bool {
	err := s.conn.Notify(msg)
	if errors.Is(err, server.ErrQueueFull) {
		s.leaving.Store(true)
		s.conn.Kick(server.CloseSlowConsumer, "slow consumer: too many pending deliveries")
	}
	return err == nil
}

// deliver posts an encoded frame to s from any goroutine and reports
// whether s took it.
func (s *session) deliver(frame []byte) bool { return s.notify(delivery(frame)) }

// send writes v: as JSON, or in text mode as the line textReply renders
// (nothing for a "sent").
func (s *session) send(v any) {
	if s.format == formatText && s.loggedIn {
		if _, sent := v.(wire.Sent); sent {
			return
		}
		if line, ok := textReply(v, s.name); ok {
			s.conn.SendFrame(textFrame(line))
			return
		}
	}
	s.conn.SendFrame(s.svc.encode(v))
}

// deliverFor posts to s the frame for its format: jsonFrame, or text()
// for a text-mode session. text is called at most once per caller when
// the caller caches it (see lazyText).
func (s *session) deliverFor(jsonFrame []byte, text *lazyText) bool {
	if s.format == formatText {
		return s.deliver(text.frame())
	}
	return s.deliver(jsonFrame)
}

// sendError reports a refused request.
func (s *session) sendError(msg string, ref json.RawMessage) {
	e := wire.Error{Type: wire.TypeError, Error: msg, Ref: ref}
	if s.format == formatText && s.loggedIn {
		s.send(e) // as a line (textReply)
		return
	}
	b, err := wire.AppendError(newFrame(errorSize(&e)), &e)
	s.conn.SendFrame(s.svc.endFrame(b, err))
}

// sendSent tells the sender what became of its message (nothing in text
// mode).
func (s *session) sendSent(id uint64, status string, ref json.RawMessage) {
	if s.format == formatText && s.loggedIn {
		return
	}
	m := wire.Sent{Type: wire.TypeSent, ID: id, Status: status, Ref: ref}
	b, err := wire.AppendSent(newFrame(sentSize(&m)), &m)
	s.conn.SendFrame(s.svc.endFrame(b, err))
}

// encode returns v as one text frame. The chat messages have hand-written
// encoders (wire.Append*), the rest goes through json.Marshal; the bytes
// are json.Marshal's either way.
func (svc *Service) encode(v any) []byte {
	var (
		b   []byte
		err error
	)
	switch m := v.(type) {
	case *wire.Message:
		return svc.encodeMessage(m)
	case wire.Message:
		return svc.encodeMessage(&m)
	case wire.Sent:
		b, err = wire.AppendSent(newFrame(sentSize(&m)), &m)
	case wire.Error:
		b, err = wire.AppendError(newFrame(errorSize(&m)), &m)
	case wire.Presence:
		b = wire.AppendPresence(newFrame(presenceSize(&m)), &m)
	case wire.Membership:
		b, err = wire.AppendMembership(newFrame(membershipSize(&m)), &m)
	default:
		var j []byte
		j, err = json.Marshal(v)
		b = append(newFrame(len(j)), j...)
	}
	return svc.endFrame(b, err)
}

// encodeMessage returns m as one text frame.
func (svc *Service) encodeMessage(m *wire.Message) []byte {
	b, err := wire.AppendMessage(newFrame(messageSize(m)), m)
	return svc.endFrame(b, err)
}

// The sizes of the JSON of the messages, without escapes (which grow the
// frame's buffer): the keys and punctuation, the numbers' digits, the
// strings and the raw JSON.

func messageSize(m *wire.Message) int {
	const keys = len(`{"type":"","id":,"sender":"","receiver":"","data":,"ts":,"seq":,"offline":true}`)
	return keys + decimalLen(m.ID) + decimalLen(uint64(m.TS)) + decimalLen(m.Seq) +
		len(m.Type) + len(m.Sender) + len(m.Room) + len(m.Receiver) + len(m.Data)
}

func sentSize(m *wire.Sent) int {
	const keys = len(`{"type":"","id":,"status":"","ref":}`)
	return keys + decimalLen(m.ID) + len(m.Type) + len(m.Status) + len(m.Ref)
}

func errorSize(m *wire.Error) int {
	const keys = len(`{"type":"","error":"","ref":}`)
	return keys + len(m.Type) + len(m.Error) + len(m.Ref)
}

func presenceSize(p *wire.Presence) int {
	const keys = len(`{"type":"","user":"","status":"","room":"","lastSeen":,"reset":true}`)
	return keys + decimalLen(uint64(p.LastSeen)) + len(p.Type) + len(p.User) + len(p.Status) + len(p.Room)
}

func membershipSize(m *wire.Membership) int {
	const keys = len(`{"type":"","room":"","members":,"seq":,"recovered":false,"missed":,"ref":}`)
	return keys + 20 + decimalLen(m.Seq) + decimalLen(m.Missed) + len(m.Type) + len(m.Room) + len(m.Ref)
}

// decimalLen is at least the number of decimal digits of u, and at most
// one more.
func decimalLen(u uint64) int { return bits.Len64(u)*1233>>12 + 1 }

// maxHeader is the longest header of a server frame.
const maxHeader = server.MaxFrameHeader

// newFrame returns the start of a frame whose JSON payload, about size
// bytes (more only costs a copy), the caller appends: maxHeader bytes held
// for the header, which endFrame writes once the length is known.
func newFrame(size int) []byte { return server.NewTextFrame(size) }

// endFrame finishes a newFrame buffer: the header written just before the
// payload, in the held bytes (the payload is not copied). err is an
// encoder's: it makes an empty frame, as before.
func (svc *Service) endFrame(b []byte, err error) []byte {
	if err != nil {
		// Only our own wire types are encoded, with JSON the server parsed
		// or made: they always encode.
		svc.log.DPanic("encode", zap.Error(err))
		b = b[:maxHeader]
	}
	return server.FinishTextFrame(b)
}

// appendPresenceFrame appends p to dst as one JSON text frame: the JSON is
// appended after room for the longest header, then moved up against its
// actual header (a few bytes: presence frames are short).
func appendPresenceFrame(dst []byte, p *wire.Presence) []byte {
	start := len(dst)
	dst = wire.AppendPresence(append(dst, make([]byte, maxHeader)...), p)
	n := len(dst) - start - maxHeader
	var hdr [maxHeader]byte
	h := server.AppendTextHeader(hdr[:0], n)
	copy(dst[start+len(h):], dst[start+maxHeader:])
	copy(dst[start:], h)
	return dst[:start+len(h)+n]
}

// holding reports whether live deliveries must wait (hold): the mailbox is
// being written, login replays are, or a join's answer is not out yet.
func (s *session) holding() bool { return s.draining || s.replaying || s.joining > 0 }
