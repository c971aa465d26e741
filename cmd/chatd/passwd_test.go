package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/auth/passwords"
)

// passwd runs `chatd passwd args...` with stdin, at bcrypt's lowest cost,
// and returns the exit status and the output.
func passwd(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = runPasswdCost(args, strings.NewReader(stdin), &out, &errOut, bcrypt.MinCost)
	return code, out.String(), errOut.String()
}

// login reports how logging in to the password file at path goes.
func login(t *testing.T, path, name, password string) error {
	t.Helper()
	a, err := passwords.New(passwords.Config{File: path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Authenticate(context.Background(), auth.Credentials{Name: name, Password: password})
	return err
}

func TestPasswdSetsPassword(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "passwords")
	code, stdout, stderr := passwd("s3cret: with spaces\r\nsecond line ignored\n", path, "alice")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if want := path + ": password set for alice\n"; stdout != want {
		t.Errorf("stdout %q; want %q", stdout, want)
	}
	if err := login(t, path, "alice", "s3cret: with spaces"); err != nil {
		t.Errorf("login with the new password: %v", err)
	}
}

// TestPasswdDefaultCost checks that the command itself hashes at
// bcrypt.DefaultCost (the other tests use the lowest cost, for speed).
func TestPasswdDefaultCost(t *testing.T) {
	t.Parallel() // bcrypt at the default cost is slow under -race
	path := filepath.Join(t.TempDir(), "passwords")
	var stdout, stderr bytes.Buffer
	if code := runPasswd([]string{path, "alice"}, strings.NewReader("pw\n"), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, hash, _ := strings.Cut(strings.TrimSpace(string(data)), ":")
	if cost, err := bcrypt.Cost([]byte(hash)); err != nil || cost != bcrypt.DefaultCost {
		t.Errorf("hash cost %d, %v; want bcrypt.DefaultCost", cost, err)
	}
}

func TestPasswdReplacesWithoutFinalNewline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passwords")
	if err := passwords.SetPassword(path, "alice", "old", bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	if err := passwords.SetPassword(path, "bob", "bob's", bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := passwd("new", path, "alice"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if reason, _ := auth.IsRejection(login(t, path, "alice", "old")); reason != auth.ReasonWrongPassword {
		t.Errorf("the old password still works (%q)", reason)
	}
	if err := login(t, path, "bob", "bob's"); err != nil {
		t.Errorf("bob's entry was disturbed: %v", err)
	}
}

func TestPasswdRefuses(t *testing.T) {
	dir := t.TempDir()
	malformed := filepath.Join(dir, "malformed")
	if err := os.WriteFile(malformed, []byte("alice:plain\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(dir, "fresh")
	cases := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string // in stderr
	}{
		{"no arguments", "pw\n", nil, 2, "want FILE and NAME, got 0 arguments"},
		{"one argument", "pw\n", []string{fresh}, 2, "Usage:\n  chatd passwd FILE NAME"},
		{"three arguments", "pw\n", []string{fresh, "alice", "extra"}, 2, "got 3 arguments"},
		{"unknown flag", "pw\n", []string{"-cost", "4", fresh, "alice"}, 2, "flag provided but not defined: -cost"},
		{"empty stdin", "", []string{fresh, "alice"}, 1, "empty password on standard input; refusing to set it"},
		{"empty line", "\nsecond\n", []string{fresh, "alice"}, 1, "empty password"},
		{"CRLF only", "\r\n", []string{fresh, "alice"}, 1, "empty password"},
		{"name with space", "pw\n", []string{fresh, "al ice"}, 1, `chatd passwd: name "al ice": name contains whitespace`},
		{"name with colon", "pw\n", []string{fresh, "a:b"}, 1, "name contains ':'"},
		{"password too long for bcrypt", strings.Repeat("p", 73) + "\n", []string{fresh, "alice"}, 1, "password is 73 bytes; bcrypt takes at most 72"},
		{"line too long", strings.Repeat("p", 5000), []string{fresh, "alice"}, 1, "password line is longer than 1024 bytes"},
		{"malformed file", "pw\n", []string{malformed, "bob"}, 1, "existing file is malformed, not changed: line 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := passwd(c.stdin, c.args...)
			if code != c.code || !strings.Contains(stderr, c.want) || stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and stderr containing %q", code, stdout, stderr, c.code, c.want)
			}
		})
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("a refused passwd created the file: %v", err)
	}
	if data, _ := os.ReadFile(malformed); string(data) != "alice:plain\n" {
		t.Errorf("the malformed file changed: %q", data)
	}
}

func TestPasswdHelp(t *testing.T) {
	code, stdout, stderr := passwd("", "-h")
	if code != 0 || stdout != "" || !strings.Contains(stderr, "printf '%s\\n' \"$PASSWORD\" | chatd passwd ./data/passwords alice") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestRunDispatchesPasswd checks the hook in run, without reading the real
// stdin: a usage error returns before the password is read.
func TestRunDispatchesPasswd(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"passwd", "only-a-file"}, &stdout, &stderr, nil); code != 2 {
		t.Errorf("run passwd with one argument: exit %d; want 2", code)
	}
	if !strings.Contains(stderr.String(), "chatd passwd FILE NAME") {
		t.Errorf("stderr %q; want the passwd usage", stderr.String())
	}
}
