package jwt

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"

	gojwt "github.com/golang-jwt/jwt/v5"
)

// claims are a token's registered claims, decoded strictly: exp, nbf and
// iat, when present, must be JSON numbers of at most maxNumericDate
// seconds either side of 1970. golang-jwt's NumericDate on its own also
// takes a number in a string ("exp":"9999999999", as encoding/json's
// json.Number does), null (as if the claim were missing), and numbers past
// the int64 range, which it turns into arbitrary times. A token with any of
// those is malformed, so invalid.
type claims struct {
	gojwt.RegisteredClaims
}

// maxNumericDate bounds exp, nbf and iat, in seconds: 2^53, the largest
// integer a float64 holds exactly (some 285 million years).
const maxNumericDate = 1 << 53

// timeClaims are the raw time claims. encoding/json matches their keys the
// same way as RegisteredClaims' (exact first, else case-insensitive; the
// last duplicate wins), so they see the values RegisteredClaims gets.
type timeClaims struct {
	ExpiresAt json.RawMessage `json:"exp"`
	NotBefore json.RawMessage `json:"nbf"`
	IssuedAt  json.RawMessage `json:"iat"`
}

var errNumericDate = errors.New("exp, nbf and iat must be JSON numbers of seconds")

// UnmarshalJSON checks the time claims, then decodes the registered claims.
func (c *claims) UnmarshalJSON(data []byte) error {
	var raw timeClaims
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	for _, v := range []json.RawMessage{raw.ExpiresAt, raw.NotBefore, raw.IssuedAt} {
		if v != nil && !isNumericDate(v) {
			return errNumericDate
		}
	}
	return json.Unmarshal(data, &c.RegisteredClaims)
}

// isNumericDate reports whether v, a JSON value, is a number of at most
// maxNumericDate in magnitude.
func isNumericDate(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
		return false // a string, null, true, false, an object or an array
	}
	f, err := strconv.ParseFloat(string(v), 64)
	return err == nil && math.Abs(f) <= maxNumericDate
}
