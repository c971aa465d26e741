package chat

import (
	"encoding/json"
	"errors"
	"sync/atomic"
	"time"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/server/mailbox"
	"github.com/chatd/chatd/server/wire"
)

// maxPrivateRounds bounds how often a private message is routed again
// after every session it went to failed to write it (they were all
// closing); after that it is stored.
const maxPrivateRounds = 3

// privateSend is one private message on its way to the receiver's live
// sessions. Each session it is handed to settles it exactly once with
// done: written (the kernel took the frame) or not (the session was
// closing, closed, or too far behind). When the last one has settled, the
// message counts as delivered if any session wrote it; otherwise it is
// routed again (the user may have a new session) or stored, and the sender
// hears which. So "delivered" is said only for bytes a socket took, and a
// message no session could take is never lost silently.
//
// Concurrency: the fields above pending are set before the message is
// handed out and only read afterwards, except round, which only the
// goroutine that settles the last session of a round touches (ordered by
// pending).
type privateSend struct {
	svc   *Service
	from  origin
	msg   wire.Message
	start time.Time // when it arrived, for the delivery latency; zero: not timed
	frame []byte    // JSON
	text  []byte    // text mode, for the receiver; encoded when a receiver needs it
	ref   json.RawMessage
	round int
	wire  []byte // JSON for other nodes (cluster.go), made once when needed
	// answer is set for a message from another node: its node hears
	// whether a session here wrote it, and decides the rest.
	answer func(delivered bool)

	pending atomic.Int32 // sessions of this round not yet settled
	written atomic.Bool  // some session wrote it
	// lostNode: a node did not answer (gone, or holding it past
	// cluster.PrivateTimeout): it may still write it, so the message is
	// stored at once rather than routed there again (cluster.go).
	lostNode atomic.Bool
	outcome  privateOutcome // set by the last settler, read by the sender after the post
}

// origin is where a private message comes from and where its outcome goes:
// a *session, or the server API's caller (api.go). It hears exactly one of
// a *privateReply (delivered, or an error) and a stored (from the store
// job). notify is called from any goroutine and must not block.
type origin interface {
	notify(msg any) bool
}

// private sends a message to receiver's sessions, or stores it.
func (s *session) private(receiver string, data, ref json.RawMessage) {
	name, err := auth.CanonicalName(receiver)
	if err != nil {
		reason, _ := auth.IsRejection(err)
		s.sendError("invalid receiver: "+reason, ref)
		return
	}
	if s.svc.users.isReserved(name) {
		// The server API's sender (api.go): no session reads its mail.
		s.sendError("invalid receiver: "+reasonReserved, ref)
		return
	}
	if dir := s.svc.dir; dir != nil {
		ok, err := dir.Exists(s.svc.baseCtx, name)
		switch {
		case err != nil:
			s.sendError("could not check the receiver, try again", ref)
			return
		case !ok:
			s.sendError("unknown receiver "+name, ref)
			return
		}
	}
	s.inflightStarted()
	s.svc.st.msgsIn[kindPrivate].Add(1)
	now := time.Now()
	p := &privateSend{
		start: now,
		svc:   s.svc,
		from:  s,
		msg:   wire.Message{Type: wire.TypeMessage, ID: s.svc.ids.next(now), Sender: s.name, Receiver: name, Data: data, TS: now.UnixMilli()},
		ref:   ref,
	}
	p.route()
}

// route hands p to the receiver's live sessions, or stores it when there
// are none. It runs on the sender's actor for the first round and on
// whichever actor settled the previous round after that.
func (p *privateSend) route() {
	p.round++
	// Read before p is handed out: then another goroutine may settle it
	// and route the next round.
	first := p.round == 1
	nodes, down := p.remoteNodes()
	to, echo, offline, queued := p.svc.users.route(p, p.round == 1, len(nodes) > 0 || down)
	if down && len(to) == 0 {
		p.tell(privateOutcome{err: errClusterDown(p.msg.Receiver)})
		return
	}
	if offline {
		switch {
		case !p.svc.keepsMail:
			p.tell(privateOutcome{err: p.msg.Receiver + " is offline, and this server keeps no offline mail for unauthenticated names"})
		case !queued:
			p.tell(privateOutcome{err: reasonBusy})
		}
		return // the store job answers
	}
	p.encodeFor(to)
	var copyTo []string // the sender's other nodes (cluster.go)
	if first {
		copyTo = p.copyNodes()
	}
	if p.wire == nil && len(nodes)+len(copyTo) > 0 {
		p.wire, _ = json.Marshal(&p.msg)
	}
	p.pending.Store(int32(len(to) + len(nodes)))
	p.handTo(to)
	p.sendRemote(nodes)
	p.sendCopies(copyTo)
	if len(echo) == 0 {
		return
	}
	echoText := lazyText{render: func() string { return textLine(&p.msg, p.msg.Sender) }}
	for _, t := range echo {
		t.deliverFor(p.frame, &echoText)
	}
}

// encodeFor makes p's frames for the sessions to, once: JSON always (the
// sender's other sessions get it too), a text line if one of them is in
// text mode. Call it before p is handed out.
func (p *privateSend) encodeFor(to []*session) {
	if p.frame == nil {
		p.frame = p.svc.encodeMessage(&p.msg)
	}
	if p.text == nil && anyText(to) {
		p.text = textFrame(textLine(&p.msg, p.msg.Receiver))
	}
}

