// Package boltfile opens the bbolt files chatd keeps its durable state in
// (the mailbox, room history, the webhook queue) the same way: the
// directory created private to the user, the file 0600, and bbolt's file
// lock awaited for a bounded time, so that a second chatd on the same
// directory fails clearly instead of hanging.
package boltfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// LockError means another process or Store holds the file's lock.
type LockError struct {
	Path    string
	Timeout time.Duration
}

func (e *LockError) Error() string {
	return fmt.Sprintf("%s is held by another chatd process or Store (no lock after %v)", e.Path, e.Timeout)
}

// Open creates dir (0700) if needed and opens dir/name (0600), waiting at
// most lockTimeout for its lock (a *LockError past it). created reports
// that the file did not exist before.
func Open(dir, name string, lockTimeout time.Duration) (db *bolt.DB, path string, created bool, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", false, fmt.Errorf("create dir: %w", err)
	}
	path = filepath.Join(dir, name)
	_, statErr := os.Stat(path)
	created = errors.Is(statErr, fs.ErrNotExist)
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, path, false, &LockError{Path: path, Timeout: lockTimeout}
	case err != nil:
		return nil, path, false, fmt.Errorf("open %s: %w", path, err)
	}
	return db, path, created, nil
}
