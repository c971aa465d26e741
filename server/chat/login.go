package chat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/auth/throttle"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/cluster"
	"github.com/chatd/chatd/server/wire"
)

// Close codes of the login phase.
const (
	// CloseLoginAttempts: chat.login.max_attempts failed logins.
	CloseLoginAttempts server.StatusCode = 4001
	// CloseLoginTimeout: no successful login within chat.login.timeout.
	CloseLoginTimeout server.StatusCode = 4004
	// CloseLoginFlood: more than chat.login.max_messages messages, or
	// chat.login.max_bytes bytes, before login.
	CloseLoginFlood server.StatusCode = 4005
)

// Reasons the chat layer gives for refused logins.
const (
	reasonOnline = "name is already online"
	reasonBusy   = "server busy, try again"
	reasonBroken = "login service unavailable, try again later"
	// reasonLookalike refuses a name that looks the same as (has the same
	// auth.NameKey as) a different user's who is online.
	reasonLookalike = "name is already online"
	reasonAddress   = "too many logins from your address, try again later"
	reasonAccount   = "too many failed logins for this name, try again later"
)

// WithThrottle makes the service count its logins in t, shared with other
// endpoints (the bridge's login: true programs), instead of a throttle of
// its own built from chat.login. t's settings then apply, not chat.login's
// address_rate, address_burst and account_*.
func WithThrottle(t *throttle.Throttle) Option { return func(o *options) { o.throttle = t } }

// loginThrottle returns the throttle opts name, or a new one with cfg's
// settings.
func loginThrottle(cfg LoginConfig, opts []Option) *throttle.Throttle {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.throttle != nil {
		return o.throttle
	}
	return throttle.New(ThrottleConfig(cfg))
}

// ThrottleConfig returns the throttle settings of chat.login.
func ThrottleConfig(cfg LoginConfig) throttle.Config {
	return throttle.Config{AddressRate: cfg.AddressRate, AddressBurst: cfg.AddressBurst,
		AccountFailures: cfg.AccountFailures, AccountFailuresTotal: cfg.AccountFailuresTotal,
		AccountWindow: cfg.AccountWindow}
}

// attempt is one login, as the auth pool sees it.
type attempt struct {
	creds   auth.Credentials
	json    bool // answer in JSON
	ref     json.RawMessage
	ack     bool
	account string            // the failure reserved by the login throttle, if any
	resume  string            // a resume token (resume.go)
	since   map[string]uint64 // room -> last seq the client has, for the rooms joined at login
}

// authResult is what the auth pool reports to the session.
type authResult struct {
	attempt
	id  auth.Identity
	err error
	// With a cluster: the slot claimed for the session, or why none was.
	claim    *cluster.Claim
	claimErr error
}

func (s *session) loginMessage(op server.MessageType, payload []byte) {
	l := s.login
	l.messages++
	l.bytes += len(payload)
	if lc := s.svc.live().login; l.messages > lc.MaxMessages || l.bytes > lc.MaxBytes {
		s.conn.Close(CloseLoginFlood, "too much sent before login")
		return
	}
	if op != server.Text {
		s.conn.SendText([]byte("binary messages are not accepted before login: send your name as text"))
		return
	}
	if l.inFlight || time.Now().Before(l.notBefore) || len(l.queued) > 0 {
		if len(l.queued) >= s.svc.live().login.MaxAttempts {
			s.conn.SendText([]byte("too many login attempts waiting: wait for each answer"))
			return
		}
		l.queued = append(l.queued, string(payload))
		s.scheduleRetry()
		return
	}
	s.try(string(payload))
}

// try starts one attempt on the auth pool.
func (s *session) try(text string) {
	a, err := s.parseLogin(text)
	a.json = s.answersJSON(a.json)
	if err != nil {
		s.refuse(a, err.Error(), false)
		return
	}
	s.tryAttempt(a)
}

// answersJSON reports whether login answers are JSON: as the client's
// format asks, or, without one, as the login was written.
func (s *session) answersJSON(loginWasJSON bool) bool {
	switch s.format {
	case formatJSON:
		return true
	case formatText:
		return false
	}
	return loginWasJSON
}

// tryAttempt checks the throttle and hands a parsed attempt to the pool,
// unless it resumes a session.
func (s *session) tryAttempt(a attempt) {
	addr := s.conn.RemoteAddr().Addr()
	if !s.svc.throttle.AllowAddress(addr) {
		s.refuse(a, reasonAddress, false)
		return
	}
	if a.resume != "" && s.tryResume(a) {
		return
	}
	if a.creds.Name != "" {
		account, ok := s.svc.throttle.Reserve(a.creds.Name, addr)
		if !ok {
			s.refuse(a, reasonAccount, false)
			return
		}
		a.account = account
	}
	if s.svc.immediate {
		// A backend that never waits is asked here, on the connection's
		// event loop: no pool, no hand-off back.
		s.login.inFlight = true
		id, err := s.svc.authn.Authenticate(s.svc.baseCtx, a.creds)
		s.authDone(authResult{attempt: a, id: id, err: err})
		return
	}
	if !s.svc.auth.submit(authJob{s: s, a: a}) {
		s.svc.throttle.Release(a.account, addr)
		s.refuse(a, reasonBusy, false)
		return
	}
	s.login.inFlight = true
}

