package passwords

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"golang.org/x/crypto/bcrypt"

	"github.com/chatd/chatd/auth"
)

// fakeClock is a settable clock for the Exists throttle. Safe for
// concurrent use.
type fakeClock struct {
	mu  sync.Mutex // guards now
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newTest returns an Authenticator on a fresh file holding alice ("a"), with
// a fake clock and observed logs.
func newTest(t *testing.T) (*Authenticator, string, *fakeClock, *observer.ObservedLogs) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "passwords")
	if err := os.WriteFile(path, []byte("alice:"+hashA+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.InfoLevel)
	a, err := New(Config{File: path}, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	a.now = clock.Now
	a.lastCheck.Store(clock.Now().UnixNano())
	return a, path, clock, logs
}

func login(a *Authenticator, name, password string) error {
	_, err := a.Authenticate(context.Background(), auth.Credentials{Name: name, Password: password})
	return err
}

func wantReason(t *testing.T, err error, want string) {
	t.Helper()
	if reason, ok := auth.IsRejection(err); !ok || reason != want {
		t.Errorf("got %v; want rejection %q", err, want)
	}
}

func TestReloadAfterSetPassword(t *testing.T) {
	a, path, _, logs := newTest(t)
	wantReason(t, login(a, "bob", "b"), auth.ReasonUnknownName)

	if err := SetPassword(path, "bob", "b", bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	if err := login(a, "bob", "b"); err != nil {
		t.Errorf("bob right after SetPassword: %v", err)
	}
	if err := SetPassword(path, "alice", "changed", bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	wantReason(t, login(a, "alice", "a"), auth.ReasonWrongPassword)
	if err := login(a, "alice", "changed"); err != nil {
		t.Errorf("alice with her new password: %v", err)
	}
	if n := logs.FilterMessage("password file reloaded").Len(); n != 2 {
		t.Errorf("logged %d reloads; want 2", n)
	}
}

func TestReloadInPlaceEdit(t *testing.T) {
	a, path, _, _ := newTest(t)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("bob:" + hashB + "\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := login(a, "bob", "b"); err != nil {
		t.Errorf("bob after an appended line: %v", err)
	}
}

func TestReloadMalformedKeepsUsers(t *testing.T) {
	a, path, _, logs := newTest(t)
	if err := os.WriteFile(path+".new", []byte("alice:"+hashA+"\nbob\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := login(a, "alice", "a"); err != nil {
			t.Errorf("alice while the file is malformed: %v", err)
		}
	}
	errs := logs.FilterMessage("password file not reloaded; keeping the users loaded before").All()
	if len(errs) != 1 {
		t.Fatalf("logged %d reload errors; want 1 for the one bad version", len(errs))
	}
	if got := errs[0].ContextMap()["error"]; got != path+": line 2: want name:bcrypt-hash" {
		t.Errorf("logged error %q; want it to name the file and the line", got)
	}

	// Fixed: reloaded.
	if err := SetPassword(path, "bob", "b", bcrypt.MinCost); err == nil {
		t.Fatal("SetPassword changed a malformed file")
	}
	if err := os.WriteFile(path, []byte("bob:"+hashB+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := login(a, "bob", "b"); err != nil {
		t.Errorf("bob after the fix: %v", err)
	}
	wantReason(t, login(a, "alice", "a"), auth.ReasonUnknownName)
}

func TestReloadMissingFileKeepsUsers(t *testing.T) {
	a, path, _, logs := newTest(t)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := login(a, "alice", "a"); err != nil {
			t.Errorf("alice after the file was removed: %v", err)
		}
	}
	if n := logs.FilterMessage("password file unreadable; keeping the users loaded before").Len(); n != 1 {
		t.Errorf("logged %d stat errors; want 1", n)
	}
	if err := SetPassword(path, "bob", "b", bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	if err := login(a, "bob", "b"); err != nil {
		t.Errorf("bob after the file came back: %v", err)
	}
}

func TestExistsChecksAtMostOncePerSecond(t *testing.T) {
	a, path, clock, _ := newTest(t)
	ctx := context.Background()
	if err := SetPassword(path, "bob", "b", bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	if ok, _ := a.Exists(ctx, "bob"); ok {
		t.Error("Exists looked at the file again within a second")
	}
	clock.Add(time.Second)
	if ok, err := a.Exists(ctx, "bob"); !ok || err != nil {
		t.Errorf("Exists(bob) a second later = %v, %v; want true", ok, err)
	}

	// A login always looks, and Exists then sees what it loaded.
	if err := SetPassword(path, "carol", "c", bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	wantReason(t, login(a, "carol", "wrong"), auth.ReasonWrongPassword)
	if ok, _ := a.Exists(ctx, "carol"); !ok {
		t.Error("Exists(carol) after a login reloaded the file = false")
	}
}

// TestConcurrentReload runs logins while the file is rewritten, for -race.
func TestConcurrentReload(t *testing.T) {
	a, path, clock, _ := newTest(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 5 {
				if err := login(a, "alice", "a"); err != nil {
					t.Errorf("alice during rewrites: %v", err)
				}
				clock.Add(time.Second)
				if ok, _ := a.Exists(context.Background(), "alice"); !ok {
					t.Error("alice vanished during rewrites")
				}
			}
		})
	}
	for i := range 5 {
		if err := SetPassword(path, "user"+string(rune('a'+i)), "pw", bcrypt.MinCost); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
}

// TestReloadRereadsUnchangedLooking: Reload rereads the file even when it
// looks unchanged (an edit in place within the same second, of the same
// size, on a file system with coarse times), which the stat check on
// Authenticate cannot see.
func TestReloadRereadsUnchangedLooking(t *testing.T) {
	a, path, _, _ := newTest(t)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// bob instead of alice: the same length, written in place, with the
	// old modification time put back.
	if err := os.WriteFile(path, []byte("bobby:"+hashA+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, info.ModTime(), info.ModTime()); err != nil {
		t.Fatal(err)
	}
	if err := login(a, "bobby", "a"); err == nil {
		t.Fatal("the stat check saw the change; this test needs one it cannot see")
	}
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	if err := login(a, "bobby", "a"); err != nil {
		t.Fatalf("after Reload: %v", err)
	}
	if err := login(a, "alice", "a"); err == nil {
		t.Fatal("alice still logs in after Reload")
	}
}

// TestReloadKeepsUsersOnError: a file that does not parse is reported by
// Reload, and the users loaded before stay in force.
func TestReloadKeepsUsersOnError(t *testing.T) {
	a, path, _, _ := newTest(t)
	if err := os.WriteFile(path, []byte("not a password line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := a.Reload(); err == nil {
		t.Fatal("Reload accepted a malformed file")
	}
	if err := login(a, "alice", "a"); err != nil {
		t.Fatalf("alice after a failed Reload: %v", err)
	}
}
