package passwords

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestSetPasswordCreatesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "dir", "passwords")
	if err := SetPassword(path, "alice", "secret", bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v; want 0600", info.Mode().Perm())
	}
	if dir, err := os.Stat(filepath.Dir(path)); err != nil || dir.Mode().Perm() != 0o700 {
		t.Errorf("directory: %v, %v; want mode 0700", dir.Mode().Perm(), err)
	}
	tab := mustParseFile(t, path)
	if err := bcrypt.CompareHashAndPassword(tab.users["alice"].hash, []byte("secret")); err != nil {
		t.Errorf("stored hash does not match: %v", err)
	}
	if cost, _ := bcrypt.Cost(tab.users["alice"].hash); cost != bcrypt.MinCost {
		t.Errorf("cost %d; want %d", cost, bcrypt.MinCost)
	}
}

func TestSetPasswordReplaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passwords")
	orig := "# chatd users\nalice:" + hashA + "\n\nbob:" + hashB + "\n"
	if err := os.WriteFile(path, []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := SetPassword(path, "alice", "new", bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	if len(lines) != 5 || lines[0] != "# chatd users" || lines[2] != "" || lines[3] != "bob:"+hashB {
		t.Errorf("other lines changed:\n%s", data)
	}
	tab := mustParseFile(t, path)
	if bcrypt.CompareHashAndPassword(tab.users["alice"].hash, []byte("new")) != nil {
		t.Error("alice's password was not replaced")
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v after rewrite; want 0600", info.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries; want only the file (no temporary left)", len(entries))
	}
}

// TestSetPasswordCanonicalName shows that SetPassword writes the canonical
// form of a name and replaces the user's line whatever form it had.
func TestSetPasswordCanonicalName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passwords")
	if err := os.WriteFile(path, []byte("Jose\u0301:"+hashA+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := SetPassword(path, "José", "new", bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	if err := SetPassword(path, "ｂｏｂ", "b", bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "José:") || !strings.HasPrefix(lines[1], "bob:") {
		t.Errorf("file after SetPassword:\n%+q\nwant a line for \"José\" (NFC), replaced, and one for \"bob\"", lines)
	}
	tab := mustParseFile(t, path)
	if bcrypt.CompareHashAndPassword(tab.users["José"].hash, []byte("new")) != nil {
		t.Error("José's password was not replaced")
	}
}

func TestSetPasswordErrors(t *testing.T) {
	dir := t.TempDir()
	malformed := filepath.Join(dir, "malformed")
	const bad = "alice:plain\n"
	if err := os.WriteFile(malformed, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := filepath.Join(dir, "ok")
	cases := []struct {
		name, path, user, password string
		cost                       int
		want                       string
	}{
		{"bad name", ok, "a b", "pw", bcrypt.MinCost, "name contains whitespace"},
		{"name with colon", ok, "a:b", "pw", bcrypt.MinCost, "name contains ':'"},
		{"name with a zero width space", ok, "ali\u200bce", "pw", bcrypt.MinCost, "name contains invisible or disallowed characters"},
		{"empty password", ok, "alice", "", bcrypt.MinCost, "password is empty"},
		{"long password", ok, "alice", strings.Repeat("p", 73), bcrypt.MinCost, "password is 73 bytes; bcrypt takes at most 72"},
		{"low cost", ok, "alice", "pw", 3, "bcrypt cost 3: want 4 to 31"},
		{"high cost", ok, "alice", "pw", 32, "bcrypt cost 32"},
		{"malformed file", malformed, "bob", "pw", bcrypt.MinCost, "existing file is malformed, not changed: line 1"},
		{"path is a directory", dir, "bob", "pw", bcrypt.MinCost, "is a directory"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := SetPassword(c.path, c.user, c.password, c.cost)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "set password for ") {
				t.Errorf("SetPassword = %v; want an error containing %q", err, c.want)
			}
		})
	}
	if _, err := os.Stat(ok); !os.IsNotExist(err) {
		t.Errorf("a refused SetPassword created the file: %v", err)
	}
	if data, _ := os.ReadFile(malformed); string(data) != bad {
		t.Errorf("malformed file changed to %q", data)
	}
}

func mustParseFile(tb testing.TB, path string) *table {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	tab, err := parse(data)
	if err != nil {
		tb.Fatal(err)
	}
	return tab
}
