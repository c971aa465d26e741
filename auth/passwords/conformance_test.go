package passwords_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/auth/authtest"
	"github.com/chatd/chatd/auth/passwords"
)

// testUsers and their passwords; bob's contains ':' and carol's is as long
// as bcrypt allows.
var testUsers = map[string]string{
	"alice":  "correct horse",
	"bob":    "b:o:b",
	"carol":  strings.Repeat("c", passwords.MaxPasswordBytes),
	"Łukasz": "hasło",
	"José":   "contraseña",
	"李雷":     "mima",
}

// writeUsers writes testUsers to a fresh password file at bcrypt's lowest
// cost, to keep tests fast, and returns its path.
func writeUsers(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "passwords")
	for name, password := range testUsers {
		if err := passwords.SetPassword(path, name, password, bcrypt.MinCost); err != nil {
			tb.Fatal(err)
		}
	}
	return path
}

func TestConformance(t *testing.T) {
	path := writeUsers(t)
	authtest.Run(t, authtest.Harness{
		New: func(t *testing.T) auth.Authenticator {
			a, err := passwords.New(passwords.Config{File: path}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return a
		},
		Users: []string{"alice", "bob", "carol", "Łukasz", "José", "李雷"},
		Valid: func(_ *testing.T, name string) auth.Credentials {
			return auth.Credentials{Name: name, Password: testUsers[name]}
		},
		Text: func(_ *testing.T, name string) string { return name + ":" + testUsers[name] },
		BadLogins: func(*testing.T) []authtest.BadLogin {
			wrong := func(name, password string) auth.Credentials {
				return auth.Credentials{Name: name, Password: password}
			}
			return []authtest.BadLogin{
				{Name: "wrong password", Credentials: wrong("alice", "incorrect horse"), Reason: auth.ReasonWrongPassword},
				{Name: "empty password", Credentials: wrong("alice", ""), Reason: auth.ReasonWrongPassword},
				{Name: "password with newline", Credentials: wrong("alice", "correct horse\n"), Reason: auth.ReasonWrongPassword},
				{Name: "another user's password", Credentials: wrong("alice", "b:o:b"), Reason: auth.ReasonWrongPassword},
				{Name: "password past 72 bytes", Credentials: wrong("carol", testUsers["carol"]+"extra"), Reason: auth.ReasonWrongPassword},
				{Name: "name case", Credentials: wrong("Alice", "correct horse"), Reason: auth.ReasonUnknownName},
				{Name: "malformed name", Credentials: wrong("a b", "x"), Reason: auth.ReasonUnknownName},
				{Name: "zero width space", Credentials: wrong("alice\u200b", "correct horse"), Reason: auth.ReasonUnknownName},
				{Name: "right-to-left override", Credentials: wrong("\u202ealice", "correct horse"), Reason: auth.ReasonUnknownName},
				{Name: "byte order mark", Credentials: wrong("\ufeffalice", "correct horse"), Reason: auth.ReasonUnknownName},
			}
		},
		Unknown: "mallory",
	})
}

// TestCanonicalLogin shows that a name logs in, and is looked up, in its
// canonical form.
func TestCanonicalLogin(t *testing.T) {
	a, err := passwords.New(passwords.Config{File: writeUsers(t)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"José", "Jose\u0301"} {
		id, err := a.Authenticate(context.Background(), auth.Credentials{Name: name, Password: testUsers["José"]})
		if err != nil || id.Name != "José" {
			t.Errorf("Authenticate(%+q) = %+v, %v; want José", name, id, err)
		}
		if ok, _ := a.Exists(context.Background(), name); !ok {
			t.Errorf("Exists(%+q) = false; want true", name)
		}
	}
	id, err := a.Authenticate(context.Background(), a.ParseText("ａｌｉｃｅ:correct horse"))
	if err != nil || id.Name != "alice" {
		t.Errorf("full-width alice: %+v, %v; want alice", id, err)
	}
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	malformed := filepath.Join(dir, "malformed")
	if err := os.WriteFile(malformed, []byte("# users\n\nalice\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		cfg  passwords.Config
		want string
	}{
		{"empty path", passwords.Config{}, "auth.passwords.file: want the path"},
		{"missing file", passwords.Config{File: filepath.Join(dir, "nope")}, "no such file or directory (create it with: chatd passwd " + filepath.Join(dir, "nope") + " NAME)"},
		{"malformed", passwords.Config{File: malformed}, "line 3: want name:bcrypt-hash"},
		{"a directory", passwords.Config{File: dir}, "is a directory"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := passwords.New(c.cfg, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "auth.passwords.file: ") {
				t.Errorf("New = %v; want an error starting with auth.passwords.file: and containing %q", err, c.want)
			}
		})
	}
}

func TestDefault(t *testing.T) {
	cfg := passwords.Default()
	if cfg.File != "./data/passwords" {
		t.Errorf("Default().File = %q", cfg.File)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Default().Validate() = %v", err)
	}
}

func ExampleSetPassword() {
	path := filepath.Join(os.TempDir(), fmt.Sprintf("chatd-example-%d", os.Getpid()), "passwords")
	defer os.RemoveAll(filepath.Dir(path))

	// What `chatd passwd FILE NAME` does, at bcrypt's lowest cost for speed.
	if err := passwords.SetPassword(path, "hlq", "s3cret:with colon", bcrypt.MinCost); err != nil {
		panic(err)
	}
	a, err := passwords.New(passwords.Config{File: path}, nil)
	if err != nil {
		panic(err)
	}
	for _, text := range []string{"hlq:s3cret:with colon", "hlq:guess", "bob:guess"} {
		id, err := a.Authenticate(context.Background(), a.ParseText(text))
		if reason, rejected := auth.IsRejection(err); rejected {
			fmt.Printf("%-22q %s\n", text, reason)
			continue
		}
		fmt.Printf("%-22q welcome %s\n", text, id.Name)
	}
	// Output:
	// "hlq:s3cret:with colon" welcome hlq
	// "hlq:guess"            wrong password
	// "bob:guess"            name is not exist
}