// parseLogin reads a plain-text or JSON login.
func (s *session) parseLogin(text string) (attempt, error) {
	t := bytes.TrimSpace([]byte(text))
	if len(t) > 0 && t[0] == '{' {
		// Something that looks like JSON is never taken as a name.
		var req wire.Request
		if err := wire.DecodeRequest(t, &req); err != nil {
			return attempt{json: true}, fmt.Errorf("invalid JSON login: %v", err)
		}
		a := attempt{json: true, ref: req.ID, ack: req.Ack, resume: req.Resume}
		if req.Type != wire.TypeLogin {
			return a, fmt.Errorf(`log in first: send {"type":"login",...}`)
		}
		if len(req.Since) > 0 {
			var since map[string]*uint64
			if err := json.Unmarshal(req.Since, &since); err != nil {
				return a, fmt.Errorf(`"since" must map room names to seq numbers, as {"lobby":17}`)
			}
			for room, seq := range since {
				if seq != nil { // null: no since for that room
					if a.since == nil {
						a.since = make(map[string]uint64, len(since))
					}
					a.since[room] = *seq
				}
			}
		}
		a.creds = auth.Credentials{Name: req.Name, Password: req.Password, Token: req.Token}
		return a, nil
	}
	creds := s.svc.authn.ParseText(text)
	creds.Text = text
	return attempt{creds: creds}, nil
}

// authDone handles the backend's verdict.
func (s *session) authDone(r authResult) {
	if s.closed || s.login == nil {
		s.svc.releaseClaim(r.claim)
		return
	}
	s.login.inFlight = false
	if _, rejected := auth.IsRejection(r.err); !rejected {
		// Only a refusal on the merits (wrong password, unknown name)
		// keeps the failure the throttle reserved.
		s.svc.throttle.Release(r.account, s.conn.RemoteAddr().Addr())
	}
	var name string
	if r.err == nil {
		name, r.err = auth.CanonicalName(r.id.Name)
	}
	if r.err == nil && r.claimErr != nil {
		s.refuse(r.attempt, claimReason(r.claimErr), false)
		return
	}
	if r.err == nil {
		s.name = name
		max := r.id.MaxSessions
		if max == 0 {
			max = s.svc.authCfg.SessionsPerUser
		}
		var first offlineJob
		if s.svc.keepsMail {
			first = pageJob{s: s}
		}
		refused := s.svc.users.attach(s, max, first)
		if refused == "" {
			s.claim.Store(r.claim)
			s.loggedInAs(r.attempt, max, nil)
			return
		}
		s.svc.releaseClaim(r.claim)
		s.name = ""
		// Not the user's fault: neither counted nor throttled.
		s.refuse(r.attempt, refused, refused != reasonBusy)
		return
	}
	reason, rejected := auth.IsRejection(r.err)
	if !rejected {
		// The backend failed (timeout, 5xx): no attempt is used up.
		s.conn.Logger().Warn("login backend failed", zap.Error(r.err))
		s.refuse(r.attempt, reasonBroken, false)
		return
	}
	s.refuse(r.attempt, reason, true)
}

// refuse answers a failed attempt; counted attempts use up the allowance
// and delay the next one.
func (s *session) refuse(a attempt, reason string, counted bool) {
	s.svc.st.logins[loginOutcome(reason, counted)].Add(1)
	l := s.login
	lc := s.svc.live().login
	left := lc.MaxAttempts - l.attempts
	if counted {
		l.attempts++
		left--
	}
	if a.json {
		s.send(wire.LoginError{Type: wire.TypeLoginError, Error: reason, AttemptsLeft: left, Ref: a.ref})
	} else {
		s.conn.SendText([]byte(reason))
	}
	if left <= 0 {
		s.conn.Close(CloseLoginAttempts, "too many login attempts")
		return
	}
	if counted {
		d := lc.FailureDelay << (l.attempts - 1)
		if d > lc.MaxFailureDelay || d <= 0 {
			d = lc.MaxFailureDelay
		}
		l.notBefore = time.Now().Add(d)
	}
	s.scheduleRetry()
}

// scheduleRetry arranges for the next queued attempt to run once the
// failure delay has passed.
func (s *session) scheduleRetry() {
	l := s.login
	if l.retryArmed || l.inFlight || len(l.queued) == 0 {
		return
	}
	wait := time.Until(l.notBefore)
	if wait <= 0 {
		s.nextQueued()
		return
	}
	l.retryArmed = true
	time.AfterFunc(wait, func() { s.notify(loginRetry{}) })
}