// handTo gives p to each of the sessions to, on their loops; each settles
// it once. p.pending must count them already.
func (p *privateSend) handTo(to []*session) {
	for _, t := range to {
		t.handPrivate(p)
	}
}

// done settles one session of the current round.
func (p *privateSend) done(written bool) {
	if written {
		p.written.Store(true)
		p.svc.st.msgsOut[kindPrivate].Add(1)
		if !p.start.IsZero() {
			p.svc.st.privateDelay.ObserveSince(p.start)
		}
	}
	if p.pending.Add(-1) != 0 {
		return
	}
	if p.answer != nil {
		p.answer(p.written.Load())
		return
	}
	switch {
	case p.written.Load():
		p.tell(privateOutcome{status: wire.StatusDelivered})
	case p.round < maxPrivateRounds && !p.lostNode.Load():
		p.route()
	case !p.svc.keepsMail:
		p.tell(privateOutcome{err: p.msg.Receiver + " went offline before the message could be delivered"})
	case p.clusterDown():
		p.tell(privateOutcome{err: errClusterDown(p.msg.Receiver)})
	case !p.svc.offline.enqueue(p.msg.Receiver, p.storeJob()):
		p.tell(privateOutcome{err: reasonBusy})
	}
}

// tell reports what became of p to its sender. The outcome travels as
// p itself (a *privateReply), so reporting allocates nothing.
func (p *privateSend) tell(o privateOutcome) {
	p.outcome = o
	p.from.notify((*privateReply)(p))
}

func (p *privateSend) storeJob() *storeJob {
	return &storeJob{msg: p.msg, stored: time.UnixMilli(p.msg.TS), from: p.from, ref: p.ref}
}

// privateOutcome is what the sender hears about a private message that
// was not stored: delivered, or an error.
type privateOutcome struct {
	status string
	err    string
}

// privateReply is a privateSend on its way back to its sender, carrying
// its outcome.
type privateReply privateSend

// A private message's outcome comes back to its sender's mailbox, and a
// post to a full mailbox closes the session as a slow consumer. So the
// outcomes a session waits for are bounded: at a quarter of the mailbox
// (what the socket brings fills at most half), the session stops reading
// its socket until half of them came back. A sender that writes faster
// than outcomes return is slowed by TCP, never closed for its own replies.
func (s *session) inflightBound() int { return max(1, s.conn.QueueSize()/4) }

func (s *session) inflightStarted() {
	s.inflight++ // at most inflightBound (queue_size/4 <= 16384): reading pauses there
	if int(s.inflight) == s.inflightBound() {
		s.conn.PauseReading()
	}
}

func (s *session) inflightDone() {
	if s.inflight == 0 {
		return
	}
	s.inflight--
	if int(s.inflight) == s.inflightBound()/2 {
		s.conn.ResumeReading() // a no-op unless inflightStarted paused it
	}
}

func (s *session) privateDone(r *privateReply) {
	s.inflightDone()
	if o := r.outcome; o.err != "" {
		s.sendError(o.err, r.ref)
	} else if r.ref != nil {
		s.sendSent(r.msg.ID, o.status, r.ref)
	}
}

// takePrivate runs on a receiver's actor: it writes p, holds it while the
// mailbox drains, or settles it as not written.
// handPrivate gives p to s on s's event loop, directly rather than
// through s's queue (as a room message goes): a burst of private messages
// from many senders to a reader that keeps up cannot fill its queue and
// get it closed; its write budget judges whether it keeps up. The
// messages of one sender reach s in the order sent (one loop's tasks from
// one goroutine run in order).
func (s *session) handPrivate(p *privateSend) {
	if s.conn == nil { // unit tests' sessions
		p.done(false)
		return
	}
	s.conn.Loop().Run(func() { s.takePrivate(p) })
}

func (s *session) takePrivate(p *privateSend) {
	switch {
	case s.closed:
		p.done(false)
	case s.holding():
		s.hold(pendingItem{frame: s.privateFrame(p), private: p})
	default:
		s.writePrivate(p)
	}
}

func (s *session) writePrivate(p *privateSend) {
	if s.conn.SendFrame(s.privateFrame(p)) != nil {
		s.leaving.Store(true)
		p.done(false)
		return
	}
	s.conn.OnFlushed(p.done)
}

func (s *session) storeDone(r stored) {
	s.inflightDone()
	switch {
	case r.err == nil:
		if r.ref != nil {
			s.sendSent(r.id, wire.StatusStored, r.ref)
		}
	case errors.Is(r.err, mailbox.ErrFull):
		s.sendError("the receiver's mailbox is full", r.ref)
	case errors.Is(r.err, mailbox.ErrSenderQuota):
		s.sendError("you have too much mail waiting for this receiver", r.ref)
	case errors.Is(r.err, mailbox.ErrStoreFull):
		s.sendError("the server's offline store is full, try again later", r.ref)
	default:
		s.sendError("could not store the message, try again", r.ref)
	}
}

// privateFrame is p's frame for a receiver session of s's format.
func (s *session) privateFrame(p *privateSend) []byte {
	if s.format == formatText {
		return p.text
	}
	return p.frame
}

// anyText reports whether any of the sessions is in text mode.
func anyText(ss []*session) bool {
	for _, s := range ss {
		if s.format == formatText {
			return true
		}
	}
	return false
}
