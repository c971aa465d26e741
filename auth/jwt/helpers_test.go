package jwt_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/chatd/chatd/auth/jwt"
)

// now is the fixed time the tests' Authenticators see.
var now = time.Unix(1_700_000_000, 0)

// secret is a valid HS256 secret.
var secret = strings.Repeat("s", jwt.MinSecretBytes)

// keys are an issuer's key pairs, generated once per test binary.
type keys struct {
	rsa      *rsa.PrivateKey
	rsaPEM   string // path of the public key, PKIX PEM
	ec       *ecdsa.PrivateKey
	ecPEM    string
	ec384PEM string // a P-384 public key, wrong for ES256
	rsa1024  string // an RSA public key too short for RS256
}

var testKeys keys

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "chatd-jwt-test-")
	if err != nil {
		panic(err)
	}
	testKeys = makeKeys(dir)
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func makeKeys(dir string) keys {
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	write := func(name string, pub any) string {
		der, err := x509.MarshalPKIXPublicKey(pub)
		must(err)
		path := filepath.Join(dir, name)
		must(os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600))
		return path
	}
	var k keys
	var err error
	k.rsa, err = rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	k.rsaPEM = write("rsa.pem", &k.rsa.PublicKey)
	k.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	k.ecPEM = write("ec.pem", &k.ec.PublicKey)
	ec384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	must(err)
	k.ec384PEM = write("ec384.pem", &ec384.PublicKey)
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	must(err)
	k.rsa1024 = write("rsa1024.pem", &rsa1024.PublicKey)
	return k
}

// configFor returns a valid Config for alg with the test keys.
func configFor(alg string) jwt.Config {
	cfg := jwt.Default()
	cfg.Algorithm = alg
	switch alg {
	case jwt.HS256:
		cfg.Secret = secret
	case jwt.RS256:
		cfg.PublicKeyFile = testKeys.rsaPEM
	case jwt.ES256:
		cfg.PublicKeyFile = testKeys.ecPEM
	}
	return cfg
}

// newAuth builds an Authenticator for cfg whose clock reads now.
func newAuth(tb testing.TB, cfg jwt.Config) *jwt.Authenticator {
	tb.Helper()
	a, err := jwt.New(cfg, jwt.WithClock(func() time.Time { return now }))
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// claims returns valid claims for name: issued a minute ago, expiring in an
// hour.
func claims(name string) gojwt.MapClaims {
	return gojwt.MapClaims{
		"sub": name,
		"iat": now.Add(-time.Minute).Unix(),
		"exp": now.Add(time.Hour).Unix(),
	}
}

// sign signs c with alg using the test keys.
func sign(tb testing.TB, alg string, c gojwt.MapClaims) string {
	tb.Helper()
	var key any
	var method gojwt.SigningMethod
	switch alg {
	case jwt.HS256:
		method, key = gojwt.SigningMethodHS256, []byte(secret)
	case jwt.RS256:
		method, key = gojwt.SigningMethodRS256, testKeys.rsa
	case jwt.ES256:
		method, key = gojwt.SigningMethodES256, testKeys.ec
	case "none":
		method, key = gojwt.SigningMethodNone, gojwt.UnsafeAllowNoneSignatureType
	default:
		tb.Fatalf("sign: unknown algorithm %q", alg)
	}
	return signWith(tb, method, key, c)
}

func signWith(tb testing.TB, method gojwt.SigningMethod, key any, c gojwt.MapClaims) string {
	tb.Helper()
	s, err := gojwt.NewWithClaims(method, c).SignedString(key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// with returns a copy of c with the given claims set; a nil value deletes
// the claim.
func with(c gojwt.MapClaims, kv ...any) gojwt.MapClaims {
	out := gojwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

func mustRSA(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func mustEC(tb testing.TB) *ecdsa.PrivateKey {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}
