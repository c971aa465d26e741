package auth

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/secure/bidirule"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/bidi"
	"golang.org/x/text/unicode/norm"
)

// MaxNameLength is the longest user name, in characters (Unicode code
// points) of its canonical form.
const MaxNameLength = 32

// Reasons CanonicalName gives for names that PRECIS refuses; the other name
// rules have their own reasons ("name is empty", ...).
const (
	reasonNameDisallowed = "name contains invisible or disallowed characters"
	reasonNameBidi       = "name breaks the rules for right-to-left text"
	reasonNameMark       = "name starts with a combining mark"
)

// maxRawNameLength is the longest name, in code points as sent, whose
// canonical form can still fit MaxNameLength: enforcement shrinks a name
// only by composing characters (NFC, after width folding, which maps one
// code point to one), and no character has a canonical decomposition of
// more than 4 code points. Longer names are refused before the work.
const maxRawNameLength = 4 * MaxNameLength

var (
	// enforced is precis.UsernameCasePreserved (RFC 8265 §3.3) without
	// its Bidi Rule option. x/text applies that rule to every string that
	// is not ASCII (golang/go#17383), which refuses "José." and "名字-";
	// RFC 8265 applies it only to strings with right-to-left characters,
	// and CanonicalName does so. The profile is safe for concurrent use.
	enforced = precis.NewIdentifier(precis.FoldWidth, precis.Norm(norm.NFC))
	// compared is precis.UsernameCaseMapped (RFC 8265 §3.2), likewise
	// without the Bidi Rule; NameKey runs it on canonical names only.
	compared = precis.NewIdentifier(precis.FoldWidth, precis.LowerCase(), precis.Norm(norm.NFC))
)

// CheckName enforces the name rules (see CanonicalName) and reports only
// whether name passes them. A name that passes may still differ from its
// canonical form (decomposed accents, full-width letters): use
// CanonicalName for the name to keep.
func CheckName(name string) error {
	_, err := CanonicalName(name)
	return err
}

// CanonicalName returns the canonical form of a user name, or a Rejection
// whose reason tells the client what is wrong with it.
//
// A name is 1 to MaxNameLength characters of valid UTF-8 without
// whitespace, control characters or ':', and must pass the PRECIS
// UsernameCasePreserved profile (RFC 8265): letters, digits, combining
// marks and printable ASCII are allowed; invisible and formatting
// characters (U+200B ZERO WIDTH SPACE, U+202E RIGHT-TO-LEFT OVERRIDE,
// U+FEFF, U+00AD SOFT HYPHEN), symbols such as emoji, non-ASCII punctuation,
// compatibility characters (ligatures, superscripts, circled digits) and
// unassigned code points are refused. A name may not start with a
// non-spacing combining mark (such as U+0301), and a name with
// right-to-left characters must satisfy the Bidi Rule (RFC 5893), so that
// it is not shown in an ambiguous order.
//
// The canonical form maps full-width and half-width letters to their usual
// form ("ａｌｉｃｅ" → "alice") and is in Unicode Normalization Form C, so
// "José" typed with a combining accent becomes the same string as "José"
// typed with "é". Case is kept: "Alice" stays "Alice" (NameKey compares
// names without it). The length is counted on the canonical form.
// CanonicalName of a canonical name returns it unchanged.
//
// Reasons, checked in this order: "name is empty", "name is longer than 32
// characters" (for a name too long to fit whatever its form), "name is not
// valid UTF-8", "name contains whitespace", "name contains a control
// character", "name contains ':'", "name contains invisible or disallowed
// characters", "name starts with a combining mark", "name breaks the rules
// for right-to-left text", and "name is longer than 32 characters".
func CanonicalName(name string) (string, error) {
	if plainASCII(name) {
		return name, nil // the common case, checked on every private message
	}
	return canonicalName(name)
}

