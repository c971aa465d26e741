package wire

import (
	"encoding/json"
	"unicode/utf8"
)

// DecodeRequest decodes the JSON request b into r, which it zeroes first.
// It accepts and rejects what json.Unmarshal into a zero Request does, sets
// r as json.Unmarshal would, and returns json.Unmarshal's error (decode_test.go
// fuzzes it against json.Unmarshal).
//
// A hand-written scanner decodes the ordinary requests: an object whose keys
// are ASCII without escapes (matched case-insensitively, the last of
// duplicate keys winning, unknown keys skipped), whose values have the field's
// type, whose strings have no escapes and are UTF-8, nested no deeper than 64.
// Anything else, errors included, is handed to json.Unmarshal: so the
// rejections, their error values (a *json.SyntaxError, or a
// *json.UnmarshalTypeError after which the other fields are still set) and
// the rare corners (escapes, invalid UTF-8, Unicode case folding) are
// encoding/json's own.
func DecodeRequest(b []byte, r *Request) error {
	*r = Request{}
	if decodeFast(b, r) {
		return nil
	}
	// A Request of its own, so that r does not escape: a caller's Request
	// on the stack stays there on the fast path.
	q := new(Request)
	err := json.Unmarshal(b, q)
	*r = *q
	return err
}

// Request fields, by kind of value.
const (
	fieldUnknown = iota
	fieldType
	fieldID
	fieldName
	fieldPassword
	fieldToken
	fieldAck
	fieldResume
	fieldRoom
	fieldReceiver
	fieldSender
	fieldData
	fieldUser
	fieldAfter
	fieldBefore
	fieldLimit
	fieldSince
)

// decodeFast decodes b into the zero r, or reports false (r then partly
// set) when b is anything but an ordinary, valid request.
func decodeFast(b []byte, r *Request) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipSpace(b, i+1) == len(b)
	}
	for {
		// A key: ASCII, printable, no escapes.
		if i >= len(b) || b[i] != '"' {
			return false
		}
		k := i + 1
		for i = k; i < len(b) && b[i] != '"'; i++ {
			if c := b[i]; c < 0x20 || c >= utf8.RuneSelf || c == '\\' {
				return false
			}
		}
		if i >= len(b) {
			return false
		}
		f := fieldOf(b[k:i])
		if i = skipSpace(b, i+1); i >= len(b) || b[i] != ':' {
			return false
		}
		if i = decodeField(b, skipSpace(b, i+1), f, r); i < 0 {
			return false
		}
		if i = skipSpace(b, i); i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return skipSpace(b, i+1) == len(b)
		default:
			return false
		}
	}
}

// fieldOf returns the field an ASCII key names, compared as encoding/json
// does: an exact match, or else one ignoring ASCII case (the tags are lower
// case, so lowering the key finds both).
func fieldOf(key []byte) int {
	var low [8]byte
	if len(key) > len(low) {
		return fieldUnknown
	}
	for i, c := range key {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		low[i] = c
	}
	switch string(low[:len(key)]) {
	case "type":
		return fieldType
	case "id":
		return fieldID
	case "name":
		return fieldName
	case "password":
		return fieldPassword
	case "token":
		return fieldToken
	case "ack":
		return fieldAck
	case "resume":
		return fieldResume
	case "room":
		return fieldRoom
	case "receiver":
		return fieldReceiver
	case "sender":
		return fieldSender
	case "data":
		return fieldData
	case "user":
		return fieldUser
	case "after":
		return fieldAfter
	case "before":
		return fieldBefore
	case "limit":
		return fieldLimit
	case "since":
		return fieldSince
	}
	return fieldUnknown
}

// decodeField decodes the value at b[i] into field f of r and returns the
// index past it, or -1 to hand the request to encoding/json.
func decodeField(b []byte, i int, f int, r *Request) int {
	if i >= len(b) {
		return -1
	}
	switch f {
	case fieldType:
		return decodeType(b, i, &r.Type)
	case fieldName:
		return decodeString(b, i, &r.Name)
	case fieldPassword:
		return decodeString(b, i, &r.Password)
	case fieldToken:
		return decodeString(b, i, &r.Token)
	case fieldResume:
		return decodeString(b, i, &r.Resume)
	case fieldRoom:
		return decodeString(b, i, &r.Room)
	case fieldReceiver:
		return decodeString(b, i, &r.Receiver)
	case fieldSender:
		return decodeString(b, i, &r.Sender)
	case fieldUser:
		return decodeString(b, i, &r.User)
	case fieldID:
		return decodeRaw(b, i, &r.ID)
	case fieldData:
		return decodeRaw(b, i, &r.Data)
	case fieldSince:
		return decodeRaw(b, i, &r.Since)
	case fieldAck:
		return decodeBool(b, i, &r.Ack)
	case fieldLimit:
		return decodeInt(b, i, &r.Limit)
	case fieldAfter:
		return decodeCursor(b, i, &r.After)
	case fieldBefore:
		return decodeCursor(b, i, &r.Before)
	}
	return scanValue(b, i, false)
}

