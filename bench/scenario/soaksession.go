package scenario

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/chatd/chatd/bench/wsconn"
	"github.com/chatd/chatd/server/wire"
)

// noSince is the since of a first login: past any room's seq, so the
// joined reply carries the room's seq and nothing is replayed.
const noSince = uint64(1) << 53

// soakReply is a server message other than a chat message.
type soakReply struct {
	Type      string   `json:"type"`
	Error     string   `json:"error"`
	Status    string   `json:"status"`
	Room      string   `json:"room"`
	Rooms     []string `json:"rooms"`
	Resume    string   `json:"resume"`
	Seq       uint64   `json:"seq"`
	Recovered *bool    `json:"recovered"`
	Missed    uint64   `json:"missed"`
	Ref       *int64   `json:"ref"`
}

// loginRequest builds u's JSON login: with acks (the mailbox keeps a
// message until it is acked), the resume token when resume, and since for
// the lobby and, on a resume, for every room u is in. It returns the since
// map too. Locked: s.mu.
func (s *soak) loginRequestLocked(u *soakUser, resume bool) ([]byte, map[string]uint64) {
	since := map[string]uint64{}
	last := func(room string) uint64 {
		if v, ok := u.last[room]; ok {
			return v
		}
		return noSince
	}
	since["lobby"] = last("lobby")
	req := map[string]any{"type": "login", "name": u.name, "ack": true, "id": 0}
	if resume && u.resume != "" {
		req["resume"] = u.resume
		for room, t := range u.tracks {
			if t.known && !t.leaving {
				since[room] = last(room)
			}
		}
	}
	req["since"] = since
	b, _ := json.Marshal(req)
	return b, since
}

// login connects u and logs it in, retrying every second until it works or
// the run is over. resume carries on the previous session (after a drop).
func (s *soak) login(u *soakUser, resume bool) {
	for attempt := 0; ; attempt++ {
		err := s.loginOnce(u, resume)
		if err == nil {
			return
		}
		s.mu.Lock()
		stopped := s.stopped
		s.mu.Unlock()
		if stopped || s.ctx.Err() != nil {
			return
		}
		s.count("login_retries", 1)
		if attempt == 30 {
			s.mu.Lock()
			s.violateLocked("login", "%s: 30 failed logins in a row, last: %v", u.name, err)
			s.mu.Unlock()
		}
		sleep(s.ctx, time.Second)
	}
}

// loginOnce is one attempt: dial, JSON login, read the answer. On success
// u is online, its reader runs and its rooms are (re)joined.
func (s *soak) loginOnce(u *soakUser, resume bool) error {
	start := time.Now()
	c, err := s.w.dialers[s.w.spread.node(int(u.idx))].Dial(s.ctx, int(u.idx))
	if err != nil {
		return err
	}
	s.mu.Lock()
	req, since := s.loginRequestLocked(u, resume)
	hadRooms := map[string]bool{}
	if resume {
		for room, t := range u.tracks {
			if room != "lobby" && t.known && !t.leaving {
				hadRooms[room] = true
			}
		}
	}
	s.mu.Unlock()
	timeout := s.cfg.Timeout.D()
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	var ok soakReply
	if err := c.WriteText(req); err != nil {
		c.Close()
		return err
	}
	_, msg, err := c.Read()
	if err == nil && (json.Unmarshal(msg, &ok) != nil || ok.Type != wire.TypeLoginOK) {
		err = errors.New("login refused: " + string(msg[:min(len(msg), 100)]))
	}
	if err != nil {
		c.Close()
		return err
	}
	_ = c.SetReadDeadline(time.Time{})
	now := time.Now()
	s.w.rec.Latency(int(u.idx), "login", now.Sub(start), now, false)

	if fn := s.onLogin(u, c, ok, since, hadRooms, resume, start, now); fn != nil {
		s.dispatch(u, fn)
	}
	return nil
}

