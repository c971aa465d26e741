package authtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/chatd/chatd/auth"
)

// Harness describes one backend to Run. New, Users and Valid are required;
// the other fields are optional.
type Harness struct {
	// New returns a fresh Authenticator. Run calls it once per subtest; it
	// registers its own cleanup with t.Cleanup.
	New func(t *testing.T) auth.Authenticator
	// Users are names that can log in: at least one, each in its canonical
	// form (auth.CanonicalName returns it unchanged). Include one that
	// Unicode normalisation changes, such as "José", so that Run can check
	// its other forms.
	Users []string
	// Valid returns credentials, shaped as a JSON login would be, that log
	// name in. Run also calls it with Unknown, which must then be refused.
	Valid func(t *testing.T, name string) auth.Credentials
	// Text returns the plain-text login message for name; ParseText of it
	// must log name in. Nil when the backend has no plain form to build
	// (Run then only checks that ParseText keeps the text).
	Text func(t *testing.T, name string) string
	// BadLogins are attempts the backend must refuse.
	BadLogins func(t *testing.T) []BadLogin
	// Unknown is a well-formed name that is not a user: Valid(Unknown) must
	// be refused and, for a Directory, Exists(Unknown) must be false. Empty
	// for backends that accept every well-formed name (anonymous, jwt).
	Unknown string
	// MaxSessions is the Identity.MaxSessions every login must return.
	MaxSessions int
	// Block, when set, returns an Authenticator and credentials whose
	// Authenticate blocks until its context is done (an HTTP service that
	// never answers, say). Run cancels and times out such calls.
	Block func(t *testing.T) (auth.Authenticator, auth.Credentials)
}

// BadLogin is one login attempt that must be refused.
type BadLogin struct {
	// Name names the case in failure messages.
	Name string
	// Credentials are what the client sent.
	Credentials auth.Credentials
	// Reason is the exact reason expected; empty accepts any valid reason.
	Reason string
}

// promptly bounds how long a blocking backend may take to notice that its
// context is done. Generous, for loaded CI machines.
const promptly = 5 * time.Second

// Run checks the backend described by h against the auth.Authenticator
// contract, each property in its own subtest.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil || h.Valid == nil || len(h.Users) == 0 {
		t.Fatal("authtest: Harness needs New, Valid and at least one of Users")
	}
	for _, name := range h.Users {
		if canonical, err := auth.CanonicalName(name); err != nil || canonical != name {
			t.Fatalf("authtest: Harness.Users has %+q, not a canonical name: %+q, %v", name, canonical, err)
		}
	}
	t.Run("ValidLogin", func(t *testing.T) { checkValid(t, h) })
	t.Run("BadLogins", func(t *testing.T) { checkBad(t, h) })
	t.Run("Names", func(t *testing.T) { checkNames(t, h) })
	t.Run("ParseText", func(t *testing.T) { checkParseText(t, h) })
	t.Run("Concurrent", func(t *testing.T) { checkConcurrent(t, h) })
	t.Run("Directory", func(t *testing.T) { checkDirectory(t, h) })
	t.Run("Cancel", func(t *testing.T) { checkCancel(t, h) })
}

// badLogins returns the harness's bad logins plus those Run adds: empty
// credentials, and a valid-looking login for the unknown name.
func badLogins(t *testing.T, h Harness) []BadLogin {
	cases := []BadLogin{{Name: "empty credentials"}}
	if h.Unknown != "" {
		cases = append(cases, BadLogin{Name: "unknown name " + h.Unknown, Credentials: h.Valid(t, h.Unknown)})
	}
	if h.BadLogins != nil {
		cases = append(cases, h.BadLogins(t)...)
	}
	return cases
}

func checkValid(t *testing.T, h Harness) {
	a := h.New(t)
	for _, name := range h.Users {
		id, err := a.Authenticate(context.Background(), h.Valid(t, name))
		checkIdentity(t, h, "valid login of "+name, name, id, err)
	}
}

func checkBad(t *testing.T, h Harness) {
	a := h.New(t)
	for _, c := range badLogins(t, h) {
		id, err := a.Authenticate(context.Background(), c.Credentials)
		checkRejection(t, c, id, err)
	}
}

func checkParseText(t *testing.T, h Harness) {
	a := h.New(t)
	odd := []string{"", ":", "::", " ", "a:", ":b", "a:b:c", "\x00", "\xff\xfe", "line\nbreak",
		"é:ü", strings.Repeat("x", 70000), strings.Repeat(":", 100)}
	for _, name := range []string{"alice", "Jose\u0301"} {
		odd = append(odd, name, "ａｌｉｃｅ")
		for _, v := range invisible(name) {
			odd = append(odd, v, v+":x")
		}
	}
	for _, text := range odd {
		c := a.ParseText(text)
		if c.Text != text {
			t.Errorf("ParseText(%.20q).Text = %.20q; want the whole text", text, c.Text)
		}
		id, err := a.Authenticate(context.Background(), c)
		if _, rejected := auth.IsRejection(err); err != nil && !rejected {
			t.Errorf("Authenticate(ParseText(%.20q)) = backend error %v; want an identity or a rejection", text, err)
		} else if err == nil {
			checkCanonical(t, fmt.Sprintf("Authenticate(ParseText(%.20q))", text), id.Name)
		}
	}
	if h.Text == nil {
		return
	}
	for _, name := range h.Users {
		text := h.Text(t, name)
		id, err := a.Authenticate(context.Background(), a.ParseText(text))
		checkIdentity(t, h, "plain-text login "+strings.ToValidUTF8(text, "?"), name, id, err)
	}
}

