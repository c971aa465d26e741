package scenario

import (
	"context"
	"strconv"
	"time"

	"github.com/chatd/chatd/bench/check"
	"github.com/chatd/chatd/bench/wsconn"
)

// privateLocked prepares a private message from u: to a logged-out user of
// this worker with offline_share, else to any other user of it (online or
// not: the server says delivered or stored). Locked: s.mu.
func (s *soak) privateLocked(u *soakUser, at time.Time) func() {
	var to *soakUser
	if len(s.offline) > 0 && s.rng.Float64() < s.cfg.OfflineShare {
		to = s.user(s.offline[s.rng.IntN(len(s.offline))])
	}
	for to == nil || to == u {
		to = s.users[s.rng.IntN(len(s.users))]
	}
	k := pmKey{u.idx, to.idx, u.pmNext[to.idx]}
	u.pmNext[to.idx]++
	u.nextRef++
	ref := u.nextRef
	u.refs[ref] = k
	r := &pmRec{sentAt: time.Now()}
	s.pm[k], s.open[k] = r, r
	b := append([]byte(`{"id":`), strconv.FormatInt(ref, 10)...)
	b = append(b, `,"receiver":`...)
	b = strconv.AppendQuote(b, to.name)
	b = append(b, `,"data":"`...)
	b = appendPayload(b, check.Stream{From: u.idx, To: to.idx}, k.seq, at, s.cfg.Size)
	b = append(b, `"}`...)
	c := u.c
	return func() {
		if err := c.WriteText(b); err != nil {
			s.mu.Lock()
			r.status = pmUnsure
			delete(u.refs, ref)
			s.mu.Unlock()
			s.count("send_failed", 1)
			return
		}
		s.sent("sent_private")
	}
}

// roomMessageLocked prepares a message from u to room ("": none).
// Locked: s.mu.
func (s *soak) roomMessageLocked(u *soakUser, room string, at time.Time) func() {
	if t := u.tracks[room]; room == "" || t == nil || !t.known || t.leaving {
		return nil
	}
	st := check.Stream{From: u.idx, To: s.roomNum[room], Room: true}
	seq := u.roomSeq[room]
	u.roomSeq[room]++
	own := u.ownIn(room)
	own.sent++
	b := appendRoom(nil, room, func(b []byte) []byte { return appendPayload(b, st, seq, at, s.cfg.Size) })
	c := u.c
	name := "sent_room"
	if room == "lobby" {
		name = "sent_lobby"
	}
	return func() {
		if err := c.WriteText(b); err != nil {
			s.mu.Lock()
			own.sent--
			s.mu.Unlock()
			s.count("send_failed", 1)
			return
		}
		s.sent(name)
	}
}

func (s *soak) sent(kind string) {
	now := time.Now()
	s.w.live.sent.Add(1)
	s.w.rec.Count(0, "sent", 1, now)
	s.w.rec.Count(0, kind, 1, time.Time{})
}

// ackLocked takes u's pending mailbox ack, as a request ("" for none).
// Locked: s.mu.
func (s *soak) ackLocked(u *soakUser) []byte {
	if u.ackID == 0 {
		return nil
	}
	b := []byte(`{"type":"ack","id":` + strconv.FormatUint(u.ackID, 10) + `}`)
	u.ackID = 0
	return b
}

// logoutLocked prepares a graceful logout of u: its mailbox ack, then a
// close frame; the reader sees the server's answer and ends the session.
// Locked: s.mu.
func (s *soak) logoutLocked(u *soakUser) func() {
	if s.ending {
		return nil
	}
	s.setStateLocked(u, stClosing)
	ack, c := s.ackLocked(u), u.c
	return func() {
		if ack != nil {
			_ = c.WriteText(ack)
		}
		_ = c.SetReadDeadline(time.Now().Add(s.cfg.Timeout.D()))
		if c.WriteClose(1000) != nil {
			c.Close()
		}
	}
}

// dropLocked prepares an abrupt drop of u's connection (no close frame),
// after which u logs in again at once with resume and since, once its
// reader has read what it had. Locked: s.mu.
func (s *soak) dropLocked(u *soakUser) func() {
	if s.ending {
		return nil
	}
	s.setStateLocked(u, stConnecting)
	cur := u.cur()
	cur.end, cur.dropped = time.Now(), true
	c, done := u.c, u.done
	s.count("drops", 1)
	return func() {
		c.Close()
		s.goLater(func() {
			<-done
			s.login(u, true)
		})
	}
}

