package auth_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/auth/authtest"
)

// Reasons for names, word for word.
const (
	empty      = "name is empty"
	long       = "name is longer than 32 characters"
	notUTF8    = "name is not valid UTF-8"
	space      = "name contains whitespace"
	control    = "name contains a control character"
	colon      = "name contains ':'"
	disallowed = "name contains invisible or disallowed characters"
	mark       = "name starts with a combining mark"
	bidi       = "name breaks the rules for right-to-left text"
)

// nameCases are names with their canonical form, or the reason they are
// refused. Shared by TestCanonicalName and the fuzz seeds.
var nameCases = []struct {
	name, in, canonical, reason string
}{
	// The tutorials' names, and others that must keep working.
	{"tutorial", "hlq", "hlq", ""},
	{"alice", "alice", "alice", ""},
	{"bob", "bob", "bob", ""},
	{"Chinese", "李雷", "李雷", ""},
	{"accent", "José", "José", ""},
	{"Polish", "Łukasz", "Łukasz", ""},
	{"case kept", "Alice", "Alice", ""},
	{"ASCII punctuation", "a-b_c.d", "a-b_c.d", ""},
	{"accent then dot", "José.", "José.", ""}, // x/text's profile refuses it (golang/go#17383)
	{"CJK then hyphen", "名字-", "名字-", ""},
	{"Hebrew", "שלום", "שלום", ""},
	{"Hebrew then digit", "שלום1", "שלום1", ""},
	{"Catalan middle dot", "l·l", "l·l", ""},
	{"32 characters", strings.Repeat("é", 32), strings.Repeat("é", 32), ""},

	// Normalised.
	{"NFD accent", "Jose\u0301", "José", ""},
	{"full width", "ａｌｉｃｅ", "alice", ""},
	{"half-width katakana", "ｶﾞ", "ガ", ""},
	{"32 characters after NFC", strings.Repeat("e\u0301", 32), strings.Repeat("é", 32), ""},
	{"four code points to one", strings.Repeat("\u03b1\u0313\u0300\u0345", 32), strings.Repeat("\u1f82", 32), ""},

	// The rules that were there before PRECIS, with their reasons.
	{"empty", "", "", empty},
	{"33 characters", strings.Repeat("a", 33), "", long},
	{"33 characters after NFC", strings.Repeat("e\u0301", 33), "", long},
	{"too long whatever its form", strings.Repeat("a", 129), "", long},
	{"invalid UTF-8", "\xff", "", notUTF8},
	{"space", "a b", "", space},
	{"no-break space", "a\u00a0b", "", space},
	{"ideographic space", "a\u3000b", "", space},
	{"tab", "a\tb", "", space},
	{"NUL", "a\x00b", "", control},
	{"DEL", "a\x7fb", "", control},
	{"colon", "a:b", "", colon},
	{"full-width colon", "a：b", "", colon},

	// Invisible and look-alike makers.
	{"zero width space", "ali\u200bce", "", disallowed},
	{"zero width space at the end", "alice\u200b", "", disallowed},
	{"right-to-left override", "\u202eecila", "", disallowed},
	{"byte order mark", "\ufeffalice", "", disallowed},
	{"zero width joiner", "a\u200db", "", disallowed},
	{"left-to-right mark", "\u200ealice", "", disallowed},
	{"first strong isolate", "a\u2068b", "", disallowed},
	{"soft hyphen", "a\u00adb", "", disallowed},
	{"variation selector", "a\ufe0fb", "", disallowed},
	{"tag character", "alice\U000e0041", "", disallowed},
	{"emoji", "😀", "", disallowed},
	{"snowman", "a☃", "", disallowed},
	{"superscript", "x²", "", disallowed},
	{"ligature", "ﬁx", "", disallowed},
	{"em dash", "a—b", "", disallowed},
	{"unassigned", "a\U000e0fff", "", disallowed},
	{"leading combining mark", "\u0301alice", "", mark},

	// The Bidi Rule, for names with right-to-left characters.
	{"Latin then Hebrew", "abcשלום", "", bidi},
	{"digit then Hebrew", "1שלום", "", bidi},
	{"Hebrew then !", "שלום!", "", bidi},
}

func TestCanonicalName(t *testing.T) {
	for _, c := range nameCases {
		t.Run(c.name, func(t *testing.T) {
			got, err := auth.CanonicalName(c.in)
			reason, rejected := auth.IsRejection(err)
			switch {
			case c.reason == "" && (err != nil || got != c.canonical):
				t.Fatalf("CanonicalName(%+q) = %+q, %v; want %+q", c.in, got, err, c.canonical)
			case c.reason != "" && (!rejected || reason != c.reason || got != ""):
				t.Fatalf("CanonicalName(%+q) = %+q, %v; want rejection %q", c.in, got, err, c.reason)
			}
			if err := auth.CheckName(c.in); (err == nil) != (c.reason == "") {
				t.Errorf("CheckName(%+q) = %v; CanonicalName says %v", c.in, err, c.reason)
			}
			if msg := authtest.CheckReason(reason); rejected && msg != "" {
				t.Errorf("reason %q: %s", reason, msg)
			}
		})
	}
}

