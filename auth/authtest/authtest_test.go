package authtest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/auth/authtest"
)

// fake is a hand-written backend: users log in as "name:password", names
// matched in their canonical form. Its flaws, when set, break the contract
// on purpose so the suite can be shown to catch them.
type fake struct {
	users map[string]string // canonical name → password; read-only after construction
	flaw  string
}

var (
	_ auth.Authenticator = (*fake)(nil)
	_ auth.Directory     = (*fake)(nil)
)

func (f *fake) ParseText(text string) auth.Credentials {
	name, password, _ := strings.Cut(text, ":")
	c := auth.Credentials{Name: name, Password: password, Text: text}
	if f.flaw == "text dropped" {
		c.Text = ""
	}
	return c
}

func (f *fake) Authenticate(ctx context.Context, c auth.Credentials) (auth.Identity, error) {
	if f.flaw == "blocks" {
		<-ctx.Done()
		return auth.Identity{}, ctx.Err()
	}
	name := c.Name
	if f.flaw == "invisible ignored" {
		name = strings.Trim(name, "\u200b\u202e\ufeff")
	} else if canonical, err := auth.CanonicalName(name); err == nil {
		name = canonical
	}
	password, ok := f.users[name]
	switch {
	case !ok && f.flaw == "multi-line reason":
		return auth.Identity{}, auth.Reject("no such\nuser")
	case !ok:
		return auth.Identity{}, auth.Reject(auth.ReasonUnknownName)
	case password != c.Password:
		return auth.Identity{}, auth.Reject(auth.ReasonWrongPassword)
	case f.flaw == "wrong name":
		return auth.Identity{Name: c.Name + "x"}, nil
	case f.flaw == "invisible ignored" || f.flaw == "name not canonical":
		return auth.Identity{Name: c.Name}, nil
	}
	return auth.Identity{Name: name}, nil
}

func (f *fake) Exists(_ context.Context, name string) (bool, error) {
	if canonical, err := auth.CanonicalName(name); err == nil {
		name = canonical
	}
	_, ok := f.users[name]
	return ok != (f.flaw == "directory lies"), nil
}

func harness(flaw string) authtest.Harness {
	users := map[string]string{"alice": "a-secret", "bob": "b:secret", "Łukasz": "ł", "José": "j"}
	h := authtest.Harness{
		New:   func(*testing.T) auth.Authenticator { return &fake{users: users, flaw: flaw} },
		Users: []string{"alice", "bob", "Łukasz", "José"},
		Valid: func(_ *testing.T, name string) auth.Credentials {
			return auth.Credentials{Name: name, Password: users[name]}
		},
		Text: func(_ *testing.T, name string) string { return name + ":" + users[name] },
		BadLogins: func(*testing.T) []authtest.BadLogin {
			return []authtest.BadLogin{
				{Name: "wrong password", Credentials: auth.Credentials{Name: "alice", Password: "nope"}, Reason: auth.ReasonWrongPassword},
			}
		},
		Unknown: "mallory",
	}
	if flaw == "blocks" {
		h.Block = func(*testing.T) (auth.Authenticator, auth.Credentials) {
			return &fake{flaw: "blocks"}, auth.Credentials{Name: "alice"}
		}
	}
	return h
}

func TestRunFake(t *testing.T) {
	authtest.Run(t, harness(""))
}

// TestRunBlocking runs the cancellation checks against a backend that only
// ever blocks (the rest of the suite runs on the non-blocking fake).
func TestRunBlocking(t *testing.T) {
	h := harness("")
	h.Block = harness("blocks").Block
	authtest.Run(t, h)
}

// brokenEnv selects the flaw when this test binary runs itself.
const brokenEnv = "AUTHTEST_FLAW"

// TestBrokenHelper is not a test on its own: TestRunCatchesFlaws runs it in a
// child process with a flaw set, and expects it to fail.
func TestBrokenHelper(t *testing.T) {
	flaw := os.Getenv(brokenEnv)
	if flaw == "" {
		t.Skip("run by TestRunCatchesFlaws")
	}
	authtest.Run(t, harness(flaw))
}

// TestRunCatchesFlaws shows that the suite fails a backend that breaks the
// contract, with a message that names the problem.
func TestRunCatchesFlaws(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the test binary again")
	}
	cases := []struct{ flaw, want string }{
		{"wrong name", `Authenticate = name "alicex"; want "alice"`},
		{"multi-line reason", "contains a control character or line break"},
		{"text dropped", "want the whole text"},
		{"directory lies", `Exists("alice") = false, <nil>; want true, nil`},
		{"invisible ignored", `login of "alice\u200b": Authenticate = name "alice\u200b", which CanonicalName refuses`},
		{"name not canonical", `login of "Jose\u0301" (NFD): Authenticate = name "Jose\u0301", not in its canonical form "Jos\u00e9"`},
	}
	for _, c := range cases {
		t.Run(c.flaw, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenHelper$", "-test.v")
			cmd.Env = append(os.Environ(), brokenEnv+"="+c.flaw)
			out, err := cmd.CombinedOutput()
			if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) {
				t.Fatalf("child run with flaw %q: err %v; want it to fail\n%s", c.flaw, err, out)
			}
			if !strings.Contains(string(out), c.want) {
				t.Errorf("child run with flaw %q: output lacks %q:\n%s", c.flaw, c.want, out)
			}
		})
	}
}

func TestCheckReason(t *testing.T) {
	cases := map[string]bool{
		auth.ReasonUnknownName:                    true,
		"name is longer than 32 characters":       true,
		"Zugang verweigert: Konto gesperrt (ä ö)": true,
		"":                                       false,
		" padded":                                false,
		"two\nlines":                             false,
		"tab\there":                              false,
		"\xff":                                   false,
		strings.Repeat("r", auth.MaxReasonBytes): true,
		strings.Repeat("r", auth.MaxReasonBytes+1): false,
		"line\u2028separator":                      false,
	}
	for reason, ok := range cases {
		if msg := authtest.CheckReason(reason); (msg == "") != ok {
			t.Errorf("CheckReason(%.20q) = %q; want ok=%v", reason, msg, ok)
		}
	}
}
