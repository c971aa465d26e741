package jwt_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/auth/authtest"
	"github.com/chatd/chatd/auth/jwt"
)

var algorithms = []string{jwt.HS256, jwt.RS256, jwt.ES256}

func TestConformance(t *testing.T) {
	for _, alg := range algorithms {
		t.Run(alg, func(t *testing.T) {
			authtest.Run(t, authtest.Harness{
				New:   func(t *testing.T) auth.Authenticator { return newAuth(t, configFor(alg)) },
				Users: []string{"alice", "hlq", "Łukasz", "José", "李雷"},
				Valid: func(t *testing.T, name string) auth.Credentials {
					return auth.Credentials{Token: sign(t, alg, claims(name))}
				},
				Text: func(t *testing.T, name string) string { return sign(t, alg, claims(name)) },
				BadLogins: func(t *testing.T) []authtest.BadLogin {
					return []authtest.BadLogin{
						{Name: "garbage", Credentials: auth.Credentials{Token: "not.a.token"}, Reason: auth.ReasonInvalidToken},
						{Name: "name and password", Credentials: auth.Credentials{Name: "alice", Password: "x"}, Reason: auth.ReasonInvalidToken},
						{Name: "expired", Credentials: auth.Credentials{Token: sign(t, alg, with(claims("alice"), "exp", now.Add(-time.Hour).Unix()))},
							Reason: jwt.ReasonExpired},
						{Name: "alg none", Credentials: auth.Credentials{Token: sign(t, "none", claims("alice"))}, Reason: auth.ReasonInvalidToken},
						{Name: "name mismatch", Credentials: auth.Credentials{Name: "bob", Token: sign(t, alg, claims("alice"))},
							Reason: jwt.ReasonNameMismatch},
						{Name: "exp in a string", Credentials: auth.Credentials{Token: sign(t, alg, with(claims("alice"), "exp", "9999999999"))},
							Reason: auth.ReasonInvalidToken},
						{Name: "exp in 9999 years", Credentials: auth.Credentials{Token: sign(t, alg, with(claims("alice"), "iat", nil, "exp", in9999Years))},
							Reason: jwt.ReasonLifetimeTooLong},
						{Name: "sub with a zero width space", Credentials: auth.Credentials{Token: sign(t, alg, claims("alice\u200b"))},
							Reason: auth.ReasonInvalidToken},
					}
				},
			})
		})
	}
}

func TestAccepts(t *testing.T) {
	for _, alg := range algorithms {
		t.Run(alg, func(t *testing.T) {
			cfg := configFor(alg)
			cfg.Issuer, cfg.Audience = "https://id.example.com", "chatd"
			a := newAuth(t, cfg)
			base := with(claims("alice"), "iss", cfg.Issuer, "aud", "chatd")
			cases := map[string]gojwt.MapClaims{
				"all claims":             base,
				"audience in a list":     with(base, "aud", []string{"other", "chatd"}),
				"expired within leeway":  with(base, "exp", now.Add(-29*time.Second).Unix()),
				"nbf within leeway":      with(base, "nbf", now.Add(29*time.Second).Unix()),
				"nbf passed":             with(base, "nbf", now.Add(-time.Second).Unix()),
				"no iat":                 with(base, "iat", nil),
				"fractional exp":         with(base, "exp", float64(now.Add(time.Hour).Unix())+0.5),
				"unrelated extra claims": with(base, "role", "admin", "name", "Alice A."),
			}
			for name, c := range cases {
				id, err := a.Authenticate(context.Background(), auth.Credentials{Token: sign(t, alg, c)})
				if err != nil || id.Name != "alice" || id.MaxSessions != 0 {
					t.Errorf("%s: Authenticate = %+v, %v; want alice", name, id, err)
				}
			}
			id, err := a.Authenticate(context.Background(), auth.Credentials{Name: "alice", Token: sign(t, alg, base)})
			if err != nil || id.Name != "alice" {
				t.Errorf("JSON login with the matching name: %+v, %v", id, err)
			}
		})
	}
}

