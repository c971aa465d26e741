package passwords

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/bcrypt"

	"github.com/chatd/chatd/auth"
)

// MaxPasswordBytes is the longest password bcrypt can hash.
const MaxPasswordBytes = 72

// SetPassword adds name to the password file at path with a bcrypt hash of
// password at the given cost, or replaces the hash if name is there already.
// Every other line, comments included, is kept as it is.
//
// The file is replaced atomically: the new content goes to a temporary file
// in the same directory, which is synced and renamed over path, so a running
// server (or a crash) sees either the old file or the new one, never half of
// it. The file gets mode 0600; missing directories are created with mode
// 0700. An existing file that is malformed is left alone and reported.
// Two SetPassword calls racing on the same file may lose one update: the
// last rename wins.
//
// name must pass auth.CheckName and is written in its canonical form
// (auth.CanonicalName), replacing the user's line even if that had the name
// in another form; password must be 1 to MaxPasswordBytes
// bytes; cost must be from bcrypt.MinCost to bcrypt.MaxCost
// (bcrypt.DefaultCost is a sound choice).
func SetPassword(path, name, password string, cost int) error {
	if err := setPassword(path, name, password, cost); err != nil {
		return fmt.Errorf("set password for %q in %s: %w", name, path, err)
	}
	return nil
}

func setPassword(path, name, password string, cost int) error {
	name, err := auth.CanonicalName(name)
	if err != nil {
		reason, _ := auth.IsRejection(err)
		return errors.New(reason)
	}
	switch {
	case password == "":
		return errors.New("password is empty")
	case len(password) > MaxPasswordBytes:
		return fmt.Errorf("password is %d bytes; bcrypt takes at most %d", len(password), MaxPasswordBytes)
	case cost < bcrypt.MinCost || cost > bcrypt.MaxCost:
		return fmt.Errorf("bcrypt cost %d: want %d to %d", cost, bcrypt.MinCost, bcrypt.MaxCost)
	}

	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	t, err := parse(data)
	if err != nil {
		return fmt.Errorf("existing file is malformed, not changed: %w", err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return fmt.Errorf("hash: %w", err)
	}
	t.set(name, hash)
	return writeAtomic(path, t.bytes())
}

// writeAtomic replaces path with data, mode 0600, through a synced temporary
// file and a rename, then syncs the directory so the rename is durable.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()           // may already be closed
			_ = os.Remove(f.Name()) // best effort; the error that matters is err
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
