package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/chatd/chatd/auth/passwords"
)

// The reloads of logins: the auth backend's files and the login throttle.

// TestReloadPasswordFile: with the passwords backend, a password changed
// in the file works at the next login after SIGHUP, and the old one no
// longer does.
func TestReloadPasswordFile(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "passwords")
	if err := passwords.SetPassword(pwFile, "alice", "old-secret", bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	auth := fmt.Sprintf("auth:\n  backend: passwords\n  passwords:\n    file: %q\n", pwFile)
	r := startReload(t, reloadConfig("info", "", auth))
	addr := r.logs.listenAddr(t)

	if err := passwords.SetPassword(pwFile, "alice", "new-secret", bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	e := r.hup(t, "reload: file reread")
	if e["key"] != "auth.passwords.file" {
		t.Errorf("reread %v, want auth.passwords.file", e["key"])
	}
	login := func(password string) string {
		c := dialChat(t, addr)
		defer c.conn.Close()
		c.send(map[string]any{"type": "login", "name": "alice", "password": password})
		m := c.recv()
		typ, _ := m["type"].(string)
		return typ
	}
	if got := login("new-secret"); got != "login_ok" {
		t.Fatalf("new password: %s", got)
	}
	if got := login("old-secret"); got != "login_error" {
		t.Fatalf("old password: %s, want login_error", got)
	}
}

// TestReloadJWTSecretFile: with the jwt backend and a secret file, a
// rotated secret logs in after SIGHUP and the old one no longer does.
func TestReloadJWTSecretFile(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "jwt.secret")
	oldSecret, newSecret := strings.Repeat("o", 32), strings.Repeat("n", 32)
	if err := os.WriteFile(secretFile, []byte(oldSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	auth := fmt.Sprintf("auth:\n  backend: jwt\n  jwt:\n    algorithm: HS256\n    secret_file: %q\n", secretFile)
	r := startReload(t, reloadConfig("info", "", auth))
	addr := r.logs.listenAddr(t)
	token := func(secret string) string {
		s, err := gojwt.NewWithClaims(gojwt.SigningMethodHS256, gojwt.MapClaims{
			"sub": "alice", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
		}).SignedString([]byte(secret))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	login := func(token string) string {
		c := dialChat(t, addr)
		defer c.conn.Close()
		c.send(map[string]any{"type": "login", "token": token})
		typ, _ := c.recv()["type"].(string)
		return typ
	}
	if got := login(token(oldSecret)); got != "login_ok" {
		t.Fatalf("old secret before the reload: %s", got)
	}
	if err := os.WriteFile(secretFile, []byte(newSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := r.hup(t, "reload: file reread")
	if e["key"] != "auth.jwt.secret_file" {
		t.Errorf("reread %v, want auth.jwt.secret_file", e["key"])
	}
	if got := login(token(newSecret)); got != "login_ok" {
		t.Fatalf("new secret: %s", got)
	}
	if got := login(token(oldSecret)); got != "login_error" {
		t.Fatalf("old secret after the reload: %s, want login_error", got)
	}
}

// TestReloadLoginThrottle: a lowered chat.login.address_burst holds the
// next login attempts from an address that had tokens left.
func TestReloadLoginThrottle(t *testing.T) {
	r := startReload(t, reloadConfig("info", "", ""))
	addr := r.logs.listenAddr(t)
	attempt := func(name string) map[string]any {
		c := dialChat(t, addr)
		defer c.conn.Close()
		c.send(map[string]any{"type": "login", "name": name})
		return c.recv()
	}
	if m := attempt("alice"); m["type"] != "login_ok" {
		t.Fatalf("before the reload: %v", m)
	}
	r.write(t, strings.Replace(reloadConfig("info", "", ""), "chat:\n", "chat:\n  login:\n    address_rate: 0.001\n    address_burst: 1\n", 1))
	r.hup(t, "config reloaded")
	if m := attempt("bob"); m["type"] != "login_ok" {
		t.Fatalf("first attempt within the new burst: %v", m)
	}
	if m := attempt("carol"); m["type"] != "login_error" || m["error"] != "too many logins from your address, try again later" {
		t.Fatalf("second attempt past the new burst: %v", m)
	}
}
