package wire

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// TextIndent starts each line after the first of a multi-line text in text
// mode, so that no text can pass for a line of its own.
const TextIndent = "  "

// SafeText makes s safe to show as lines on a terminal or in a log: each
// line break (LF, CR LF or CR) is kept and the line after it starts with
// TextIndent, and every other control character (C0 but tab, DEL, C1, and
// the bidi and line/paragraph separators) becomes U+FFFD. Text without
// them is returned as is, unallocated. Invalid UTF-8 becomes U+FFFD too.
func SafeText(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, unsafeRune) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= 0x80 {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		i += size
		switch {
		case r == '\r':
			if i < len(s) && s[i] == '\n' {
				i++
			}
			b.WriteString("\n" + TextIndent)
		case r == '\n':
			b.WriteString("\n" + TextIndent)
		case unsafeRune(r):
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	switch {
	case r == '\t':
		return false
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return true
	case r == '\u2028', r == '\u2029':
		return true
	}
	return unicode.Is(unicode.Bidi_Control, r)
}