func TestRejects(t *testing.T) {
	type tc struct {
		name   string
		alg    string // algorithm of the Authenticator
		token  string
		reason string
	}
	var cases []tc
	for _, alg := range algorithms {
		base := with(claims("alice"), "iss", "https://id.example.com", "aud", "chatd")
		tok := func(c gojwt.MapClaims) string { return sign(t, alg, c) }
		cases = append(cases,
			tc{"expired", alg, tok(with(base, "exp", now.Add(-31*time.Second).Unix())), jwt.ReasonExpired},
			tc{"exactly at exp plus leeway", alg, tok(with(base, "exp", now.Add(-30*time.Second).Unix())), jwt.ReasonExpired},
			tc{"not valid yet", alg, tok(with(base, "nbf", now.Add(time.Minute).Unix())), jwt.ReasonNotValidYet},
			tc{"no exp", alg, tok(with(base, "exp", nil)), auth.ReasonInvalidToken},
			tc{"exp as a string", alg, tok(with(base, "exp", "tomorrow")), auth.ReasonInvalidToken},
			tc{"no sub", alg, tok(with(base, "sub", nil)), auth.ReasonInvalidToken},
			tc{"empty sub", alg, tok(with(base, "sub", "")), auth.ReasonInvalidToken},
			tc{"sub with a space", alg, tok(with(base, "sub", "al ice")), auth.ReasonInvalidToken},
			tc{"sub too long", alg, tok(with(base, "sub", strings.Repeat("a", 33))), auth.ReasonInvalidToken},
			tc{"sub a number", alg, tok(with(base, "sub", 42)), auth.ReasonInvalidToken},
			tc{"wrong issuer", alg, tok(with(base, "iss", "https://evil.example.com")), auth.ReasonInvalidToken},
			tc{"no issuer", alg, tok(with(base, "iss", nil)), auth.ReasonInvalidToken},
			tc{"wrong audience", alg, tok(with(base, "aud", "other")), auth.ReasonInvalidToken},
			tc{"no audience", alg, tok(with(base, "aud", nil)), auth.ReasonInvalidToken},
			// Expiry is only told for tokens that are otherwise fine.
			tc{"expired and wrong issuer", alg, tok(with(base, "iss", "x", "exp", now.Add(-time.Hour).Unix())), auth.ReasonInvalidToken},
			tc{"expired and tampered", alg, tamper(tok(with(base, "exp", now.Add(-time.Hour).Unix()))), auth.ReasonInvalidToken},
			tc{"tampered payload", alg, tamper(tok(base)), auth.ReasonInvalidToken},
			tc{"signature cut", alg, tok(base)[:len(tok(base))-4], auth.ReasonInvalidToken},
			tc{"alg none", alg, sign(t, "none", base), auth.ReasonInvalidToken},
			tc{"two segments", alg, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9", auth.ReasonInvalidToken},
			tc{"trailing newline", alg, tok(base) + "\n", auth.ReasonInvalidToken},
			tc{"too long", alg, tok(with(base, "pad", strings.Repeat("p", jwt.MaxTokenBytes))), auth.ReasonInvalidToken},
		)
		// Signed with the right algorithm but another key.
		switch alg {
		case jwt.HS256:
			cases = append(cases, tc{"other secret", alg,
				signWith(t, gojwt.SigningMethodHS256, []byte(strings.Repeat("o", 32)), base), auth.ReasonInvalidToken})
		case jwt.RS256:
			k := mustRSA(t)
			cases = append(cases, tc{"other RSA key", alg, signWith(t, gojwt.SigningMethodRS256, k, base), auth.ReasonInvalidToken})
		case jwt.ES256:
			k := mustEC(t)
			cases = append(cases, tc{"other EC key", alg, signWith(t, gojwt.SigningMethodES256, k, base), auth.ReasonInvalidToken})
		}
		// Every other algorithm, valid in itself, is refused.
		for _, signer := range algorithms {
			if signer != alg {
				cases = append(cases, tc{signer + " token", alg, sign(t, signer, base), auth.ReasonInvalidToken})
			}
		}
	}
	// Algorithm confusion: an HS256 token whose secret is the RS256 or ES256
	// public key file, as an attacker who knows the public key would make.
	for _, alg := range []string{jwt.RS256, jwt.ES256} {
		pub, err := os.ReadFile(configFor(alg).PublicKeyFile)
		if err != nil {
			t.Fatal(err)
		}
		confused := signWith(t, gojwt.SigningMethodHS256, pub, with(claims("alice"), "iss", "https://id.example.com", "aud", "chatd"))
		cases = append(cases, tc{"HS256 signed with the public key", alg, confused, auth.ReasonInvalidToken})
	}

	auths := map[string]*jwt.Authenticator{}
	for _, alg := range algorithms {
		cfg := configFor(alg)
		cfg.Issuer, cfg.Audience = "https://id.example.com", "chatd"
		auths[alg] = newAuth(t, cfg)
	}
	for _, c := range cases {
		t.Run(c.alg+"/"+c.name, func(t *testing.T) {
			id, err := auths[c.alg].Authenticate(context.Background(), auth.Credentials{Token: c.token})
			if reason, ok := auth.IsRejection(err); !ok || reason != c.reason {
				t.Errorf("Authenticate = %+v, %v; want rejection %q", id, err, c.reason)
			}
		})
	}
}

// tamper changes the payload of a token, keeping its signature: the sub
// becomes "admin".
func tamper(token string) string {
	parts := strings.Split(token, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		panic(err)
	}
	payload = []byte(strings.Replace(string(payload), `"sub":"alice"`, `"sub":"admin"`, 1))
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, ".")
}

