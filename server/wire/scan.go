package wire

// A hand-written JSON validator shared by the encoders (append.go), which
// copy a json.RawMessage as it is when it is already what json.Marshal
// would write, and by DecodeRequest (decode.go), which skips and copies
// values. It accepts what encoding/json's scanner accepts, except that it
// gives up (reports invalid) where the caller then asks encoding/json:
// nesting deeper than maxScanDepth, and, in compact mode, anything
// json.Marshal would rewrite. Giving up is never wrong, only slower.

// maxScanDepth is how deep scanValue follows nested objects and arrays (one
// bit each in a uint64); deeper values go to encoding/json, whose limit is
// 10000.
const maxScanDepth = 64

// Byte classes inside a JSON string.
const (
	strPlain   = iota // copied as is
	strEnd            // '"'
	strEscape         // '\\'
	strInvalid        // a control character: a syntax error
	strRewrite        // json.Marshal escapes it (<, >, &) or may (0xE2: U+2028, U+2029)
)

// strClass classifies the bytes of a string for scanning a value that may
// be pretty (decoding): only the end, escapes and control bytes matter.
var strClass = func() (t [256]uint8) {
	for c := range 0x20 {
		t[c] = strInvalid
	}
	t['"'] = strEnd
	t['\\'] = strEscape
	return t
}()

// compactClass is strClass for a value that must need no rewriting.
var compactClass = func() (t [256]uint8) {
	t = strClass
	t['<'], t['>'], t['&'] = strRewrite, strRewrite, strRewrite
	t[0xE2] = strRewrite // checked further in scanString
	return t
}()

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipSpace returns the index of the first non-space byte of b from i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// spaceUnless skips space from i unless compact.
func spaceUnless(compact bool, b []byte, i int) int {
	if compact {
		return i
	}
	return skipSpace(b, i)
}

// scanValue validates the JSON value at b[i] and returns the index just
// past it, or -1. With compact, the value must be exactly what json.Marshal
// writes for it as a json.RawMessage: no space between tokens, no byte it
// escapes. Without, space is allowed between tokens, as encoding/json
// allows it. Nothing past the value is looked at.
func scanValue(b []byte, i int, compact bool) int {
	var (
		stack uint64 // one bit per open container: 1 object, 0 array
		depth int
	)
	for {
		// A value starts at i.
		i = spaceUnless(compact, b, i)
		if i >= len(b) {
			return -1
		}
		switch c := b[i]; {
		case c == '{' || c == '[':
			if depth == maxScanDepth {
				return -1
			}
			depth++
			stack <<= 1
			i = spaceUnless(compact, b, i+1)
			if c == '{' {
				stack |= 1
				if i < len(b) && b[i] == '}' {
					i, depth, stack = i+1, depth-1, stack>>1 // {}
					break
				}
				if i = scanKey(b, i, compact); i < 0 {
					return -1
				}
				continue
			}
			if i < len(b) && b[i] == ']' {
				i, depth, stack = i+1, depth-1, stack>>1 // []
				break
			}
			continue
		case c == '"':
			i = scanString(b, i, compact)
		case c == '-' || c >= '0' && c <= '9':
			i = scanNumber(b, i)
		case c == 't':
			i = scanLiteral(b, i, "true")
		case c == 'f':
			i = scanLiteral(b, i, "false")
		case c == 'n':
			i = scanLiteral(b, i, "null")
		default:
			return -1
		}
		if i < 0 {
			return -1
		}
		// A value ended at i: close containers until one takes another
		// element.
		for {
			if depth == 0 {
				return i
			}
			i = spaceUnless(compact, b, i)
			if i >= len(b) {
				return -1
			}
			inObject := stack&1 == 1
			if b[i] == ',' {
				if inObject {
					if i = scanKey(b, spaceUnless(compact, b, i+1), compact); i < 0 {
						return -1
					}
				} else {
					i++
				}
				break
			}
			if inObject && b[i] == '}' || !inObject && b[i] == ']' {
				i++
				depth--
				stack >>= 1
				continue
			}
			return -1
		}
	}
}

// scanKey validates an object's key and its colon at b[i], returning the
// index past the colon.
func scanKey(b []byte, i int, compact bool) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	if i = scanString(b, i, compact); i < 0 {
		return -1
	}
	if i = spaceUnless(compact, b, i); i >= len(b) || b[i] != ':' {
		return -1
	}
	return i + 1
}

// scanString validates the string whose quote is b[i] and returns the index
// past its closing quote. Like encoding/json, it does not check that the
// text is UTF-8.
func scanString(b []byte, i int, compact bool) int {
	class := &strClass
	if compact {
		class = &compactClass
	}
	for i++; i < len(b); i++ {
		switch class[b[i]] {
		case strPlain:
		case strEnd:
			return i + 1
		case strEscape:
			i++
			if i >= len(b) {
				return -1
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) || !isHex(b[i+1]) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) {
					return -1
				}
				i += 4
			default:
				return -1
			}
		case strRewrite:
			// 0xE2 is rewritten only as the start of U+2028 or U+2029.
			if b[i] != 0xE2 || i+2 < len(b) && b[i+1] == 0x80 && b[i+2]&^1 == 0xA8 {
				return -1
			}
		default: // strInvalid
			return -1
		}
	}
	return -1
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// scanNumber validates the number at b[i] (JSON's grammar: no leading
// zeros, no lone sign, dot or exponent) and returns the index past it.
func scanNumber(b []byte, i int) int {
	if b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return -1
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return -1
		}
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return -1
		}
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	return i
}

// scanLiteral checks that lit (true, false, null) is at b[i].
func scanLiteral(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}
