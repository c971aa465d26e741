package static

import (
	"context"
	"errors"
	"fmt"

	"github.com/chatd/chatd/auth"
)

// Config is the auth.static section of the config file.
type Config struct {
	// Users are the names that may log in. Each must pass
	// auth.CanonicalName (1 to 32 characters, no whitespace, control
	// characters, ':' or invisible characters), and none may appear twice,
	// also not in another form of the same name (decomposed accents,
	// full-width letters). Default [] (empty): nobody can log in.
	Users []string `yaml:"users"`
}

// Default returns the defaults: no users.
func Default() Config { return Config{Users: []string{}} }

// Validate reports every invalid or duplicate name, one per line. Names
// are compared in their canonical form.
func (c Config) Validate() error {
	var errs []error
	first := make(map[string]int, len(c.Users)) // canonical name → index
	for i, name := range c.Users {
		canonical, err := auth.CanonicalName(name)
		if err != nil {
			reason, _ := auth.IsRejection(err)
			errs = append(errs, fmt.Errorf("auth.static.users[%d] %q: %s", i, name, reason))
			continue
		}
		if j, dup := first[canonical]; dup {
			form := ""
			if name != c.Users[j] {
				form = " (the same name in another Unicode form)"
			}
			errs = append(errs, fmt.Errorf("auth.static.users[%d] %q: duplicate of auth.static.users[%d]%s", i, name, j, form))
			continue
		}
		first[canonical] = i
	}
	return errors.Join(errs...)
}

// Authenticator accepts the configured names. It is immutable after New and
// safe for concurrent use.
type Authenticator struct {
	users map[string]struct{} // canonical names; read-only after New
}

var (
	_ auth.Authenticator = (*Authenticator)(nil)
	_ auth.Directory     = (*Authenticator)(nil)
)

// New returns an Authenticator for cfg's users, or cfg's validation error.
func New(cfg Config) (*Authenticator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	users := make(map[string]struct{}, len(cfg.Users))
	for _, name := range cfg.Users {
		canonical, _ := auth.CanonicalName(name) // Validate checked it
		users[canonical] = struct{}{}
	}
	return &Authenticator{users: users}, nil
}

// ParseText takes the whole text as the name, untrimmed.
func (*Authenticator) ParseText(text string) auth.Credentials {
	return auth.Credentials{Name: text, Text: text}
}

// Authenticate accepts c.Name if its canonical form is a configured user,
// and returns that canonical form; it rejects any other name, invalid ones
// included, with auth.ReasonUnknownName. It never blocks and never fails as
// a backend.
func (a *Authenticator) Authenticate(_ context.Context, c auth.Credentials) (auth.Identity, error) {
	name, ok := a.lookup(c.Name)
	if !ok {
		return auth.Identity{}, auth.Reject(auth.ReasonUnknownName)
	}
	return auth.Identity{Name: name}, nil
}

// Exists reports whether the canonical form of name is a configured user.
// It never fails.
func (a *Authenticator) Exists(_ context.Context, name string) (bool, error) {
	_, ok := a.lookup(name)
	return ok, nil
}

// lookup returns the canonical form of name and whether it is a user.
func (a *Authenticator) lookup(name string) (string, bool) {
	canonical, err := auth.CanonicalName(name)
	if err != nil {
		return "", false
	}
	_, ok := a.users[canonical]
	return canonical, ok
}

// AuthenticatesImmediately marks the backend auth.Immediate: it looks the
// name up in memory.
func (*Authenticator) AuthenticatesImmediately() {}