// in9999Years is an exp 9999 years after now.
var in9999Years = now.AddDate(9999, 0, 0).Unix()

// TestTimeClaimsAreNumbers shows that exp, nbf and iat must be JSON numbers:
// golang-jwt alone takes a number in a string, treats null as no claim and
// wraps numbers past the int64 range.
func TestTimeClaimsAreNumbers(t *testing.T) {
	a := newAuth(t, configFor(jwt.HS256))
	str := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	cases := map[string]gojwt.MapClaims{
		"exp in a string":          with(claims("alice"), "exp", str(time.Hour)),
		"exp of 9999999999 quoted": with(claims("alice"), "exp", "9999999999"),
		"exp past int64":           with(claims("alice"), "exp", 1e300),
		"nbf in a string":          with(claims("alice"), "nbf", str(-time.Minute)),
		"nbf null":                 with(claims("alice"), "nbf", json.RawMessage("null")),
		"iat in a string":          with(claims("alice"), "iat", str(-time.Minute)),
		"iat null":                 with(claims("alice"), "iat", json.RawMessage("null")),
		"iat past 2^53":            with(claims("alice"), "iat", -1e16),
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			id, err := a.Authenticate(context.Background(), auth.Credentials{Token: sign(t, jwt.HS256, c)})
			if reason, _ := auth.IsRejection(err); reason != auth.ReasonInvalidToken {
				t.Errorf("Authenticate = %+v, %v; want rejection %q", id, err, auth.ReasonInvalidToken)
			}
		})
	}
}

