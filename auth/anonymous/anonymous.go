package anonymous

import (
	"context"

	"github.com/chatd/chatd/auth"
)

// Authenticator accepts every well-formed name. It has no state and is safe
// for concurrent use; the zero value is ready to use.
type Authenticator struct{}

var _ auth.Authenticator = (*Authenticator)(nil)

// New returns an anonymous Authenticator.
func New() *Authenticator { return &Authenticator{} }

// ParseText takes the whole text as the name, untrimmed.
func (*Authenticator) ParseText(text string) auth.Credentials {
	return auth.Credentials{Name: text, Text: text}
}

// Authenticate accepts c.Name if it passes auth.CanonicalName, whose
// rejection ("name is empty", "name contains whitespace", ...) it returns
// otherwise. The identity has the canonical form of the name. It never
// blocks and never fails as a backend.
func (*Authenticator) Authenticate(_ context.Context, c auth.Credentials) (auth.Identity, error) {
	name, err := auth.CanonicalName(c.Name)
	if err != nil {
		return auth.Identity{}, err
	}
	return auth.Identity{Name: name, MaxSessions: 1}, nil
}

// AuthenticatesImmediately marks the backend auth.Immediate: it checks a
// name's form, nothing else.
func (*Authenticator) AuthenticatesImmediately() {}
