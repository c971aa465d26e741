package boltfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestOpen: the directory and the file are made private; created is true
// only the first time; a second opener waits its timeout and gets a
// *LockError, never a hang.
func TestOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	db, path, created, err := Open(dir, "x.db", time.Second)
	if err != nil || !created || path != filepath.Join(dir, "x.db") {
		t.Fatalf("first open: %v created=%v path=%s", err, created, path)
	}
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v", p, fi.Mode().Perm(), err, want)
		}
	}
	_, _, _, err = Open(dir, "x.db", 50*time.Millisecond)
	var locked *LockError
	if !errors.As(err, &locked) || locked.Path != path {
		t.Fatalf("second open while held: %v", err)
	}
	db.Close()
	db, _, created, err = Open(dir, "x.db", time.Second)
	if err != nil || created {
		t.Fatalf("reopen: %v created=%v", err, created)
	}
	db.Close()
}
