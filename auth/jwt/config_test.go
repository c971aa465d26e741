package jwt_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/auth/authtest"
	"github.com/chatd/chatd/auth/jwt"
)

func TestDefault(t *testing.T) {
	cfg := jwt.Default()
	if cfg != (jwt.Config{Algorithm: "HS256", Leeway: 30 * time.Second, MaxLifetime: 8760 * time.Hour}) {
		t.Errorf("Default() = %+v", cfg)
	}
	// HS256 without a secret must not pass.
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "auth.jwt.secret_file: HS256 needs a shared secret") {
		t.Errorf("Default().Validate() = %v; want the missing secret named", err)
	}
}

func TestValidate(t *testing.T) {
	hs := func(f func(*jwt.Config)) jwt.Config { c := configFor(jwt.HS256); f(&c); return c }
	rs := func(f func(*jwt.Config)) jwt.Config { c := configFor(jwt.RS256); f(&c); return c }
	cases := []struct {
		name string
		cfg  jwt.Config
		want []string // one substring per expected line; nil means valid
	}{
		{"HS256 secret", configFor(jwt.HS256), nil},
		{"HS256 secret file", hs(func(c *jwt.Config) { c.Secret, c.SecretFile = "", "/etc/chatd/jwt.key" }), nil},
		{"RS256", configFor(jwt.RS256), nil},
		{"ES256", configFor(jwt.ES256), nil},
		{"zero leeway", hs(func(c *jwt.Config) { c.Leeway = 0 }), nil},
		{"issuer and audience", hs(func(c *jwt.Config) { c.Issuer, c.Audience = "i", "a" }), nil},
		{"no lifetime limit", hs(func(c *jwt.Config) { c.MaxLifetime = 0 }), nil},
		{"ten-year lifetime", hs(func(c *jwt.Config) { c.MaxLifetime = 87600 * time.Hour }), nil},

		{"unknown algorithm", hs(func(c *jwt.Config) { c.Algorithm = "HS512" }),
			[]string{`auth.jwt.algorithm "HS512": want HS256, RS256 or ES256`}},
		{"lower-case algorithm", hs(func(c *jwt.Config) { c.Algorithm = "hs256" }), []string{`auth.jwt.algorithm "hs256"`}},
		{"none", hs(func(c *jwt.Config) { c.Algorithm = "none" }), []string{`auth.jwt.algorithm "none"`}},
		{"short secret", hs(func(c *jwt.Config) { c.Secret = "short" }), []string{"auth.jwt.secret: 5 bytes; HS256 needs at least 32"}},
		{"both secrets", hs(func(c *jwt.Config) { c.SecretFile = "/x" }), []string{"auth.jwt.secret and auth.jwt.secret_file are both set"}},
		{"no secret", hs(func(c *jwt.Config) { c.Secret = "" }), []string{"HS256 needs a shared secret"}},
		{"HS256 with a key file", hs(func(c *jwt.Config) { c.PublicKeyFile = "/k.pem" }),
			[]string{"auth.jwt.public_key_file: only for RS256 and ES256"}},
		{"RS256 without a key", rs(func(c *jwt.Config) { c.PublicKeyFile = "" }),
			[]string{"auth.jwt.public_key_file: RS256 needs the issuer's PEM public key"}},
		{"RS256 with a secret", rs(func(c *jwt.Config) { c.Secret = secret }),
			[]string{"auth.jwt.secret, auth.jwt.secret_file: only for HS256"}},
		{"negative leeway", hs(func(c *jwt.Config) { c.Leeway = -time.Second }), []string{"auth.jwt.leeway -1s: want 0 to"}},
		{"huge leeway", hs(func(c *jwt.Config) { c.Leeway = time.Hour }), []string{"auth.jwt.leeway 1h0m0s"}},
		{"negative lifetime", hs(func(c *jwt.Config) { c.MaxLifetime = -time.Hour }),
			[]string{`auth.jwt.max_lifetime -1h0m0s: want "0s" (no limit) or more`}},
		{"every problem", jwt.Config{Algorithm: "ES256", Secret: "x", Leeway: -1},
			[]string{"public_key_file", "only for HS256", "leeway"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Validate()
			authtest.CheckValidation(t, err, c.want)
			if c.want == nil {
				return
			}
			if _, err := jwt.New(c.cfg); err == nil {
				t.Error("New accepted a config that fails Validate")
			}
		})
	}
}

func TestNewKeyMaterial(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	hsFile := func(path string) jwt.Config { c := configFor(jwt.HS256); c.Secret, c.SecretFile = "", path; return c }
	key := func(alg, path string) jwt.Config { c := configFor(alg); c.PublicKeyFile = path; return c }
	rsaPEM, err := os.ReadFile(testKeys.rsaPEM)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		cfg  jwt.Config
		want string // substring of New's error; "" means it works
	}{
		{"secret file with newline", hsFile(file("nl", secret+"\n")), ""},
		{"secret file with CRLF", hsFile(file("crlf", secret+"\r\n")), ""},
		{"short secret file", hsFile(file("short", strings.Repeat("s", 31)+"\n")),
			"secret is 31 bytes; HS256 needs at least 32"},
		{"missing secret file", hsFile(filepath.Join(dir, "nope")), "auth.jwt.secret_file: open"},
		{"missing key file", key(jwt.RS256, filepath.Join(dir, "nope")), "auth.jwt.public_key_file: open"},
		{"not PEM", key(jwt.RS256, file("junk.pem", "hello")), "want an RSA public key in PEM"},
		{"EC key for RS256", key(jwt.RS256, testKeys.ecPEM), "want an RSA public key in PEM"},
		{"RSA key for ES256", key(jwt.ES256, testKeys.rsaPEM), "want an ECDSA P-256 public key in PEM"},
		{"P-384 key for ES256", key(jwt.ES256, testKeys.ec384PEM), "ECDSA key on P-384; ES256 needs P-256"},
		{"1024-bit RSA key", key(jwt.RS256, testKeys.rsa1024), "RSA key of 1024 bits; want at least 2048"},
		{"PEM with extra text", key(jwt.RS256, file("commented.pem", "# issuer key\n"+string(rsaPEM))), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := jwt.New(c.cfg)
			if c.want == "" {
				if err != nil || a == nil {
					t.Fatalf("New = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("New = %v; want an error containing %q", err, c.want)
			}
		})
	}
}

func TestSecretFileIsTheSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := configFor(jwt.HS256)
	cfg.Secret, cfg.SecretFile = "", path
	a := newAuth(t, cfg)
	if _, err := a.Authenticate(t.Context(), a.ParseText(sign(t, jwt.HS256, claims("alice")))); err != nil {
		t.Errorf("token signed with the file's secret (without its newline): %v", err)
	}
}