// moveLocked prepares u's move from one of its rooms to another room of
// this worker. Locked: s.mu.
func (s *soak) moveLocked(u *soakUser) func() {
	from := s.memberOfLocked(u)
	if from == "" {
		return nil
	}
	to := s.rooms[s.rng.IntN(len(s.rooms))]
	if u.tracks[to] != nil {
		return nil
	}
	u.tracks[from].leaving = true
	u.tracks[to] = newTrack()
	for i, r := range u.want {
		if r == from {
			u.want[i] = to
		}
	}
	leave := []byte(`{"type":"leave","room":` + strconv.Quote(from) + `}`)
	join := []byte(`{"type":"join","room":` + strconv.Quote(to) + `}`)
	c := u.c
	return func() {
		if c.WriteText(leave) == nil && c.WriteText(join) == nil {
			s.count("moves", 1)
		}
	}
}

// runTicker judges what is due every interval, sends the mailbox acks
// that waited, and prints a status line every minute, until stopped.
func (s *soak) runTicker() (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(s.cfg.Interval.D())
		defer t.Stop()
		lastStatus := time.Now()
		for {
			select {
			case <-quit:
				return
			case now := <-t.C:
				s.tick(now)
				if now.Sub(lastStatus) >= time.Minute {
					lastStatus = now
					s.status(now)
				}
			}
		}
	}()
	return func() { close(quit); <-done }
}

func (s *soak) tick(now time.Time) {
	type ack struct {
		u *soakUser
		c *wsconn.Conn
		b []byte
	}
	var acks []ack
	s.mu.Lock()
	s.judgeOpenLocked(now, false)
	s.judgeGapsLocked(now, false)
	for _, u := range s.users {
		if u.state == stOnline {
			if b := s.ackLocked(u); b != nil {
				acks = append(acks, ack{u, u.c, b})
			}
		}
	}
	s.mu.Unlock()
	for _, a := range acks {
		s.dispatch(a.u, func() { _ = a.c.WriteText(a.b) })
	}
}

// finish ends the run: every logged-out user logs in, the deliveries
// drain (at least a deadline, at most a deadline and cfg.Drain), and what
// is still open is judged, with every member's missing tail of its rooms.
func (s *soak) finish(ctx context.Context) {
	s.mu.Lock()
	s.ending = true
	var away []*soakUser
	for _, u := range s.users {
		if u.state == stOffline {
			if u.relogin != nil {
				u.relogin.Stop()
			}
			away = append(away, u)
		}
	}
	s.mu.Unlock()
	for _, u := range away {
		s.goLater(func() { s.relogin(u, false) })
	}
	c := s.cfg
	s.awaitOnline(ctx, 3*c.Timeout.D())
	start := time.Now()
	for ctx.Err() == nil && time.Since(start) < c.Deadline.D()+c.Drain.D() {
		sleep(ctx, 200*time.Millisecond)
		if time.Since(start) < c.Deadline.D() {
			continue
		}
		s.mu.Lock()
		waiting := 0
		for _, r := range s.open {
			if r.status == pmDelivered || r.status == pmStored || r.status == pmPending {
				waiting++
			}
		}
		s.mu.Unlock()
		if waiting == 0 {
			break
		}
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tailGapsLocked(now)
	s.judgeOpenLocked(now, true)
	s.judgeGapsLocked(now, true)
	s.w.notes = append(s.w.notes, s.examples...)
}

// shutdown closes every connection and waits for every goroutine.
func (s *soak) shutdown() {
	s.mu.Lock()
	s.stopped = true
	var conns []interface{ Close() error }
	for _, u := range s.users {
		if u.relogin != nil {
			u.relogin.Stop()
		}
		if u.c != nil {
			conns = append(conns, u.c)
		}
	}
	s.mu.Unlock()
	s.w.closing.Store(true)
	for _, c := range conns {
		c.Close()
	}
	s.w.readers.Wait()
	close(s.stop)
	s.bg.Wait()
}
