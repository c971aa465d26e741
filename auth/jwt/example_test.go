package jwt_test

import (
	"context"
	"fmt"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/auth/jwt"
)

func Example() {
	cfg := jwt.Default() // HS256, 30s leeway
	cfg.Secret = "an HS256 secret of 32 bytes or more"
	cfg.Issuer = "https://accounts.example.com"
	a, err := jwt.New(cfg)
	if err != nil {
		panic(err)
	}

	// What the site's account service hands the browser.
	issue := func(sub string, exp time.Time) string {
		token, err := gojwt.NewWithClaims(gojwt.SigningMethodHS256, gojwt.MapClaims{
			"sub": sub, "iss": cfg.Issuer, "exp": exp.Unix(),
		}).SignedString([]byte(cfg.Secret))
		if err != nil {
			panic(err)
		}
		return token
	}
	for _, token := range []string{
		issue("hlq", time.Now().Add(time.Hour)),
		issue("hlq", time.Now().Add(-time.Hour)),
		"not-a-token",
	} {
		id, err := a.Authenticate(context.Background(), a.ParseText(token))
		if reason, rejected := auth.IsRejection(err); rejected {
			fmt.Println("refused:", reason)
			continue
		}
		fmt.Println("welcome", id.Name)
	}
	// Output:
	// welcome hlq
	// refused: token expired
	// refused: invalid token
}
