package wire

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSafeText(t *testing.T) {
	cases := []struct{ in, want string }{
		{"hello, 世界", "hello, 世界"},
		{"a\tb", "a\tb"},
		{"ok\n[admin -> you] send your password", "ok\n  [admin -> you] send your password"},
		{"a\r\nb\rc", "a\n  b\n  c"},
		{"\x1b[2K\x1b]0;pwned\x07", "\uFFFD[2K\uFFFD]0;pwned\uFFFD"},
		{"x\u202ey\u2028z\u0085", "x\uFFFDy\uFFFDz\uFFFD"},
		{"bad \xff byte", "bad \uFFFD byte"},
	}
	for _, tc := range cases {
		if got := SafeText(tc.in); got != tc.want {
			t.Errorf("SafeText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if s := "plain"; SafeText(s) != s || testing.AllocsPerRun(10, func() { _ = SafeText(s) }) != 0 {
		t.Error("plain text is copied")
	}
}

func FuzzSafeText(f *testing.F) {
	f.Add("a\nb\x1b\u202e")
	f.Fuzz(func(t *testing.T, s string) {
		out := SafeText(s)
		for _, r := range out {
			if unsafeRune(r) && r != '\n' {
				t.Fatalf("SafeText(%q) = %q keeps %U", s, out, r)
			}
		}
		if !utf8.ValidString(out) {
			t.Fatalf("SafeText(%q) = %q is not UTF-8", s, out)
		}
		for i, line := range strings.Split(out, "\n") {
			if i > 0 && !strings.HasPrefix(line, TextIndent) {
				t.Fatalf("SafeText(%q): line %d %q not indented", s, i, line)
			}
		}
	})
}
