package wsframe

import "unicode/utf8"

// scanUTF8 validates b as the continuation of a text message. It returns how
// many leading bytes form complete, valid code points, and false as soon as a
// byte makes the text invalid. A trailing incomplete sequence that could still
// become valid is not an error: it is left for the next call, which sees it
// again at the start of its input.
func scanUTF8(b []byte) (complete int, valid bool) {
	if utf8.Valid(b) {
		return len(b), true
	}
	i := 0
	for i < len(b) {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			// FullRune is false only for a prefix whose bytes so far are all
			// in range for some valid sequence.
			return i, !utf8.FullRune(b[i:])
		}
		i += size
	}
	return i, true
}