// invisible returns forms of name with invisible characters that make them
// no valid name: a zero width space, a right-to-left override, a byte order
// mark and a zero width joiner.
func invisible(name string) []string {
	_, n := utf8.DecodeRuneInString(name)
	return []string{name + "\u200b", "\u202e" + name, "\ufeff" + name, name[:n] + "\u200d" + name[n:]}
}

// checkNames checks that names log in only in their canonical form: a user's
// name with an invisible character added must not log in under that name,
// and a user's name in another Unicode form (decomposed accents) is either
// refused or logs in as that user.
func checkNames(t *testing.T, h Harness) {
	a := h.New(t)
	login := func(what string, c auth.Credentials) (auth.Identity, bool) {
		t.Helper()
		id, err := a.Authenticate(context.Background(), c)
		if _, rejected := auth.IsRejection(err); err != nil && !rejected {
			t.Errorf("%s: Authenticate = backend error %v; want an identity or a rejection", what, err)
		}
		if err != nil {
			return auth.Identity{}, false
		}
		checkCanonical(t, what+": Authenticate", id.Name)
		return id, true
	}
	for _, name := range h.Users {
		for _, v := range invisible(name) {
			login(fmt.Sprintf("login of %+q", v), h.Valid(t, v))
			// A valid login of name (with its password, say) under v.
			if c := h.Valid(t, name); c.Name != "" {
				c.Name = v
				login(fmt.Sprintf("login of %+q", v), c)
			}
			if h.Text == nil {
				continue
			}
			login(fmt.Sprintf("plain-text login of %+q", v), a.ParseText(h.Text(t, v)))
			if text := h.Text(t, name); strings.Contains(text, name) {
				text = strings.Replace(text, name, v, 1)
				login(fmt.Sprintf("plain-text login %+q", text), a.ParseText(text))
			}
		}
		nfd := norm.NFD.String(name)
		if nfd == name {
			continue
		}
		same := func(what string, c auth.Credentials) {
			t.Helper()
			if id, ok := login(what, c); ok && id.Name != name {
				t.Errorf("%s: Authenticate = name %+q; want %+q or a rejection", what, id.Name, name)
			}
		}
		same(fmt.Sprintf("login of %+q (NFD)", nfd), h.Valid(t, nfd))
		if c := h.Valid(t, name); c.Name != "" {
			c.Name = nfd
			same(fmt.Sprintf("login of %+q (NFD)", nfd), c)
		}
		if h.Text != nil {
			if text := h.Text(t, name); strings.Contains(text, name) {
				text = strings.Replace(text, name, nfd, 1)
				same(fmt.Sprintf("plain-text login %+q (NFD)", text), a.ParseText(text))
			}
		}
	}
}

// checkCanonical checks that a backend returned a name in its canonical form.
func checkCanonical(t *testing.T, what, name string) {
	t.Helper()
	canonical, err := auth.CanonicalName(name)
	switch {
	case err != nil:
		t.Errorf("%s = name %+q, which CanonicalName refuses: %v", what, name, err)
	case canonical != name:
		t.Errorf("%s = name %+q, not in its canonical form %+q", what, name, canonical)
	}
}

func checkConcurrent(t *testing.T, h Harness) {
	a := h.New(t)
	bad := badLogins(t, h)
	valid := make([]auth.Credentials, len(h.Users))
	for i, name := range h.Users {
		valid[i] = h.Valid(t, name)
	}
	const workers, rounds = 4, 4
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				i := w + r
				name := h.Users[i%len(h.Users)]
				id, err := a.Authenticate(context.Background(), valid[i%len(valid)])
				checkIdentity(t, h, "concurrent login of "+name, name, id, err)
				c := bad[i%len(bad)]
				id, err = a.Authenticate(context.Background(), c.Credentials)
				checkRejection(t, c, id, err)
				if d, ok := a.(auth.Directory); ok {
					if ok, err := d.Exists(context.Background(), name); !ok || err != nil {
						t.Errorf("concurrent Exists(%q) = %v, %v; want true, nil", name, ok, err)
					}
				}
			}
		})
	}
	wg.Wait()
}