func TestNameKey(t *testing.T) {
	same := [][]string{
		{"alice", "Alice", "ALICE", "ａｌｉｃｅ", "Ａｌｉｃｅ"},
		{"José", "Jose\u0301", "JOSÉ", "JOSE\u0301"},
		{"Łukasz", "łukasz", "ŁUKASZ"},
		{"οδυσσευς", "ΟΔΥΣΣΕΥΣ", "Οδυσσευσ"},
		{"straße", "STRASSE", "strasse"},
		{"李雷"},
		{"hlq", "HLQ"},
	}
	seen := map[string]string{} // key → first name with it
	for _, group := range same {
		want := auth.NameKey(group[0])
		if want == "" {
			t.Errorf("NameKey(%q) = \"\"; want a key", group[0])
		}
		for _, name := range group[1:] {
			if got := auth.NameKey(name); got != want {
				t.Errorf("NameKey(%+q) = %+q; want %+q, the key of %q", name, got, want, group[0])
			}
		}
		if other, dup := seen[want]; dup {
			t.Errorf("%q and %q have the same key %q", group[0], other, want)
		}
		seen[want] = group[0]
	}
	// Different characters that look alike are not caught (documented).
	for _, pair := range [][2]string{{"alice", "аlice"}, {"bob", "bοb"}, {"Il", "ll"}} {
		if auth.NameKey(pair[0]) == auth.NameKey(pair[1]) {
			t.Errorf("NameKey(%+q) == NameKey(%+q); the documentation says they differ", pair[0], pair[1])
		}
	}
	for _, bad := range []string{"", "a b", "alice\u200b", "\xff", strings.Repeat("a", 33)} {
		if got := auth.NameKey(bad); got != "" {
			t.Errorf("NameKey(%+q) = %+q; want \"\" for a refused name", bad, got)
		}
	}
}

// FuzzCanonicalName checks that CanonicalName never panics, that a refusal
// has a reason fit for a client and no key, and that a canonical name is
// stable: it passes CheckName, is its own canonical form, fits
// MaxNameLength and has the same key as the name it came from. It also
// checks that CanonicalName refuses nothing for PRECIS reasons that x/text's
// UsernameCasePreserved accepts, and gives the same form. Seeds live in
// testdata/fuzz/FuzzCanonicalName.
func FuzzCanonicalName(f *testing.F) {
	for _, c := range nameCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, name string) {
		canonical, err := auth.CanonicalName(name)
		if err != nil {
			reason, ok := auth.IsRejection(err)
			if !ok || canonical != "" {
				t.Fatalf("CanonicalName(%+q) = %+q, %v; want a rejection", name, canonical, err)
			}
			if msg := authtest.CheckReason(reason); msg != "" {
				t.Fatalf("CanonicalName(%+q): reason %q: %s", name, reason, msg)
			}
			if key := auth.NameKey(name); key != "" {
				t.Fatalf("NameKey(%+q) = %+q for a refused name", name, key)
			}
			if want, perr := precis.UsernameCasePreserved.String(name); perr == nil &&
				(reason == disallowed || reason == mark || reason == bidi) {
				t.Fatalf("CanonicalName(%+q): %q; x/text accepts it as %+q", name, reason, want)
			}
			return
		}
		if again, err := auth.CanonicalName(canonical); err != nil || again != canonical {
			t.Fatalf("CanonicalName(%+q) = %+q, but CanonicalName(%+q) = %+q, %v", name, canonical, canonical, again, err)
		}
		if err := auth.CheckName(canonical); err != nil {
			t.Fatalf("CheckName(%+q) = %v for a canonical name", canonical, err)
		}
		if n := utf8.RuneCountInString(canonical); n > auth.MaxNameLength || n == 0 {
			t.Fatalf("CanonicalName(%+q) = %+q, %d characters", name, canonical, n)
		}
		if key := auth.NameKey(name); key == "" || key != auth.NameKey(canonical) {
			t.Fatalf("NameKey(%+q) = %+q, NameKey(%+q) = %+q", name, key, canonical, auth.NameKey(canonical))
		}
		if want, perr := precis.UsernameCasePreserved.String(name); perr == nil && want != canonical {
			t.Fatalf("CanonicalName(%+q) = %+q; x/text's UsernameCasePreserved gives %+q", name, canonical, want)
		}
	})
}
