package wire

import (
	"bytes"
	"encoding/json"
	"reflect"
	"unicode/utf8"
)

// plainASCII marks the ASCII bytes json.Marshal copies into a string as
// they are: printable, and none of '"', '\\', '<', '>', '&'. Bytes from
// 0x80 are not plain: they are checked as UTF-8.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = true
	}
	t['"'], t['\\'], t['<'], t['>'], t['&'] = false, false, false, false, false
	return t
}()

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string, exactly as json.Marshal writes
// it: '"' and '\\' escaped, control characters as \n, \t, ... or \u00XX,
// '<', '>' and '&' as \u003c, \u003e and \u0026, U+2028 and U+2029 as
// \u2028 and \u2029, and each byte of invalid UTF-8 as \ufffd.
func AppendString[S ~string | ~[]byte](dst []byte, s S) []byte {
	dst = append(dst, '"')
	// Fast path: plain ASCII is copied in one append.
	i := 0
	for i < len(s) && plainASCII[s[i]] {
		i++
	}
	if i == len(s) {
		dst = append(dst, s...)
		return append(dst, '"')
	}
	return appendStringSlow(dst, s, i)
}

// appendStringSlow is AppendString from s[i], the first byte that is not
// plain ASCII; s[:i] is still to be copied.
func appendStringSlow[S ~string | ~[]byte](dst []byte, s S, i int) []byte {
	start := 0
	for i < len(s) {
		c := s[i]
		if plainASCII[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default: // other control characters, '<', '>', '&'
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		n := min(len(s)-i, utf8.UTFMax)
		r, size := utf8.DecodeRuneInString(string(s[i : i+n]))
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// rawType is the type json.Marshal names when a json.RawMessage is not
// JSON.
var rawType = reflect.TypeFor[json.RawMessage]()

// appendRaw appends raw as json.Marshal writes a json.RawMessage: null
// when nil, otherwise compacted with '<', '>', '&', U+2028 and U+2029
// escaped; an error, as json.Marshal's, when raw is not one JSON value.
// Raw that is already compact and has nothing to escape, as a request's
// data usually is, is copied as it is.
func appendRaw(dst []byte, raw json.RawMessage) ([]byte, error) {
	if raw == nil {
		return append(dst, "null"...), nil
	}
	if scanValue(raw, 0, true) == len(raw) {
		return append(dst, raw...), nil
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return dst, &json.MarshalerError{Type: rawType, Err: err}
	}
	out := bytes.NewBuffer(dst)
	json.HTMLEscape(out, compact.Bytes())
	return out.Bytes(), nil
}
