package jwt_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/chatd/chatd/auth/jwt"
)

// TestReloadRotatesSecretFile: a secret rotated in auth.jwt.secret_file
// verifies tokens after Reload, and the old one no longer does; before
// Reload the old secret is still in force.
func TestReloadRotatesSecretFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := configFor(jwt.HS256)
	cfg.Secret, cfg.SecretFile = "", path
	a := newAuth(t, cfg)
	rotated := strings.Repeat("r", jwt.MinSecretBytes)
	oldToken := sign(t, jwt.HS256, claims("alice"))
	newToken := signWith(t, gojwt.SigningMethodHS256, []byte(rotated), claims("alice"))
	verifies := func(token string) bool {
		_, err := a.Authenticate(t.Context(), a.ParseText(token))
		return err == nil
	}

	if err := os.WriteFile(path, []byte(rotated+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if !verifies(oldToken) || verifies(newToken) {
		t.Fatal("the key changed before Reload")
	}
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	if verifies(oldToken) || !verifies(newToken) {
		t.Fatal("after Reload: want the rotated secret only")
	}

	// A secret too short is refused and the rotated one stays.
	if err := os.WriteFile(path, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := a.Reload(); err == nil || !strings.Contains(err.Error(), "auth.jwt.secret_file") {
		t.Fatalf("Reload of a short secret: %v", err)
	}
	if !verifies(newToken) {
		t.Fatal("a failed Reload changed the key")
	}
}

// TestReloadRacesAuthenticate: Reload while tokens are verified; run with
// -race.
func TestReloadRacesAuthenticate(t *testing.T) {
	a := newAuth(t, configFor(jwt.ES256))
	token := sign(t, jwt.ES256, claims("alice"))
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if _, err := a.Authenticate(t.Context(), a.ParseText(token)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for range 20 {
		if err := a.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
}
