package scenario

import (
	"time"
)

// pmKey is one private message: the seq-th from one user to another.
type pmKey struct {
	from, to int32
	seq      uint32
}

// pmStatus is what the sender was told about a private message.
type pmStatus int8

const (
	pmPending   pmStatus = iota // written, no answer yet
	pmDelivered                 // "sent" delivered: a socket of the receiver took it
	pmStored                    // "sent" stored: in the receiver's mailbox
	pmRefused                   // an error with its ref: neither
	pmUnknown                   // the sender logged out before the answer: it was processed, outcome unknown
	pmUnsure                    // the sender's connection was dropped before the answer: maybe never sent
)

// pmRec is the ledger entry of one private message.
type pmRec struct {
	sentAt  time.Time
	ackAt   time.Time
	status  pmStatus
	got     int  // times read by the receiver
	gotSess int  // the receiver's session that read it first
	flagged bool // counted as unanswered already
}

// onPrivateLocked handles private message k read by u (offline: from the
// mailbox). It reports whether it is a first, live delivery, whose latency
// counts. Locked: s.mu.
func (s *soak) onPrivateLocked(u *soakUser, k pmKey, offline bool) bool {
	r := s.pm[k]
	if r == nil {
		s.violateLocked("phantom", "%s got private message %d from user %d, which was never written", u.name, k.seq, k.from)
		return false
	}
	r.got++
	if r.got > 1 {
		// A mailbox message is sent again at the next login until acked;
		// allowed when the session that read it first was dropped before
		// its ack could go out.
		first := u.sess[r.gotSess]
		if offline && r.gotSess < len(u.sess)-1 && first.dropped {
			s.count("redelivered", 1)
			return false
		}
		s.violateLocked("private_dup", "%s got private message %d from user %d %d times", u.name, k.seq, k.from, r.got)
		return false
	}
	r.gotSess = len(u.sess) - 1
	delete(s.open, k)
	if hi := u.pmHi[k.from]; k.seq < hi {
		// The one documented exception: a message that reached only
		// closing sessions is routed again and may come after later ones;
		// such a message was written before this session began.
		if r.sentAt.Before(u.cur().start) {
			s.count("rerouted_late", 1)
		} else {
			s.violateLocked("private_order", "%s got private message %d from user %d after its message %d", u.name, k.seq, k.from, hi-1)
		}
	}
	u.pmHi[k.from] = max(u.pmHi[k.from], k.seq+1)
	if offline {
		s.count("offline_delivered", 1)
		return false
	}
	return true
}

// onSentLocked records the answer to u's private message ref. Locked: s.mu.
func (s *soak) onSentLocked(u *soakUser, ref int64, st pmStatus, why string) {
	k, ok := u.refs[ref]
	if !ok {
		s.violateLocked("answer", "%s got an answer to %d, which it is not waiting for", u.name, ref)
		return
	}
	delete(u.refs, ref)
	r := s.pm[k]
	r.status, r.ackAt = st, time.Now()
	switch st {
	case pmDelivered:
		s.count("acks_delivered", 1)
	case pmStored:
		s.count("acks_stored", 1)
	case pmRefused:
		delete(s.open, k)
		s.violateLocked("refused", "%s's private message to user %d refused: %s", u.name, k.to, why)
	}
}

// judgePMLocked decides whether message k, not read yet, is lost. It
// returns true once decided. Locked: s.mu.
func (s *soak) judgePMLocked(k pmKey, r *pmRec, now time.Time, final bool) bool {
	d := s.cfg.Deadline.D()
	recv := s.user(k.to)
	lost := func(why string) bool {
		s.violateLocked("private_lost", "user %d's private message %d to %s (%s) never came", k.from, k.seq, recv.name, why)
		return true
	}
	switch r.status {
	case pmPending:
		if !r.flagged && (final || now.Sub(r.sentAt) > d) {
			r.flagged = true
			s.violateLocked("unanswered", "user %d's private message %d to %s: no answer after %v", k.from, k.seq, recv.name, now.Sub(r.sentAt).Round(time.Millisecond))
		}
		if !final {
			return false
		}
		fallthrough
	case pmUnknown:
		if !final {
			return false
		}
		if droppedAll(recv.sess, r.sentAt, r.ackAt) {
			s.count("excused_dropped", 1)
			return true
		}
		return lost("its sender logged out before the answer")
	case pmDelivered:
		if !final && now.Sub(r.ackAt) < d {
			return false
		}
		if droppedAll(recv.sess, r.sentAt, r.ackAt) {
			s.count("excused_dropped", 1) // the kernel took it; we dropped the socket
			return true
		}
		return lost("delivered")
	case pmStored:
		if !final && !onlineSince(recv.sess, r.sentAt, d, now) {
			return false
		}
		return lost("stored")
	case pmUnsure:
		s.count("unsure_not_read", 1)
		return true
	}
	return true
}

// droppedAll reports whether the receiver had sessions that could have
// taken a message sent at from and answered at to, and every one of them
// ended by a drop. A dropped session counts as open until the next
// session's login (a resume closes the old session first), since chatd may
// write to a socket whose peer is gone until it notices.
func droppedAll(sess []session, from, to time.Time) bool {
	any := false
	for i, se := range sess {
		end := se.end
		if se.dropped {
			end = time.Time{} // not known to be closed yet
			if i+1 < len(sess) {
				end = sess[i+1].login
			}
		}
		if se.start.After(to) || (!end.IsZero() && end.Before(from)) {
			continue
		}
		if !se.dropped {
			if se.login.After(to) && any {
				continue // logging in while it was answered: it may have gone to the dropped one
			}
			return false
		}
		any = true
	}
	return any
}

// onlineSince reports whether the receiver had a session that logged in
// after from and stayed at least d (a stored message is due in it).
func onlineSince(sess []session, from time.Time, d time.Duration, now time.Time) bool {
	for _, se := range sess {
		if se.login.Before(from) {
			continue
		}
		end := se.end
		if end.IsZero() {
			end = now
		}
		if end.Sub(se.login) >= d {
			return true
		}
	}
	return false
}

// judgeOpenLocked judges the private messages not read yet. Locked: s.mu.
func (s *soak) judgeOpenLocked(now time.Time, final bool) {
	for k, r := range s.open {
		if s.judgePMLocked(k, r, now, final) {
			delete(s.open, k)
		}
	}
}