func (s *session) nextQueued() {
	l := s.login
	if l == nil || s.closed || l.inFlight || len(l.queued) == 0 {
		return
	}
	if time.Now().Before(l.notBefore) {
		s.scheduleRetry()
		return
	}
	text := l.queued[0]
	l.queued = l.queued[1:]
	s.try(text)
}

// loggedInAs finishes a successful login: the auto-joined rooms and those
// of a resumed session, the reply, the messages missed in the rooms the
// login named in since, then the mailbox (already queued by attach), then
// live traffic. max is the user's session limit, for the resume token.
func (s *session) loggedInAs(a attempt, max int, resumed []string) {
	s.loggedIn = true
	s.svc.st.logins[loginOK].Add(1)
	s.svc.st.sessions.Add(1)
	s.event(wire.EventLogin, "")
	s.login.timer.Stop()
	// Messages that came while the login was checked are the client's
	// first chat messages (a URL login's client may send at once).
	early := s.login.queued
	s.login = nil
	s.ackMode = a.ack
	s.draining = s.svc.keepsMail
	// Join before answering, so a client that has seen the answer is a
	// member: deliveries posted meanwhile are handled after this method,
	// behind the answer and the replays.
	names := make([]string, 0, len(s.svc.cfg.Rooms.AutoJoin)+len(resumed))
	var recovered []recovery
	for _, name := range append(slices.Clone(s.svc.cfg.Rooms.AutoJoin), resumed...) {
		if s.room(name) != nil || !s.svc.roomName.MatchString(name) ||
			(!s.svc.autoJoin[name] && s.extraRooms() >= s.svc.live().rooms.MaxPerSession) {
			continue
		}
		var since *uint64
		if seq, ok := a.since[name]; ok {
			since = &seq
		}
		r, err := s.enterRoomAt(name, since)
		if err != nil {
			continue // the server is at chat.rooms.max_rooms: the room is gone
		}
		names = append(names, name)
		if since != nil {
			recovered = append(recovered, recovery{name, r})
		}
	}
	if a.json {
		ok := wire.LoginOK{Type: wire.TypeLoginOK, User: s.name, Rooms: names, Ack: s.ackMode, Ref: a.ref}
		if s.svc.resume.enabled() {
			ok.Resume = s.svc.resume.token(s.name, s.conn.ID(), max)
		}
		s.send(ok)
	} else {
		s.conn.SendText([]byte(wire.PlainLoginOK))
	}
	if len(recovered) > 0 {
		s.replaying = true
		s.replayCaughtUp(recovered, a.since) // cluster_rooms.go; at once on one node
	}
	for _, text := range early {
		s.Message(server.Text, []byte(text))
	}
	if ce := s.svc.log.Check(zap.InfoLevel, "logged in"); ce != nil {
		ce.Write(zap.Uint64("conn", s.conn.ID()), zap.String("user", s.name))
	}
}

// authJob is one attempt waiting for the auth pool.
type authJob struct {
	s *session
	a attempt
}

// authPool checks logins on a fixed number of goroutines.
type authPool struct {
	authn   auth.Authenticator
	timeout time.Duration
	jobs    chan authJob
	// claim, with a cluster, takes the accepted user's session slot.
	claim func(ctx context.Context, id auth.Identity, conn uint64) (*cluster.Claim, error)
}

func (p *authPool) submit(j authJob) bool {
	select {
	case p.jobs <- j:
		return true
	default:
		return false
	}
}

// run is one worker; it returns when the pool is closed.
func (p *authPool) run() {
	for j := range p.jobs {
		if j.s.gone.Load() {
			continue // the client went away while the login waited
		}
		ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
		id, err := p.authn.Authenticate(ctx, j.a.creds)
		r := authResult{attempt: j.a, id: id, err: err}
		if err == nil && p.claim != nil {
			r.claim, r.claimErr = p.claim(ctx, id, j.s.conn.ID())
		}
		cancel()
		if !j.s.notify(r) {
			j.s.svc.releaseClaim(r.claim)
		}
	}
}

// recovery is a room joined at login with since: its replay follows the
// login answer.
type recovery struct {
	room string
	joinResult
}

// replayFrom writes the joined reply and replay of each room in rs, one
// room at a time: the next once the socket has taken the previous one, so
// replays of many rooms never pile up past the write budget (each is at
// most chat.history.max_bytes). Live deliveries wait meanwhile (hold).
func (s *session) replayFrom(rs []recovery) {
	if len(rs) == 0 {
		s.replaying = false
		s.releaseHeld()
		return
	}
	s.sendJoined(rs[0].room, rs[0].joinResult, nil)
	s.conn.OnFlushed(func(written bool) {
		if written && !s.closed {
			s.replayFrom(rs[1:])
		}
	})
}

// releaseClaim gives a cluster slot back (nil: none was taken).
func (svc *Service) releaseClaim(c *cluster.Claim) {
	if c != nil && svc.cluster != nil {
		svc.cluster.Release(c)
	}
}