// onLogin makes u online on c after its login_ok, starts its reader, and
// returns the joins of the rooms it wants (to be dispatched unlocked).
func (s *soak) onLogin(u *soakUser, c *wsconn.Conn, ok soakReply, since map[string]uint64,
	hadRooms map[string]bool, resume bool, start, now time.Time) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		c.Close()
		return nil
	}
	u.sess = append(u.sess, session{start: start, login: now})
	u.c, u.done, u.resume = c, make(chan struct{}), ok.Resume
	s.setStateLocked(u, stOnline)
	u.tracks = map[string]*track{}
	in := map[string]bool{}
	for _, room := range ok.Rooms {
		in[room] = true
		t := newTrack()
		if v, ok := since[room]; ok {
			t.since = &v
		}
		u.tracks[room] = t
	}
	for room := range hadRooms {
		if !in[room] {
			s.violateLocked("resume", "%s resumed without room %s (login_ok rooms %v)", u.name, room, ok.Rooms)
		}
	}
	s.count("logins", 1)
	if resume {
		s.count("resumes", 1)
	}
	s.w.live.conns.Add(1)
	s.w.live.opened.Add(1)
	s.startSoakReader(u, len(u.sess)-1, c, u.done)
	return s.joinWantedLocked(u)
}

// joinWantedLocked prepares a join for each room u wants and is not in.
// Locked: s.mu.
func (s *soak) joinWantedLocked(u *soakUser) func() {
	var reqs [][]byte
	for _, room := range u.want {
		if u.tracks[room] != nil {
			continue
		}
		u.tracks[room] = newTrack() // base from the joined reply
		reqs = append(reqs, []byte(`{"type":"join","room":`+strconv.Quote(room)+`}`))
	}
	if len(reqs) == 0 {
		return nil
	}
	c := u.c
	return func() {
		for _, r := range reqs {
			if c.WriteText(r) != nil {
				return
			}
			s.count("joins", 1)
		}
	}
}

// startSoakReader reads c until it ends, then records how it ended.
func (s *soak) startSoakReader(u *soakUser, sess int, c *wsconn.Conn, done chan struct{}) {
	s.w.readers.Go(func() {
		defer close(done)
		for {
			_, msg, err := c.Read()
			if err != nil {
				c.Close() // after a logout the server has closed; ours is still open
				s.ended(u, sess, err)
				return
			}
			s.onSoakMessage(u, msg)
		}
	})
}

// ended records the end of session i of u: a logout (ours, graceful), a
// drop (ours, abrupt), or a close by the server or the network, which
// breaks a promise (it is counted, and u logs in again with resume).
func (s *soak) ended(u *soakUser, i int, err error) {
	now := time.Now()
	s.w.live.conns.Add(-1)
	s.mu.Lock()
	defer s.mu.Unlock()
	se := &u.sess[i]
	current := i == len(u.sess)-1
	if se.end.IsZero() {
		se.end = now
	}
	for ref, k := range u.refs { // outcomes that can no longer come
		if r := s.pm[k]; r != nil && r.status == pmPending {
			r.status, r.ackAt = pmUnknown, now
			if se.dropped || !(current && u.state == stClosing) {
				r.status = pmUnsure // may never have left our socket
			}
		}
		delete(u.refs, ref)
	}
	if !current || s.stopped {
		return
	}
	switch u.state {
	case stClosing: // our logout
		s.count("logouts", 1)
		s.setStateLocked(u, stOffline)
		u.tracks = nil
		d := s.offlineFor()
		if s.ending {
			d = 0
		}
		u.relogin = s.later(d, func() { s.relogin(u, false) })
	case stOnline: // not ours
		se.dropped = true
		s.w.rec.Close(int(u.idx), wsconn.CloseCode(err))
		s.violateLocked("closed", "%s: connection ended by the server or the network: %s", u.name, wsconn.Classify(err))
		s.setStateLocked(u, stConnecting)
		s.later(time.Second, func() { s.login(u, true) })
	}
}

// relogin logs a logged-out user in again (no resume: a new session).
func (s *soak) relogin(u *soakUser, resume bool) {
	s.mu.Lock()
	if u.state != stOffline || s.stopped {
		s.mu.Unlock()
		return
	}
	s.setStateLocked(u, stConnecting)
	s.mu.Unlock()
	s.login(u, resume)
}

// offlineFor is how long a logging-out user stays away: uniform from half
// to one and a half of cfg.Offline. Locked: s.mu.
func (s *soak) offlineFor() time.Duration {
	m := s.cfg.Offline.D()
	return m/2 + time.Duration(s.rng.Int64N(int64(m)+1))
}
