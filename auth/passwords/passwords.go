package passwords

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"golang.org/x/crypto/bcrypt"

	"github.com/chatd/chatd/auth"
)

// Config is the auth.passwords section of the config file.
type Config struct {
	// File is the password file: "name:bcrypt-hash" lines. Relative paths
	// are relative to chatd's working directory. It must exist when chatd
	// starts; create it with `chatd passwd FILE NAME`.
	// Default "./data/passwords".
	File string `yaml:"file"`
}

// Default returns the defaults.
func Default() Config { return Config{File: "./data/passwords"} }

// Validate reports an invalid field.
func (c Config) Validate() error {
	if strings.TrimSpace(c.File) == "" {
		return errors.New(`auth.passwords.file: want the path of the password file, such as "./data/passwords"`)
	}
	return nil
}

// directoryInterval is how often Exists looks at the file at most.
const directoryInterval = time.Second

// Authenticator checks logins against the password file, rereading it when
// it changes. It is safe for concurrent use: logins read an immutable
// snapshot; reloads are serialised by mu and publish a new snapshot.
type Authenticator struct {
	path string
	log  *zap.Logger
	now  func() time.Time // a seam for tests

	cur       atomic.Pointer[snapshot] // the users in force
	lastCheck atomic.Int64             // when Exists last looked at the file, in Unix nanoseconds

	mu         sync.Mutex  // serialises reloads; guards bad and statFailed
	bad        os.FileInfo // the version of the file that last failed to load, logged once
	statFailed bool        // the last stat failed and was logged
}

// snapshot is the content of one version of the file. Immutable.
type snapshot struct {
	users map[string]user // by canonical name
	info  os.FileInfo     // the file it was read from
}

var (
	_ auth.Authenticator = (*Authenticator)(nil)
	_ auth.Directory     = (*Authenticator)(nil)
)

// New loads cfg.File. It fails if cfg is invalid or the file is missing,
// unreadable or malformed. A nil log discards the reload messages.
func New(cfg Config, log *zap.Logger) (*Authenticator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	a := &Authenticator{path: cfg.File, log: log.With(zap.String("file", cfg.File)), now: time.Now}
	s, err := a.load()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("auth.passwords.file: %w (create it with: chatd passwd %s NAME)", err, cfg.File)
	case err != nil:
		return nil, fmt.Errorf("auth.passwords.file: %w", err)
	}
	a.cur.Store(s)
	a.lastCheck.Store(a.now().UnixNano())
	return a, nil
}

// load reads and parses the file.
func (a *Authenticator) load() (*snapshot, error) {
	f, err := os.Open(a.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	t, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.path, err)
	}
	return &snapshot{users: t.users, info: info}, nil
}

// refresh rereads the file if it changed since the snapshot in force, and
// returns the snapshot to use.
func (a *Authenticator) refresh() *snapshot {
	s := a.cur.Load()
	info, err := os.Stat(a.path)
	if err == nil && sameVersion(info, s.info) {
		return s
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if s = a.cur.Load(); err == nil && sameVersion(info, s.info) {
		return s // another call reloaded it meanwhile
	}
	if err != nil {
		if !a.statFailed {
			a.log.Error("password file unreadable; keeping the users loaded before", zap.Error(err))
			a.statFailed = true
		}
		return s
	}
	a.statFailed = false
	if a.bad != nil && sameVersion(info, a.bad) {
		return s // this version already failed and was logged
	}
	next, err := a.load()
	if err != nil {
		a.log.Error("password file not reloaded; keeping the users loaded before", zap.Error(err))
		a.bad = info
		return s
	}
	a.bad = nil
	a.cur.Store(next)
	a.log.Info("password file reloaded", zap.Int("users", len(next.users)))
	return next
}

// Reload rereads the file now, whether or not it looks changed (chatd
// calls it on SIGHUP). If it cannot, the users loaded before stay in force
// and the error says why.
func (a *Authenticator) Reload() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	next, err := a.load()
	if err != nil {
		return fmt.Errorf("auth.passwords.file: %w", err)
	}
	a.bad, a.statFailed = nil, false
	a.cur.Store(next)
	a.lastCheck.Store(a.now().UnixNano())
	return nil
}

// sameVersion reports whether a and b describe the same version of a file.
// The rename that SetPassword does changes the identity; an edit in place
// changes the modification time and usually the size.
func sameVersion(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.ModTime().Equal(b.ModTime()) && a.Size() == b.Size()
}

// ParseText splits text at the first ':' into name and password, untrimmed.
// Text without ':' is all name, with an empty password.
func (*Authenticator) ParseText(text string) auth.Credentials {
	name, password, _ := strings.Cut(text, ":")
	return auth.Credentials{Name: name, Password: password, Text: text}
}

// Authenticate checks c.Name and c.Password against the file, rereading it
// first if it changed. Names are matched, and returned, in their canonical
// form (auth.CanonicalName). It rejects an unknown or invalid name with
// auth.ReasonUnknownName and a wrong password with auth.ReasonWrongPassword.
// It blocks for the bcrypt comparison (tens of milliseconds at the default
// cost) and does not watch ctx while it does. It never fails as a backend:
// a file that cannot be reread leaves the previous users in force.
func (a *Authenticator) Authenticate(_ context.Context, c auth.Credentials) (auth.Identity, error) {
	name, err := auth.CanonicalName(c.Name)
	if err != nil {
		return auth.Identity{}, auth.Reject(auth.ReasonUnknownName)
	}
	u, ok := a.refresh().users[name]
	if !ok {
		return auth.Identity{}, auth.Reject(auth.ReasonUnknownName)
	}
	if c.Password == "" || len(c.Password) > MaxPasswordBytes ||
		bcrypt.CompareHashAndPassword(u.hash, []byte(c.Password)) != nil {
		return auth.Identity{}, auth.Reject(auth.ReasonWrongPassword)
	}
	return auth.Identity{Name: name}, nil
}

// Exists reports whether the canonical form of name is in the file; an
// invalid name is not. It looks at the file at most once a second, so a
// user added moments ago may be missed until then. It never fails.
func (a *Authenticator) Exists(_ context.Context, name string) (bool, error) {
	name, err := auth.CanonicalName(name)
	if err != nil {
		return false, nil
	}
	s := a.cur.Load()
	now := a.now().UnixNano()
	if last := a.lastCheck.Load(); now-last >= int64(directoryInterval) && a.lastCheck.CompareAndSwap(last, now) {
		s = a.refresh()
	}
	_, ok := s.users[name]
	return ok, nil
}
