package auth

import (
	"context"
	"errors"
)

// Credentials is one login attempt.
type Credentials struct {
	// Name and Password come from a JSON login or from a plain-text login
	// the backend parsed (ParseText).
	Name     string
	Password string
	// Token is a bearer token (jwt backend, or passed through by http).
	Token string
	// Text is the whole plain-text login message; empty for JSON logins.
	Text string
}

// Identity is an authenticated user.
type Identity struct {
	// Name is the user's chat name.
	Name string
	// MaxSessions caps the user's concurrent sessions; 0 means the
	// server's configured default.
	MaxSessions int
}

// Authenticator checks login attempts. Implementations are safe for
// concurrent use.
type Authenticator interface {
	// ParseText turns a plain-text login message into credentials.
	ParseText(text string) Credentials
	// Authenticate returns the identity for c, a *Rejection for a refused
	// attempt, or another error when the backend itself failed.
	Authenticate(ctx context.Context, c Credentials) (Identity, error)
}

// Immediate is implemented by backends whose Authenticate never waits:
// no I/O, no password hashing, only lookups in memory. A server may call
// such a backend inline (chat does, on the connection's event loop)
// instead of handing the attempt to a pool of goroutines.
type Immediate interface {
	AuthenticatesImmediately()
}

// Directory is implemented by backends that know every user.
type Directory interface {
	// Exists reports whether name is a user.
	Exists(ctx context.Context, name string) (bool, error)
}

// Reasons shown to clients, word for word.
const (
	ReasonUnknownName   = "name is not exist"
	ReasonWrongPassword = "wrong password"
	ReasonInvalidToken  = "invalid token"
)

// MaxReasonBytes is the longest rejection reason a backend returns, in
// bytes: one line that fits a WebSocket close frame (125 bytes of payload
// less the 2-byte code). auth/authtest checks it.
const MaxReasonBytes = 123

// Rejection is a refused login. Reason is shown to the client.
type Rejection struct{ Reason string }

func (r *Rejection) Error() string { return "login rejected: " + r.Reason }

// Reject returns a *Rejection with reason.
func Reject(reason string) error { return &Rejection{Reason: reason} }

// IsRejection reports whether err is a *Rejection and returns its reason.
func IsRejection(err error) (string, bool) {
	var r *Rejection
	if errors.As(err, &r) {
		return r.Reason, true
	}
	return "", false
}
