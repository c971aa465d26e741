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

// Authenticate accepts c.Name if it passes auth.CheckName, whose rejection
// ("name is empty", "name contains whitespace", ...) it returns otherwise.
// It never blocks and never fails as a backend.
func (*Authenticator) Authenticate(_ context.Context, c auth.Credentials) (auth.Identity, error) {
	if err := auth.CheckName(c.Name); err != nil {
		return auth.Identity{}, err
	}
	return auth.Identity{Name: c.Name, MaxSessions: 1}, nil
}
