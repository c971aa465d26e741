package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/wire"
)

// loginTimeout bounds one Authenticate call.
const loginTimeout = 10 * time.Second

// Reasons of the bridge's login answers.
const (
	reasonBusy    = "server busy, try again"
	reasonBroken  = "login service unavailable, try again later"
	reasonWaiting = "wait for the answer to your login"
	// The login throttle's refusals, as /ws words them.
	reasonAddress = "too many logins from your address, try again later"
	reasonAccount = "too many failed logins for this name, try again later"
)

// login is the login phase of a connection to a program with login: true:
// the same plain-text and JSON forms as /ws, checked by the same
// authenticator off the actor, and counted by the Bridge's throttle as /ws
// counts them; the client may try again until maxLoginAttempts refusals
// (then 4001). It is used on the actor only.
type login struct {
	ep       *endpoint
	c        *server.Conn
	inFlight bool
	refused  int
	timer    *time.Timer // closes the connection at bridge.login_timeout
}

// newLogin starts a connection's login phase and its timeout.
func newLogin(ep *endpoint, c *server.Conn) *login {
	l := &login{ep: ep, c: c}
	l.timer = time.AfterFunc(ep.b.cfg.LoginTimeout, func() { c.Kick(CloseLoginTimeout, "login timeout") })
	return l
}

// stop ends the login phase (logged in, or the connection closed).
func (l *login) stop() { l.timer.Stop() }

// loginResult is what a login worker posts back.
type loginResult struct {
	json    bool
	ref     json.RawMessage
	account string // the failure reserved in the throttle, if any
	id      auth.Identity
	err     error
}

// message handles one message sent before the login succeeded.
func (l *login) message(op server.MessageType, payload []byte) {
	if op != server.Text {
		l.c.SendText([]byte("log in first: send your name as text"))
		return
	}
	if l.inFlight {
		l.c.SendText([]byte(reasonWaiting))
		return
	}
	var creds auth.Credentials
	r := loginResult{}
	if t := bytes.TrimSpace(payload); len(t) > 0 && t[0] == '{' {
		r.json = true
		var req wire.Request
		if err := json.Unmarshal(t, &req); err != nil || req.Type != wire.TypeLogin {
			l.answer(r, `log in first: send {"type":"login","name":...}`, false)
			return
		}
		r.ref = req.ID
		creds = auth.Credentials{Name: req.Name, Password: req.Password, Token: req.Token}
	} else {
		creds = l.ep.b.authn.ParseText(string(payload))
		creds.Text = string(payload)
	}
	b := l.ep.b
	addr := l.c.RemoteAddr().Addr()
	if !b.throttle.AllowAddress(addr) {
		l.answer(r, reasonAddress, false)
		return
	}
	if creds.Name != "" {
		account, ok := b.throttle.Reserve(creds.Name, addr)
		if !ok {
			l.answer(r, reasonAccount, false)
			return
		}
		r.account = account
	}
	select {
	case b.logins <- struct{}{}:
	default:
		b.throttle.Release(r.account, addr)
		l.answer(r, reasonBusy, false)
		return
	}
	l.inFlight = true
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer func() { <-b.logins }()
		ctx, cancel := context.WithTimeout(context.Background(), loginTimeout)
		r.id, r.err = b.authn.Authenticate(ctx, creds)
		cancel()
		post(l.c, r, nil)
	}()
}

// result handles a worker's verdict; it returns the canonical name once a
// login succeeded, after answering it.
func (l *login) result(r loginResult) (string, bool) {
	l.inFlight = false
	if _, rejected := auth.IsRejection(r.err); !rejected {
		// Only a refusal on the merits keeps the reserved failure.
		l.ep.b.throttle.Release(r.account, l.c.RemoteAddr().Addr())
	}
	name := ""
	err := r.err
	if err == nil {
		name, err = auth.CanonicalName(r.id.Name)
	}
	if err == nil {
		l.stop()
		if r.json {
			writeJSON(l.c, wire.LoginOK{Type: wire.TypeLoginOK, User: name, Ref: r.ref})
		} else {
			l.c.SendText([]byte(wire.PlainLoginOK))
		}
		return name, true
	}
	reason, rejected := auth.IsRejection(err)
	if !rejected {
		l.c.Logger().Warn("login backend failed", zap.Error(err))
		reason = reasonBroken
	}
	l.answer(r, reason, rejected)
	return "", false
}

// answer refuses an attempt; a counted refusal uses up one of
// maxLoginAttempts.
func (l *login) answer(r loginResult, reason string, counted bool) {
	if counted {
		l.refused++
	}
	left := maxLoginAttempts - l.refused
	if r.json {
		writeJSON(l.c, wire.LoginError{Type: wire.TypeLoginError, Error: reason, AttemptsLeft: left, Ref: r.ref})
	} else {
		l.c.SendText([]byte(reason))
	}
	if left <= 0 {
		l.c.Close(CloseLoginAttempts, "too many login attempts")
	}
}

func writeJSON(c *server.Conn, v any) {
	b, err := json.Marshal(v)
	if err == nil {
		c.SendText(b)
	}
}

// post hands v to the connection's actor with Conn.Notify. A full mailbox
// is backpressure: post waits (1 ms, doubling to 50 ms) and tries again,
// until the connection has closed or gone is closed. It reports whether v
// was posted.
func post(c *server.Conn, v any, gone <-chan struct{}) bool {
	posted, _ := postUntil(c, v, gone, time.Time{})
	return posted
}

// postUntil is post that gives up at deadline (zero: never), reporting
// that with timedOut.
func postUntil(c *server.Conn, v any, gone <-chan struct{}, deadline time.Time) (posted, timedOut bool) {
	wait := time.Millisecond
	var t *time.Timer
	for {
		err := c.Notify(v)
		if err == nil {
			return true, false
		}
		if !errors.Is(err, server.ErrQueueFull) {
			return false, false
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			return false, true
		}
		if t == nil {
			t = time.NewTimer(wait)
			defer t.Stop()
		} else {
			t.Reset(wait)
		}
		select {
		case <-t.C:
		case <-gone:
			return false, false
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}
