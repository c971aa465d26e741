package jwt_test

import (
	"context"
	"testing"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/auth/jwt"
)

// FuzzAuthenticate feeds arbitrary plain-text logins to an HS256
// Authenticator: it must never panic or fail as a backend, and must accept
// only tokens whose subject is a valid name, which it returns in its
// canonical form. Seeds live in
// testdata/fuzz/FuzzAuthenticate.
func FuzzAuthenticate(f *testing.F) {
	a, err := jwt.New(configFor(jwt.HS256))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sign(f, jwt.HS256, claims("alice")))
	f.Add(sign(f, "none", claims("alice")))
	f.Add(sign(f, jwt.HS256, with(claims("alice"), "exp", "9999999999")))
	f.Add(sign(f, jwt.HS256, with(claims("Jose\u0301"), "exp", now.AddDate(100, 0, 0).Unix())))
	f.Add("eyJhbGciOiJIUzI1NiJ9.e30.")
	f.Add("..")
	f.Fuzz(func(t *testing.T, text string) {
		id, err := a.Authenticate(context.Background(), a.ParseText(text))
		if err == nil {
			if canonical, err := auth.CanonicalName(id.Name); err != nil || canonical != id.Name {
				t.Fatalf("accepted name %+q, not in its canonical form: %v", id.Name, err)
			}
			return
		}
		if _, ok := auth.IsRejection(err); !ok {
			t.Fatalf("backend error %v for %q", err, text)
		}
	})
}