// plainString returns the end of the string at b[i] (its closing quote) if
// it has no escapes and is UTF-8, else -1.
func plainString(b []byte, i int) int {
	ascii := true
	j := i + 1
	for ; j < len(b); j++ {
		c := b[j]
		if c == '"' {
			break
		}
		if c < 0x20 || c == '\\' {
			return -1
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	if j >= len(b) || !ascii && !utf8.Valid(b[i+1:j]) {
		return -1
	}
	return j
}

// decodeString sets *s from a plain string; null leaves it as it is, as
// with encoding/json.
func decodeString(b []byte, i int, s *string) int {
	switch b[i] {
	case '"':
		j := plainString(b, i)
		if j < 0 {
			return -1
		}
		*s = string(b[i+1 : j])
		return j + 1
	case 'n':
		return scanLiteral(b, i, "null")
	}
	return -1
}

// knownTypes are the request types, so that decoding one allocates nothing.
var knownTypes = [...]string{TypeMessage, TypeJoin, TypeLeave, TypeWho, TypeRooms, TypeAck, TypeSeen, TypeHistory, TypeLogin}

// decodeType is decodeString for the type, which is usually a known one.
func decodeType(b []byte, i int, s *string) int {
	if b[i] == '"' {
		if j := plainString(b, i); j > 0 {
			for _, t := range knownTypes {
				if string(b[i+1:j]) == t {
					*s = t
					return j + 1
				}
			}
		}
	}
	return decodeString(b, i, s)
}

// decodeRaw sets *raw to a copy of the value at b[i], null included, as
// json.RawMessage's UnmarshalJSON does.
func decodeRaw(b []byte, i int, raw *json.RawMessage) int {
	j := scanValue(b, i, false)
	if j < 0 {
		return -1
	}
	*raw = append((*raw)[:0], b[i:j]...)
	return j
}

// decodeBool sets *v from true or false; null leaves it.
func decodeBool(b []byte, i int, v *bool) int {
	switch b[i] {
	case 't':
		*v = true
		return scanLiteral(b, i, "true")
	case 'f':
		*v = false
		return scanLiteral(b, i, "false")
	case 'n':
		return scanLiteral(b, i, "null")
	}
	return -1
}

// decodeInt sets *v from a whole number that fits an int64 (as
// encoding/json's strconv.ParseInt); null leaves it. A fraction, an
// exponent or an overflow is encoding/json's to report.
func decodeInt(b []byte, i int, v *int) int {
	if b[i] == 'n' {
		return scanLiteral(b, i, "null")
	}
	j := scanNumber(b, i)
	if j < 0 {
		return -1
	}
	neg := b[i] == '-'
	k := i
	if neg {
		k++
	}
	if j-k > 18 { // 19 digits may overflow: leave it to encoding/json
		return -1
	}
	var n int64
	for ; k < j; k++ {
		c := b[k]
		if !isDigit(c) {
			return -1 // a fraction or an exponent
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	if int64(int(n)) != n {
		return -1 // overflows a 32-bit int
	}
	*v = int(n)
	return j
}

// decodeCursor sets *c from a plain string or the text of a number; null
// makes it empty, as Cursor's UnmarshalJSON does.
func decodeCursor(b []byte, i int, c *Cursor) int {
	switch {
	case b[i] == '"':
		j := plainString(b, i)
		if j < 0 {
			return -1
		}
		*c = Cursor(b[i+1 : j])
		return j + 1
	case b[i] == 'n':
		*c = ""
		return scanLiteral(b, i, "null")
	case b[i] == '-' || isDigit(b[i]):
		j := scanNumber(b, i)
		if j < 0 {
			return -1
		}
		*c = Cursor(b[i:j])
		return j
	}
	return -1
}