// plainASCII reports whether name is 1 to MaxNameLength printable ASCII
// characters other than ':'. Such a name is its own canonical form: PRECIS
// allows every printable ASCII character in user names, width mapping and
// NFC leave ASCII alone, and it has no right-to-left letters and no marks.
// TestPlainASCIIAgrees checks this against the full path.
func plainASCII(name string) bool {
	if len(name) == 0 || len(name) > MaxNameLength {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x21 || c > 0x7e || c == ':' {
			return false
		}
	}
	return true
}

// canonicalName is CanonicalName without the ASCII fast path.
func canonicalName(name string) (string, error) {
	switch {
	case name == "":
		return "", Reject("name is empty")
	case utf8.RuneCountInString(name) > maxRawNameLength:
		return "", rejectLong()
	case !utf8.ValidString(name):
		return "", Reject("name is not valid UTF-8")
	}
	if err := checkRunes(name); err != nil {
		return "", err
	}
	canonical, err := enforced.String(name)
	if err != nil {
		return "", Reject(reasonNameDisallowed)
	}
	// Width folding maps "：" (U+FF1A) to ':', so the rules apply again.
	if err := checkRunes(canonical); err != nil {
		return "", err
	}
	// A leading non-spacing mark would sit on whatever is shown before the
	// name. The Bidi Rule refuses it in right-to-left names; this does in
	// the others.
	if p, _ := bidi.LookupString(canonical); p.Class() == bidi.NSM {
		return "", Reject(reasonNameMark)
	}
	if bidirule.DirectionString(canonical) == bidi.RightToLeft && !bidirule.ValidString(canonical) {
		return "", Reject(reasonNameBidi)
	}
	if utf8.RuneCountInString(canonical) > MaxNameLength {
		return "", rejectLong()
	}
	return canonical, nil
}

// NameKey returns the key under which two names look the same to a reader:
// names with equal keys are one name for the chat layer, which refuses a
// login whose key equals that of a different user who is online. A name
// that CanonicalName refuses has the key "", which no valid name has.
//
// The key is the PRECIS UsernameCaseMapped form (RFC 8265) of the canonical
// name, then full Unicode case folding and NFKC. So these are the same name:
// "alice", "Alice" and "ALICE"; "Łukasz" and "łukasz"; "ΟΔΥΣΣΕΥΣ" and
// "οδυσσευς" (final sigma); "straße" and "STRASSE"; "José" precomposed and
// decomposed; "ａｌｉｃｅ" and "alice" (width). Invisible characters never
// get this far: CanonicalName refuses them.
//
// NameKey does not catch look-alikes that are different characters:
// Cyrillic "а" (U+0430) or Greek "ο" against Latin "a" and "o"
// ("аlice" and "alice" have different keys), "I" against "l", "0" against
// "O", "rn" against "m". Catching those needs the confusable skeletons of
// Unicode TS #39, which this package does not implement.
func NameKey(name string) string {
	if plainASCII(name) {
		return strings.ToLower(name) // what the mapping and folding do to ASCII
	}
	return nameKey(name)
}

// nameKey is NameKey without the ASCII fast path.
func nameKey(name string) string {
	canonical, err := canonicalName(name)
	if err != nil {
		return ""
	}
	key, err := compared.String(canonical)
	if err != nil {
		key = canonical // not expected: lower-casing keeps a valid name valid
	}
	// A Caser is not safe for concurrent use: one per call.
	return norm.NFKC.String(cases.Fold().String(key))
}

// checkRunes applies the character rules that have their own reasons.
func checkRunes(name string) error {
	for _, r := range name {
		switch {
		case unicode.IsSpace(r):
			return Reject("name contains whitespace")
		case unicode.IsControl(r):
			return Reject("name contains a control character")
		case r == ':':
			return Reject("name contains ':'")
		}
	}
	return nil
}

func rejectLong() error {
	return Reject(fmt.Sprintf("name is longer than %d characters", MaxNameLength))
}
