package jwt

import (
	"crypto/elliptic"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
)

// Algorithms accepted in Config.Algorithm.
const (
	HS256 = "HS256"
	RS256 = "RS256"
	ES256 = "ES256"
)

// Limits on key material.
const (
	MinSecretBytes = 32   // HS256 secrets, as RFC 7518 §3.2 asks
	MinRSABits     = 2048 // RS256 public keys
	maxLeeway      = 10 * time.Minute
)

// Config is the auth.jwt section of the config file.
type Config struct {
	// Algorithm is the one signing algorithm accepted: HS256, RS256 or
	// ES256. Default "HS256".
	Algorithm string `yaml:"algorithm"`
	// Secret is the HS256 shared secret, at least 32 bytes. Prefer
	// SecretFile, which keeps the secret out of the config file. Set one of
	// the two for HS256, neither for RS256 and ES256. Default "".
	Secret string `yaml:"secret"`
	// SecretFile is a file holding the HS256 secret; trailing "\n" and "\r"
	// are ignored, so `echo` output works. Default "".
	SecretFile string `yaml:"secret_file"`
	// PublicKeyFile is the PEM file (PKIX "PUBLIC KEY", PKCS #1 "RSA PUBLIC
	// KEY", or a certificate) with the issuer's public key; required for
	// RS256 (RSA, at least 2048 bits) and ES256 (P-256), not allowed for
	// HS256. Default "".
	PublicKeyFile string `yaml:"public_key_file"`
	// Issuer, when set, is the required value of the iss claim. Default ""
	// (not checked).
	Issuer string `yaml:"issuer"`
	// Audience, when set, must be one of the values of the aud claim.
	// Default "" (not checked).
	Audience string `yaml:"audience"`
	// Leeway is the clock-skew tolerance for exp and nbf, 0 to "10m".
	// Default "30s".
	Leeway time.Duration `yaml:"leeway"`
	// MaxLifetime is the longest a token may be valid for: a token whose
	// exp is further than this (plus Leeway) from now, or, when it has an
	// iat, further than this from its iat, is refused ("token lifetime too
	// long"). 0 or more; "0s" means no limit. Default "8760h" (a year).
	MaxLifetime time.Duration `yaml:"max_lifetime"`
}

// Default returns the defaults. They do not validate on their own: HS256
// needs a secret.
func Default() Config {
	return Config{Algorithm: HS256, Leeway: 30 * time.Second, MaxLifetime: 8760 * time.Hour}
}

// Validate reports every invalid field, one per line. It reads no files:
// New checks the secret and key files themselves.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch c.Algorithm {
	case HS256:
		switch {
		case c.Secret != "" && c.SecretFile != "":
			add("auth.jwt.secret and auth.jwt.secret_file are both set: want one of them")
		case c.Secret == "" && c.SecretFile == "":
			add("auth.jwt.secret_file: HS256 needs a shared secret of at least %d bytes in auth.jwt.secret_file or auth.jwt.secret", MinSecretBytes)
		case c.SecretFile == "" && len(c.Secret) < MinSecretBytes:
			add("auth.jwt.secret: %d bytes; HS256 needs at least %d", len(c.Secret), MinSecretBytes)
		}
		if c.PublicKeyFile != "" {
			add("auth.jwt.public_key_file: only for RS256 and ES256; HS256 uses auth.jwt.secret or auth.jwt.secret_file")
		}
	case RS256, ES256:
		if c.PublicKeyFile == "" {
			add("auth.jwt.public_key_file: %s needs the issuer's PEM public key", c.Algorithm)
		}
		if c.Secret != "" || c.SecretFile != "" {
			add("auth.jwt.secret, auth.jwt.secret_file: only for HS256; %s uses auth.jwt.public_key_file", c.Algorithm)
		}
	default:
		add("auth.jwt.algorithm %q: want HS256, RS256 or ES256", c.Algorithm)
	}
	if c.Leeway < 0 || c.Leeway > maxLeeway {
		add("auth.jwt.leeway %v: want 0 to \"10m\", such as \"30s\"", c.Leeway)
	}
	if c.MaxLifetime < 0 {
		add("auth.jwt.max_lifetime %v: want \"0s\" (no limit) or more, such as \"8760h\"", c.MaxLifetime)
	}
	return errors.Join(errs...)
}

// key reads the verification key c names: a []byte secret, an
// *rsa.PublicKey or an *ecdsa.PublicKey. c is valid.
func (c Config) key() (any, error) {
	switch c.Algorithm {
	case HS256:
		if c.SecretFile == "" {
			return []byte(c.Secret), nil
		}
		data, err := os.ReadFile(c.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("auth.jwt.secret_file: %w", err)
		}
		secret := strings.TrimRight(string(data), "\r\n")
		if len(secret) < MinSecretBytes {
			return nil, fmt.Errorf("auth.jwt.secret_file %s: secret is %d bytes; HS256 needs at least %d", c.SecretFile, len(secret), MinSecretBytes)
		}
		return []byte(secret), nil
	}
	data, err := os.ReadFile(c.PublicKeyFile)
	if err != nil {
		return nil, fmt.Errorf("auth.jwt.public_key_file: %w", err)
	}
	if c.Algorithm == RS256 {
		k, err := gojwt.ParseRSAPublicKeyFromPEM(data)
		if err != nil {
			return nil, fmt.Errorf("auth.jwt.public_key_file %s: want an RSA public key in PEM: %w", c.PublicKeyFile, err)
		}
		if bits := k.N.BitLen(); bits < MinRSABits {
			return nil, fmt.Errorf("auth.jwt.public_key_file %s: RSA key of %d bits; want at least %d", c.PublicKeyFile, bits, MinRSABits)
		}
		return k, nil
	}
	k, err := gojwt.ParseECPublicKeyFromPEM(data)
	if err != nil {
		return nil, fmt.Errorf("auth.jwt.public_key_file %s: want an ECDSA P-256 public key in PEM: %w", c.PublicKeyFile, err)
	}
	if k.Curve != elliptic.P256() {
		return nil, fmt.Errorf("auth.jwt.public_key_file %s: ECDSA key on %s; ES256 needs P-256", c.PublicKeyFile, k.Curve.Params().Name)
	}
	return k, nil
}
