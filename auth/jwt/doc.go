// Package jwt is the login backend for signed JSON Web Tokens (RFC 7519)
// issued by another service: the user's chat name is the token's "sub"
// claim.
//
// # Tokens
//
// The plain-text login message is the token itself, in compact form and
// untrimmed: a byte outside base64url and '.' (a trailing newline, say)
// makes it invalid. A JSON login sends it in the "token" field
// (Credentials.Token) and may also send a name, which must then equal the
// token's subject. Tokens longer than MaxTokenBytes are invalid.
//
// Exactly one algorithm is accepted, the configured one (auth.jwt.algorithm):
// HS256 with a shared secret of at least 32 bytes, RS256 with an RSA public
// key of at least 2048 bits, or ES256 with a P-256 public key. A token
// signed with any other algorithm, "none" included, is invalid, so an RS256
// public key can never be used as an HS256 secret. The key material is read
// by New, and again by Reload (chatd calls it on SIGHUP): a key rotated in
// auth.jwt.secret_file or public_key_file verifies the next token after
// it, and one that cannot be read leaves the key in force.
//
// Claims:
//
//   - sub is required and must pass auth.CanonicalName; the identity has
//     its canonical form, and a JSON login's name must have the same
//     canonical form;
//   - exp is required: tokens that never expire are refused;
//   - nbf is checked when present;
//   - exp, nbf and iat, when present, must be JSON numbers (seconds since
//     1970, at most 2^53 either way): a number in a string such as
//     "9999999999", which golang-jwt would take, or null, makes the token
//     invalid;
//   - iss must equal auth.jwt.issuer, and aud must contain auth.jwt.audience,
//     when those are set (the claim is then required);
//   - exp and nbf are compared with a tolerance of auth.jwt.leeway for clock
//     skew between the issuer and chatd;
//   - the token may not live longer than auth.jwt.max_lifetime (default a
//     year; "0s" for no limit): exp may be at most that, plus the leeway,
//     after now, and, when iat is present, at most that after iat.
//
// # Rejections
//
// Reasons shown to the client:
//
//	"invalid token"            bad format, bad signature, wrong algorithm, missing
//	                           or malformed sub, missing exp, exp, nbf or iat not
//	                           a number, wrong iss or aud, an empty or oversized
//	                           token (ReasonInvalidToken)
//	"token expired"            otherwise valid, but past exp (ReasonExpired)
//	"token not valid yet"      otherwise valid, but before nbf (ReasonNotValidYet)
//	"token lifetime too long"  otherwise valid, but exp beyond auth.jwt.max_lifetime
//	                           (ReasonLifetimeTooLong)
//	"name does not match token" a JSON login whose name is not the sub (ReasonNameMismatch)
//
// The expiry and lifetime reasons are only given for a token whose
// signature and every other claim are fine, so they reveal nothing to
// someone without a valid token. Identities have MaxSessions 0, the server's default.
//
// Checking a token is pure computation: Authenticate never blocks, never
// fails as a backend, and ignores its context.
package jwt