func TestMaxLifetime(t *testing.T) {
	const year = 8760 * time.Hour
	at := func(d time.Duration) int64 { return now.Add(d).Unix() }
	base := with(claims("alice"), "iat", nil)
	cases := []struct {
		name   string
		max    time.Duration // auth.jwt.max_lifetime
		claims gojwt.MapClaims
		reason string // "" means accepted
	}{
		{"exp in 9999 years", year, with(base, "exp", in9999Years), jwt.ReasonLifetimeTooLong},
		{"exp in a year and a leeway", year, with(base, "exp", at(year+30*time.Second)), ""},
		{"exp a second later", year, with(base, "exp", at(year+31*time.Second)), jwt.ReasonLifetimeTooLong},
		{"iat a year before exp", year, with(base, "iat", at(-time.Hour), "exp", at(year-time.Hour)), ""},
		{"iat a year and a second before exp", year,
			with(base, "iat", at(-time.Hour-time.Second), "exp", at(year-time.Hour)), jwt.ReasonLifetimeTooLong},
		{"issued long ago, expiring soon", year, with(base, "iat", at(-2*year), "exp", at(time.Hour)), jwt.ReasonLifetimeTooLong},
		{"iat after exp", year, with(base, "iat", at(2*time.Hour), "exp", at(time.Hour)), ""},
		{"short limit", time.Hour, with(base, "exp", at(2*time.Hour)), jwt.ReasonLifetimeTooLong},
		{"expired wins", year, with(base, "iat", at(-2*year), "exp", at(-time.Hour)), jwt.ReasonExpired},
		{"bad sub wins", year, with(base, "sub", "a b", "exp", in9999Years), auth.ReasonInvalidToken},

		{"no limit: exp in 9999 years", 0, with(base, "exp", in9999Years), ""},
		{"no limit: issued long ago", 0, with(base, "iat", at(-100*year), "exp", at(time.Hour)), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := configFor(jwt.HS256)
			cfg.MaxLifetime = c.max
			a := newAuth(t, cfg)
			id, err := a.Authenticate(context.Background(), auth.Credentials{Token: sign(t, jwt.HS256, c.claims)})
			reason, _ := auth.IsRejection(err)
			switch {
			case c.reason == "" && (err != nil || id.Name != "alice"):
				t.Errorf("Authenticate = %+v, %v; want alice", id, err)
			case c.reason != "" && reason != c.reason:
				t.Errorf("Authenticate = %+v, %v; want rejection %q", id, err, c.reason)
			}
		})
	}
}

// TestCanonicalNames shows that the sub and a JSON login's name are
// compared, and the identity named, in their canonical form.
func TestCanonicalNames(t *testing.T) {
	a := newAuth(t, configFor(jwt.HS256))
	cases := []struct{ name, sub, want string }{
		{"", "Jose\u0301", "José"},
		{"Jose\u0301", "José", "José"},
		{"José", "Jose\u0301", "José"},
		{"ａｌｉｃｅ", "alice", "alice"},
	}
	for _, c := range cases {
		id, err := a.Authenticate(context.Background(), auth.Credentials{Name: c.name, Token: sign(t, jwt.HS256, claims(c.sub))})
		if err != nil || id.Name != c.want {
			t.Errorf("name %+q, sub %+q: Authenticate = %+v, %v; want %+q", c.name, c.sub, id, err, c.want)
		}
	}
	_, err := a.Authenticate(context.Background(), auth.Credentials{Name: "Alice", Token: sign(t, jwt.HS256, claims("alice"))})
	if reason, _ := auth.IsRejection(err); reason != jwt.ReasonNameMismatch {
		t.Errorf("name Alice, sub alice: %v; want %q (case matters)", err, jwt.ReasonNameMismatch)
	}
}

func TestClockMoves(t *testing.T) {
	clock := now
	a, err := jwt.New(configFor(jwt.HS256), jwt.WithClock(func() time.Time { return clock }))
	if err != nil {
		t.Fatal(err)
	}
	token := sign(t, jwt.HS256, with(claims("alice"), "nbf", now.Add(time.Hour).Unix(), "exp", now.Add(2*time.Hour).Unix()))
	check := func(at time.Duration, want string) {
		t.Helper()
		clock = now.Add(at)
		_, err := a.Authenticate(context.Background(), auth.Credentials{Token: token})
		reason, _ := auth.IsRejection(err)
		if reason != want {
			t.Errorf("at +%v: %v; want reason %q", at, err, want)
		}
	}
	check(0, jwt.ReasonNotValidYet)
	check(time.Hour-30*time.Second, "")
	check(90*time.Minute, "")
	check(2*time.Hour+29*time.Second, "")
	check(2*time.Hour+30*time.Second, jwt.ReasonExpired)
}

func TestRealClock(t *testing.T) {
	a, err := jwt.New(configFor(jwt.HS256))
	if err != nil {
		t.Fatal(err)
	}
	real := time.Now()
	token := sign(t, jwt.HS256, gojwt.MapClaims{"sub": "alice", "exp": real.Add(time.Minute).Unix()})
	if _, err := a.Authenticate(context.Background(), auth.Credentials{Token: token}); err != nil {
		t.Errorf("a token valid now, checked with the real clock: %v", err)
	}
}
