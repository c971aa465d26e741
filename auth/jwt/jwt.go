package jwt

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/chatd/chatd/auth"
)

// Reasons this backend gives besides auth.ReasonInvalidToken.
const (
	ReasonExpired         = "token expired"
	ReasonNotValidYet     = "token not valid yet"
	ReasonNameMismatch    = "name does not match token"
	ReasonLifetimeTooLong = "token lifetime too long"
)

// tokenAlphabet is every byte of a compact JWS: base64url and the dots.
// The base64 decoder would skip '\r' and '\n'; checking first keeps tokens
// exact.
const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."

// MaxTokenBytes bounds the tokens Authenticate looks at; longer ones are
// invalid without being parsed.
const MaxTokenBytes = 8 << 10

// Option changes how New builds an Authenticator; for tests.
type Option func(*Authenticator)

// WithClock makes the Authenticator read the time from now instead of
// time.Now when it checks exp, nbf and the token lifetime.
func WithClock(now func() time.Time) Option {
	return func(a *Authenticator) { a.now = now }
}

// Authenticator verifies tokens. It is safe for concurrent use: everything
// but the key is immutable after New, and Reload swaps the key whole.
type Authenticator struct {
	method      gojwt.SigningMethod
	cfg         Config                    // where the key comes from, for Reload
	key         atomic.Pointer[verifyKey] // the key in force
	now         func() time.Time
	leeway      time.Duration
	maxLifetime time.Duration // 0: no limit
	parser      *gojwt.Parser // safe for concurrent use: its options are only read
}

var _ auth.Authenticator = (*Authenticator)(nil)

// verifyKey is a []byte secret, an *rsa.PublicKey or an *ecdsa.PublicKey,
// matching the method. Immutable.
type verifyKey struct{ k any }

// New returns an Authenticator for cfg, reading its secret or key file. It
// fails if cfg is invalid or the key material is unusable.
func New(cfg Config, opts ...Option) (*Authenticator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	key, err := cfg.key()
	if err != nil {
		return nil, err
	}
	a := &Authenticator{cfg: cfg, now: time.Now, leeway: cfg.Leeway, maxLifetime: cfg.MaxLifetime}
	a.key.Store(&verifyKey{key})
	switch cfg.Algorithm {
	case HS256:
		a.method = gojwt.SigningMethodHS256
	case RS256:
		a.method = gojwt.SigningMethodRS256
	case ES256:
		a.method = gojwt.SigningMethodES256
	}
	for _, o := range opts {
		o(a)
	}
	popts := []gojwt.ParserOption{
		gojwt.WithValidMethods([]string{cfg.Algorithm}),
		gojwt.WithExpirationRequired(),
		gojwt.WithLeeway(cfg.Leeway),
		gojwt.WithTimeFunc(func() time.Time { return a.now() }),
	}
	if cfg.Issuer != "" {
		popts = append(popts, gojwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		popts = append(popts, gojwt.WithAudience(cfg.Audience))
	}
	a.parser = gojwt.NewParser(popts...)
	return a, nil
}

// ParseText takes the whole text as the token, untrimmed.
func (*Authenticator) ParseText(text string) auth.Credentials {
	return auth.Credentials{Token: text, Text: text}
}

// Authenticate verifies c.Token and returns the identity named by its sub
// claim, in its canonical form. See the package documentation for the
// checks and the reasons.
func (a *Authenticator) Authenticate(_ context.Context, c auth.Credentials) (auth.Identity, error) {
	if c.Token == "" || len(c.Token) > MaxTokenBytes || strings.Trim(c.Token, tokenAlphabet) != "" {
		return auth.Identity{}, auth.Reject(auth.ReasonInvalidToken)
	}
	var cl claims
	_, err := a.parser.ParseWithClaims(c.Token, &cl, a.keyFor)
	if err != nil {
		return auth.Identity{}, auth.Reject(reason(err))
	}
	name, err := auth.CanonicalName(cl.Subject)
	if err != nil {
		return auth.Identity{}, auth.Reject(auth.ReasonInvalidToken)
	}
	if a.tooLong(cl.RegisteredClaims) {
		return auth.Identity{}, auth.Reject(ReasonLifetimeTooLong)
	}
	if c.Name != "" {
		if given, err := auth.CanonicalName(c.Name); err != nil || given != name {
			return auth.Identity{}, auth.Reject(ReasonNameMismatch)
		}
	}
	return auth.Identity{Name: name}, nil
}

// tooLong reports whether the token's exp is further than the maximum
// lifetime (plus leeway) from now, or, with an iat, further than the
// maximum lifetime from iat. The parser has checked that exp is there.
func (a *Authenticator) tooLong(c gojwt.RegisteredClaims) bool {
	if a.maxLifetime == 0 {
		return false
	}
	exp := c.ExpiresAt.Time
	// time.Time.Sub saturates instead of overflowing, so exp in the year
	// 10000 is simply too long.
	if exp.Sub(a.now().Add(a.leeway)) > a.maxLifetime {
		return true
	}
	return c.IssuedAt != nil && exp.Sub(c.IssuedAt.Time) > a.maxLifetime
}

// keyFor returns the key for a token signed with the configured method.
// The parser has already refused other algorithms; this is a second lock.
func (a *Authenticator) keyFor(t *gojwt.Token) (any, error) {
	if t.Method != a.method {
		return nil, errors.New("unexpected signing method")
	}
	return a.key.Load().k, nil
}

// Reload rereads auth.jwt.secret_file or auth.jwt.public_key_file, so that
// a rotated key verifies the next token (chatd calls it on SIGHUP). With
// the secret inline there is nothing to reread. A key that cannot be read
// or is unusable leaves the one in force, and the error says why.
func (a *Authenticator) Reload() error {
	k, err := a.cfg.key()
	if err != nil {
		return err
	}
	a.key.Store(&verifyKey{k})
	return nil
}

// reason maps a parse error to the client's reason. Expiry is reported only
// when it is the sole problem of a correctly signed token.
func reason(err error) string {
	if !errors.Is(err, gojwt.ErrTokenInvalidClaims) {
		return auth.ReasonInvalidToken // format, algorithm or signature
	}
	for _, other := range []error{
		gojwt.ErrTokenRequiredClaimMissing,
		gojwt.ErrTokenInvalidIssuer,
		gojwt.ErrTokenInvalidAudience,
		gojwt.ErrTokenInvalidSubject,
		gojwt.ErrTokenUsedBeforeIssued,
		gojwt.ErrTokenInvalidId,
		gojwt.ErrTokenUnverifiable,
		gojwt.ErrInvalidType,
	} {
		if errors.Is(err, other) {
			return auth.ReasonInvalidToken
		}
	}
	switch {
	case errors.Is(err, gojwt.ErrTokenExpired):
		return ReasonExpired
	case errors.Is(err, gojwt.ErrTokenNotValidYet):
		return ReasonNotValidYet
	}
	return auth.ReasonInvalidToken
}