func checkDirectory(t *testing.T, h Harness) {
	a := h.New(t)
	d, ok := a.(auth.Directory)
	if !ok {
		t.Skipf("%T does not implement auth.Directory", a)
	}
	exists := func(name string, want bool) {
		t.Helper()
		got, err := d.Exists(context.Background(), name)
		if err != nil || got != want {
			t.Errorf("Exists(%q) = %v, %v; want %v, nil", name, got, err, want)
		}
	}
	for _, name := range h.Users {
		exists(name, true)
		if nfd := norm.NFD.String(name); nfd != name {
			exists(nfd, true) // the same user
		}
		for _, v := range invisible(name) {
			exists(v, false)
		}
	}
	if h.Unknown != "" {
		exists(h.Unknown, false)
	}
	for _, name := range []string{"", "a b", "a:b", "\xff", strings.Repeat("n", auth.MaxNameLength+1)} {
		exists(name, false)
	}
}

func checkCancel(t *testing.T, h Harness) {
	if h.Block == nil {
		t.Skip("backend does not block (Harness.Block is nil)")
	}
	call := func(name string, ctx context.Context, want error) {
		t.Helper()
		a, c := h.Block(t)
		start := time.Now()
		id, err := a.Authenticate(ctx, c)
		took := time.Since(start)
		switch _, rejected := auth.IsRejection(err); {
		case err == nil:
			t.Errorf("%s: Authenticate = %+v, nil; want a backend error", name, id)
		case rejected:
			t.Errorf("%s: Authenticate = rejection %v; want a backend error, not a rejection", name, err)
		case !errors.Is(err, want):
			t.Errorf("%s: Authenticate = %v; want an error wrapping %v", name, err, want)
		}
		if took > promptly {
			t.Errorf("%s: Authenticate took %v; want it to return promptly when its context is done", name, took)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	call("already cancelled", ctx, context.Canceled)

	ctx, cancel = context.WithCancel(context.Background())
	timer := time.AfterFunc(50*time.Millisecond, cancel)
	defer timer.Stop()
	call("cancelled while blocked", ctx, context.Canceled)

	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	call("deadline passed while blocked", ctx, context.DeadlineExceeded)
}

// checkIdentity checks that a login meant for name succeeded with it.
func checkIdentity(t *testing.T, h Harness, what, name string, id auth.Identity, err error) {
	t.Helper()
	switch {
	case err != nil:
		t.Errorf("%s: Authenticate = %v; want identity %q", what, err, name)
	case id.Name != name:
		t.Errorf("%s: Authenticate = name %q; want %q", what, id.Name, name)
	case id.MaxSessions != h.MaxSessions:
		t.Errorf("%s: Authenticate = MaxSessions %d; want %d", what, id.MaxSessions, h.MaxSessions)
	}
}

// checkRejection checks that c was refused with a reason fit for a client.
func checkRejection(t *testing.T, c BadLogin, id auth.Identity, err error) {
	t.Helper()
	reason, rejected := auth.IsRejection(err)
	switch {
	case err == nil:
		t.Errorf("%s: Authenticate = %+v, nil; want a rejection", c.Name, id)
	case !rejected:
		t.Errorf("%s: Authenticate = %v (%T); want a *auth.Rejection", c.Name, err, err)
	case id != auth.Identity{}:
		t.Errorf("%s: rejection came with identity %+v; want the zero Identity", c.Name, id)
	default:
		if msg := CheckReason(reason); msg != "" {
			t.Errorf("%s: reason %q: %s", c.Name, reason, msg)
		}
		if c.Reason != "" && reason != c.Reason {
			t.Errorf("%s: reason %q; want %q", c.Name, reason, c.Reason)
		}
		if !strings.Contains(err.Error(), reason) {
			t.Errorf("%s: Error() = %q; want it to contain the reason %q", c.Name, err.Error(), reason)
		}
	}
}

// CheckReason returns what is wrong with a rejection reason, or "" when it
// is fit to show a client: one line of valid UTF-8 without control
// characters, neither empty nor longer than auth.MaxReasonBytes, and without
// leading or trailing spaces.
func CheckReason(reason string) string {
	switch {
	case reason == "":
		return "empty"
	case len(reason) > auth.MaxReasonBytes:
		return "longer than auth.MaxReasonBytes"
	case !utf8.ValidString(reason):
		return "not valid UTF-8"
	case strings.TrimSpace(reason) != reason:
		return "has leading or trailing spaces"
	}
	for _, r := range reason {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return "contains a control character or line break"
		}
	}
	return ""
}

// CheckValidation checks what a backend Config's Validate returned: nil when
// want is nil; otherwise an error of exactly len(want) lines that contains
// every fragment of want.
func CheckValidation(t testing.TB, err error, want []string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("Validate() = %v; want nil", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("Validate() = nil; want %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Validate() = %q; want it to contain %q", err, w)
		}
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != len(want) {
		t.Errorf("Validate() has %d lines; want %d:\n%v", n, len(want), err)
	}
}
