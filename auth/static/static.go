package static

import (
	"context"
	"errors"
	"fmt"

	"github.com/chatd/chatd/auth"
)

// Config is the auth.static section of the config file.
type Config struct {
	// Users are the names that may log in. Each must pass auth.CheckName
	// (1 to 32 characters, no whitespace, control characters or ':'), and
	// none may appear twice. Default [] (empty): nobody can log in.
	Users []string `yaml:"users"`
}

// Default returns the defaults: no users.
func Default() Config { return Config{Users: []string{}} }

// Validate reports every invalid or duplicate name, one per line.
func (c Config) Validate() error {
	var errs []error
	first := make(map[string]int, len(c.Users))
	for i, name := range c.Users {
		if err := auth.CheckName(name); err != nil {
			reason, _ := auth.IsRejection(err)
			errs = append(errs, fmt.Errorf("auth.static.users[%d] %q: %s", i, name, reason))
			continue
		}
		if j, dup := first[name]; dup {
			errs = append(errs, fmt.Errorf("auth.static.users[%d] %q: duplicate of auth.static.users[%d]", i, name, j))
			continue
		}
		first[name] = i
	}
	return errors.Join(errs...)
}

// Authenticator accepts the configured names. It is immutable after New and
// safe for concurrent use.
type Authenticator struct {
	users map[string]struct{} // read-only after New
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
		users[name] = struct{}{}
	}
	return &Authenticator{users: users}, nil
}

// ParseText takes the whole text as the name, untrimmed.
func (*Authenticator) ParseText(text string) auth.Credentials {
	return auth.Credentials{Name: text, Text: text}
}

// Authenticate accepts c.Name if it is a configured user and otherwise
// rejects it with auth.ReasonUnknownName. It never blocks and never fails as
// a backend.
func (a *Authenticator) Authenticate(_ context.Context, c auth.Credentials) (auth.Identity, error) {
	if _, ok := a.users[c.Name]; !ok {
		return auth.Identity{}, auth.Reject(auth.ReasonUnknownName)
	}
	return auth.Identity{Name: c.Name}, nil
}

// Exists reports whether name is a configured user. It never fails.
func (a *Authenticator) Exists(_ context.Context, name string) (bool, error) {
	_, ok := a.users[name]
	return ok, nil
}
